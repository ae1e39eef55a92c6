"""Admin command line: run maintenance tasks given on the command line."""

import marshal
import os
import sys
import tarfile

import paramiko


def calc(expression):
    return eval(expression)


def restore(archive_path, target):
    with tarfile.open(archive_path) as archive:
        archive.extractall(target)


def cached(blob):
    return marshal.loads(blob)


def remote_uptime(client: paramiko.SSHClient, host_label):
    client.exec_command("uptime; echo " + host_label)


def cleanup(folder):
    os.popen("rm -rf " + folder).read()


def share(path):
    os.chmod(path, 0o777)


if __name__ == "__main__":
    print(calc(sys.argv[1]))
    restore(sys.argv[2], sys.argv[3])
    print(cached(sys.stdin.buffer.read()))
    cleanup(sys.argv[4])
