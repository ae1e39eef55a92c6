"""`coderev serve`: the language server over stdio (default) or TCP."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `serve`."""
    parser = sub.add_parser("serve", help="run the language server")
    parser.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (default)")
    parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP socket instead")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the server; returns when the client disconnects."""
    from server.app import create_server
    from server.cli import UsageError
    from server.protocol import exit_now

    server = create_server()
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not host or not port.isdigit():
            raise UsageError(f"--tcp expects HOST:PORT, got {args.tcp!r}")
        server.start_tcp(host, int(port))
        return 0
    server.start_io()
    exit_now(0)  # the client is gone: no thread (a model load, an indexing job) may hold the process
    return 0
