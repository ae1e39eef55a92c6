"""A tiny TCP agent that lets the central server trigger backups on this host."""

import os
import socket
import subprocess
import urllib.request

ALLOWED_JOBS = {"daily", "weekly", "monthly"}


def handle(conn):
    request = conn.recv(1024).decode().strip()
    kind, _, argument = request.partition(" ")
    if kind == "run":
        subprocess.run("/usr/local/bin/backup-job " + argument, shell=True, check=False)  # label: command-injection
    elif kind == "job":
        if argument not in ALLOWED_JOBS:
            conn.sendall(b"unknown job\n")
            return
        subprocess.run("/usr/local/bin/backup-job " + argument, shell=True, check=False)  # label: safe command-injection
    elif kind == "fetch":
        with urllib.request.urlopen(argument, timeout=10) as response:  # label: ssrf
            conn.sendall(response.read())
    elif kind == "log":
        with open(argument, "rb") as handle:  # label: path-traversal
            conn.sendall(handle.read())
    elif kind == "job-log":
        with open(os.path.join("/var/log/backup", os.path.basename(argument)), "rb") as handle:  # label: safe path-traversal
            conn.sendall(handle.read())
    elif kind == "mirror":
        with urllib.request.urlopen("https://mirror.example.com/" + argument, timeout=10) as response:  # label: safe ssrf
            conn.sendall(response.read())


def serve(port=7070):
    with socket.create_server(("127.0.0.1", port)) as server:
        while True:
            conn, _ = server.accept()
            with conn:
                handle(conn)
