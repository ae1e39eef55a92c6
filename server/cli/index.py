"""`coderev index PATH` builds or updates a folder's retrieval index; `coderev search QUERY` queries it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ai_core.config import load_pyproject


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `index` and `search`."""
    index = sub.add_parser("index", help="index a folder's Python code for retrieval (LanceDB)")
    index.add_argument("path", type=Path, help="the workspace folder to index")
    index.add_argument("--rebuild", action="store_true", help="drop the index (and its embedding cache) first")
    index.add_argument("--uri", help="where the index lives (default: index_uri from [tool.coderev], "
                       "i.e. PATH/.coderev/index)")
    index.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    index.add_argument("--allow-skipped", action="store_true",
                       help="do not fail (exit 2) when every file found was skipped (unreadable, too large, ...)")
    index.set_defaults(func=run_index)

    search = sub.add_parser("search", help="search the retrieval index of a folder (hybrid: meaning + words)")
    search.add_argument("query", help="words, a symbol name, or a description of the code you want")
    search.add_argument("--path", help="only results in this file or folder")
    search.add_argument("--kind", choices=["module", "class", "function", "method", "window"],
                        help="only chunks of this kind")
    search.add_argument("--limit", "-n", type=int, default=10, help="number of results (default 10)")
    search.add_argument("--json", action="store_true", help="print a JSON list")
    search.add_argument("--mode", choices=["hybrid", "vector", "text"], default="hybrid")
    search.add_argument("--root", type=Path, default=Path("."), help="the indexed folder (default: .)")
    search.add_argument("--uri", help="the index location, if not the folder's default")
    search.set_defaults(func=run_search)


def _open_index(root: Path, uri: str | None) -> Any:
    from ai_core.retrieval import CodeIndex
    from server.cli import UsageError

    if not root.is_dir():
        raise UsageError(f"not a folder: {root}")
    settings, warnings = load_pyproject(root)
    for warning in warnings:
        print(f"coderev: warning: {warning}", file=sys.stderr)
    return CodeIndex(root, settings, uri=uri)


def run_index(args: argparse.Namespace) -> int:
    """Index (or update the index of) a folder, with a progress bar on stderr; exit 2 when every file was skipped."""
    from tqdm import tqdm

    from ai_core.retrieval import StoreError
    from server.cli import UsageError

    index = _open_index(args.path, args.uri)
    bar: Any = None

    def progress(done: int, total: int, message: str) -> None:
        nonlocal bar
        if args.quiet:
            return
        if bar is None:
            bar = tqdm(total=total, unit="file", desc="indexing", file=sys.stderr, dynamic_ncols=True)
        bar.update(done - bar.n)

    try:
        stats = index.rebuild(progress) if args.rebuild else index.sync(progress)
    except StoreError as exc:
        raise UsageError(str(exc)) from exc
    finally:
        if bar is not None:
            bar.close()
    counts = index.stats()
    sys.stdout.write(f"indexed {args.path}: {stats.summary()}\n"
                     f"index {index.uri}: {counts['files']} files, {counts['chunks']} chunks, "
                     f"{counts['bytes'] / 1e6:.1f} MB\n")
    for path, reason in stats.skipped_reasons:
        print(f"coderev: skipped {path}: {reason}", file=sys.stderr)
    if stats.nothing_indexed and not args.allow_skipped:
        print("coderev: error: nothing was indexed: every file or folder found was skipped (see above; "
              "--allow-skipped to exit 0 all the same)", file=sys.stderr)
        return 2
    return 0


def run_search(args: argparse.Namespace) -> int:
    """Print the best matches for a query in the folder's index."""
    from ai_core.retrieval import StoreError
    from ai_core.retrieval.store import is_local
    from server.cli import UsageError

    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    root = args.root.resolve()
    index = _open_index(root, args.uri)
    if is_local(index.uri) and not (Path(index.uri.removeprefix("file://")) / "chunks.lance").exists():
        raise UsageError(f"no index at {index.uri}; run `coderev index {args.root}` first")
    where = args.path
    if where:
        candidate = Path(where).resolve()
        if candidate.is_relative_to(root):
            where = candidate.relative_to(root).as_posix()
    try:
        results = index.search(args.query, limit=args.limit, path=where, kind=args.kind, mode=args.mode)
    except StoreError as exc:
        raise UsageError(str(exc)) from exc
    if args.json:
        sys.stdout.write(json.dumps([r.to_json() for r in results], indent=2) + "\n")
        return 0
    if not results:
        sys.stdout.write("no results\n")
    for result in results:
        first = next((line.strip() for line in result.text.splitlines() if line.strip()), "")
        sys.stdout.write(f"{result.path}:{result.start_line}-{result.end_line}  {result.kind} {result.name}  "
                         f"({result.score:.4f})\n    {first[:100]}\n")
    return 0
