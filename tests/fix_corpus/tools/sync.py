"""Sync files from a remote server given on the command line."""

import sys
import urllib.request


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def read_local(name):
    with open(name) as handle:
        return handle.read()


if __name__ == "__main__":
    print(fetch(sys.argv[1]))
    print(read_local(sys.argv[2]))
