"""The `coderev` command: scan, serve, and the subcommands each module under server/cli adds."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from server.cli import adapter, baseline, fix, index, model, scan, serve, train

# Each subcommand module exposes `add_parser(subparsers)`; its parser sets `func`.
SUBCOMMANDS = [scan, baseline, serve, train, adapter, model, index, fix]


class UsageError(Exception):
    """Bad arguments or input: reported on one line, exit code 2."""


def add_version_argument(parser: argparse.ArgumentParser) -> None:
    """`coderev --version`: the version of coderev and of its engine."""
    from ai_core import __version__

    parser.add_argument("--version", action="version", version=f"coderev {__version__}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="coderev", description="AI code review for Python security.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging on stderr")
    add_version_argument(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is ever downloaded at run time
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"coderev: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
