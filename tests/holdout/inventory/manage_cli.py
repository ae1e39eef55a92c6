import argparse
import os
import shlex
import subprocess

from inventory import storage


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--backup-to")
    parser.add_argument("--bin")
    args = parser.parse_args()
    if args.backup_to:
        os.system("sqlite3 stock.db .dump > " + args.backup_to)  # label: command-injection
        subprocess.run("gzip " + shlex.quote(args.backup_to), shell=True)  # label: safe command-injection
    if args.bin:
        print(storage.Warehouse().items_in_bin(args.bin))  # label: sql-injection
    os.chmod("stock.db", 0o660)  # label: safe security-misconfiguration


if __name__ == "__main__":
    main()
