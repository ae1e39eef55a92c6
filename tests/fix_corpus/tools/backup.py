"""A command line backup tool: shell commands, archives and state files."""

import os
import pickle
import subprocess
import sys

import yaml


def archive(folder):
    subprocess.run(f"tar czf /tmp/backup.tgz {folder}", shell=True, check=True)


def disk_usage(path):
    return subprocess.check_output("du -sh " + path, shell=True).decode()


def notify(user):
    os.system(f"mail -s 'backup done' {user} < /dev/null")


def load_state(path):
    with open(path, "rb") as handle:
        return pickle.load(handle)


def load_plan(text):
    return yaml.load(text, Loader=yaml.Loader)


if __name__ == "__main__":
    archive(sys.argv[1])
    print(disk_usage(sys.argv[2]))
