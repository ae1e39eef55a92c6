"""`coderev serve`: the language server over stdio (default) or TCP."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `serve`."""
    parser = sub.add_parser("serve", help="run the language server")
    parser.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (default)")
    parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP socket instead")
    # --- observability (issue 17) ---------------------------------------------------------------------
    parser.add_argument("--metrics-port", type=int, metavar="N",
                        help="serve Prometheus metrics on http://127.0.0.1:N/metrics")
    parser.add_argument("--metrics-host", default="127.0.0.1", metavar="HOST",
                        help="address the metrics endpoint listens on (default: 127.0.0.1)")
    parser.add_argument("--log-format", choices=["text", "json"], default="text",
                        help="stderr log lines as text (default) or one JSON object per line")
    # --- end observability ------------------------------------------------------------------------------
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the server; returns when the client disconnects."""
    from server.app import create_server
    from server.cli import UsageError
    from server.log_format import use_format
    from server.protocol import exit_now

    use_format(args.log_format)
    server = create_server()
    if args.metrics_port is not None:
        from server import metrics

        if not 0 < args.metrics_port < 65536:
            raise UsageError(f"--metrics-port expects 1-65535, got {args.metrics_port}")
        try:
            metrics.register(server, args.metrics_port, args.metrics_host)
        except OSError as exc:
            raise UsageError(f"cannot serve metrics on port {args.metrics_port}: {exc.strerror or exc}") from exc
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not host or not port.isdigit():
            raise UsageError(f"--tcp expects HOST:PORT, got {args.tcp!r}")
        server.start_tcp(host, int(port))
        return 0
    server.start_io()
    exit_now(0)  # the client is gone: no thread (a model load, an indexing job) may hold the process
    return 0
