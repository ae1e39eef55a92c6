"""Running the archiving commands."""

import ast
import os
import shlex
import subprocess

import paramiko


def create_archive(source, dest):
    os.system(f"tar czf {dest} {source}")  # label: command-injection


def create_archive_safe(source, dest):
    subprocess.run(["tar", "czf", dest, source], check=True)  # label: safe command-injection


def create_archive_quoted(source, dest):
    subprocess.run(f"tar czf {shlex.quote(dest)} {shlex.quote(source)}", shell=True, check=True)  # label: safe command-injection


def run_hook(hook_command):
    subprocess.run(hook_command, shell=True, check=True)  # label: command-injection


def run_fixed_hook():
    subprocess.run("sync && echo done", shell=True, check=True)  # label: safe command-injection


def compress(path, level):
    subprocess.run("gzip -%d %s" % (int(level), shlex.quote(path)), shell=True, check=True)  # label: safe command-injection


def parse_filter(expression):
    return eval(expression)


def parse_filter_safe(expression):
    return ast.literal_eval(expression)


def open_in_editor(path):
    editor = os.environ.get("EDITOR", "vi")
    subprocess.call(editor + " " + shlex.quote(path), shell=True)  # label: command-injection


def remote_disk_usage(host, mount):
    client = paramiko.SSHClient()
    client.load_system_host_keys()
    client.connect(host)
    _, stdout, _ = client.exec_command("df -h " + mount)
    return stdout.read()


def remote_disk_usage_safe(host, mount):
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # label: sensitive-data-exposure
    client.connect(host)
    _, stdout, _ = client.exec_command("df -h " + shlex.quote(mount))
    return stdout.read()
