"""Command line: backup create|restore|prune|query|hook."""

import argparse
import os
import sqlite3
import subprocess
import sys

from backup import archive, config, remote, runner, state


def build_parser():
    parser = argparse.ArgumentParser(prog="backup")
    parser.add_argument("command", choices=["create", "restore", "query", "hook", "filter", "du"])
    parser.add_argument("--source", default=".")
    parser.add_argument("--dest", default=config.BACKUP_ROOT)
    parser.add_argument("--table", default="runs")
    parser.add_argument("--filter", default="True")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--mount", default="/")
    parser.add_argument("--level", default="6")
    return parser


def query_runs(table):
    db = sqlite3.connect("/var/lib/backup/runs.db")
    return db.execute(f"SELECT * FROM {table} ORDER BY started DESC").fetchall()


def query_runs_safe(table):
    if table not in ("runs", "failures"):
        raise SystemExit("unknown table")
    db = sqlite3.connect("/var/lib/backup/runs.db")
    return db.execute(f"SELECT * FROM {table} ORDER BY started DESC").fetchall()  # label: safe sql-injection


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command == "create":
        runner.create_archive(args.source, args.dest)  # label: command-injection
        runner.create_archive_safe(args.source, args.dest)  # label: safe command-injection
        runner.create_archive_quoted(args.source, args.dest)  # label: safe command-injection
        runner.compress(args.dest, args.level)  # label: safe command-injection
        remote.upload_ftp(args.dest)
    elif args.command == "restore":
        archive.restore_tar(args.source, args.dest)  # label: safe path-traversal
    elif args.command == "query":
        print(query_runs(args.table))  # label: sql-injection
        print(query_runs_safe(args.table))  # label: safe sql-injection
    elif args.command == "hook":
        runner.run_hook(args.source)  # label: command-injection
    elif args.command == "filter":
        keep = runner.parse_filter(args.filter)  # label: code-injection
        keep_safe = runner.parse_filter_safe(args.filter)  # label: safe code-injection
        print(keep, keep_safe)
    elif args.command == "du":
        print(runner.remote_disk_usage(args.host, args.mount))  # label: command-injection
        print(runner.remote_disk_usage_safe(args.host, args.mount))  # label: safe command-injection
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "version":
        subprocess.run(["git", "describe", "--tags"], check=False)  # label: safe command-injection
    sys.exit(main())
