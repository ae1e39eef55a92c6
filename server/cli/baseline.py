"""`coderev baseline PATH -o FILE`: record today's findings so that `coderev scan --baseline FILE` hides them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ai_core.report import build_report
from ai_core.report.baseline import baseline_json
from server.cli.scan import add_scan_arguments, scan_target, write_output


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `baseline`."""
    parser = sub.add_parser("baseline", help="record the current findings as accepted (for scan --baseline)")
    parser.add_argument("path", type=Path, help="folder or Python file to scan")
    parser.add_argument("--output", "-o", type=Path, required=True, help="the baseline file to write")
    add_scan_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Scan and write every finding's fingerprint; exit 0."""
    result, _ = scan_target(args)
    report = build_report(result)
    write_output(baseline_json(report), args.output)
    print(f"coderev: baseline of {len(report.items)} finding(s) written to {args.output}", file=sys.stderr)
    return 0
