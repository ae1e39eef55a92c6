"""Retrieval index benchmark on the Django 5.1 source tree.

Prints: files and chunks (and chunking time) of the whole tree; for the indexed set (the whole tree, or
the first --limit files): cold build time and chunks/s, re-index time after touching one file, hybrid
query p50/p95 over 200 queries, index size on disk, peak RSS. With --knowledge it also prints how often
the knowledge base's nearest example has the right class (leave-one-out).

Run: `.venv/bin/python bench/index.py [--limit N] [--threads T] [--knowledge]`. The Django sdist is
fetched once with `pip download --no-binary :all: --no-deps django==5.1 -d bench/.cache` and unpacked
under bench/.cache (gitignored).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from ai_core.config import Settings
from ai_core.files import SourceError, iter_python_files, read_source, relative
from ai_core.retrieval import CodeIndex, default_embedder
from ai_core.retrieval.chunker import chunk_source

CACHE = Path(__file__).resolve().parent / ".cache"
DJANGO = CACHE / "Django-5.1"

PHRASES = [
    "hash a password with a salt", "check whether the user is authenticated", "send an email message",
    "parse an HTTP date header", "escape html special characters", "validate an email address",
    "read a file from the storage backend", "build a SQL query with parameters", "sign a value with a secret key",
    "create a database table migration", "render a template with a context", "redirect to the login page",
    "set a cookie on the response", "compress the response with gzip", "cache a value with a timeout",
    "translate a message to the active language", "serialize objects to json", "paginate a list of objects",
    "generate a random token for csrf", "resolve a url pattern to a view", "format a number with separators",
    "load fixtures into the database", "upload a file from a form", "compare two strings in constant time",
    "close the database connection", "run a management command from the command line",
    "open a transaction and roll back on error", "clean the form field value", "timezone aware datetime now",
    "session expiry date", "sitemap for search engines", "geographic distance between two points",
]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def ensure_django() -> Path:
    """The unpacked Django 5.1 source tree (downloaded once with pip)."""
    if DJANGO.is_dir():
        return DJANGO
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / "Django-5.1.tar.gz"
    if not archive.is_file():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
                        "django==5.1", "-d", str(CACHE)], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(CACHE, filter="data")
    return DJANGO


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def chunk_tree(root: Path) -> tuple[list[Path], int, float]:
    """All Python files, their chunk count and the time chunking took."""
    files = list(iter_python_files(root, Settings().exclude))
    started = time.perf_counter()
    chunks = 0
    for path in files:
        try:
            chunks += len(chunk_source(relative(path, root), read_source(path, 2 * 1024 * 1024)))
        except SourceError:
            continue
    return files, chunks, time.perf_counter() - started


def copy_tree(root: Path, files: list[Path], limit: int, target: Path) -> Path:
    """A copy of the files (or of `limit` of them, spread evenly over the sorted tree) under `target`.

    The benchmark edits a file to time re-indexing: it never touches the source tree itself.
    """
    step = len(files) / limit if limit else 1
    for path in (files[int(i * step)] for i in range(limit or len(files))):
        dest = target / relative(path, root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
    return target


def queries(index: CodeIndex, count: int = 200) -> list[str]:
    """Half symbol names sampled from the index, half descriptions."""
    names = [row["name"] for row in index.store.rows("kind IN ('function', 'method', 'class')", columns=("name",))]
    rng = random.Random(5)
    picked = [name.rsplit(".", 1)[-1] for name in rng.sample(names, min(len(names), count // 2))]
    phrases = [PHRASES[i % len(PHRASES)] for i in range(count - len(picked))]
    mixed = picked + phrases
    rng.shuffle(mixed)
    return mixed


def knowledge_agreement() -> None:
    """Leave-one-out over the shipped examples: is the nearest other example of the same class?"""
    import numpy as np

    from ai_core.retrieval.knowledge import embedding_text, load_examples

    examples = load_examples()
    embedder = default_embedder()
    queries_ = embedder.embed([e.vulnerable for e in examples])
    documents = embedder.embed([embedding_text(e, "vulnerable") for e in examples])
    labels = np.array([e.vuln_class.value for e in examples])
    scores = queries_ @ documents.T
    np.fill_diagonal(scores, -np.inf)
    top1 = float((labels[scores.argmax(1)] == labels).mean())
    top3 = float(np.mean([labels[i] in labels[np.argsort(-scores[i])[:3]] for i in range(len(examples))]))
    print(f"knowledge base: {len(examples)} examples; nearest other example has the same class "
          f"{top1:.0%} (top-1), {top3:.0%} (among 3)")


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--root", type=Path, help="a source tree (default: Django 5.1, fetched once)")
    parser.add_argument("--limit", type=int, default=0, help="index only N files, spread over the tree (0: all)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: shared machine)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--knowledge", action="store_true", help="also measure knowledge-base retrieval")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    root = (args.root or ensure_django()).resolve()
    files, chunks, chunk_s = chunk_tree(root)
    print(f"tree: {root} | {len(files)} Python files, {chunks} chunks (chunking alone {chunk_s:.1f} s)")

    embedder = default_embedder()
    started = time.perf_counter()
    embedder.load()
    print(f"embedding model: {embedder.model_name} on {embedder.device} ({embedder.dtype}), "
          f"{args.threads} torch thread(s), loaded in {time.perf_counter() - started:.1f} s")

    with tempfile.TemporaryDirectory(prefix="coderev-bench-") as scratch:
        work = Path(scratch)
        limit = args.limit if 0 < args.limit < len(files) else 0
        source = copy_tree(root, files, limit, work / "tree")
        if limit:
            print(f"indexing a subset: {limit} of {len(files)} files (evenly spread over the sorted tree)")
        index = CodeIndex(source, Settings(), uri=str(work / "index"), embedder=embedder)

        before = embedder.computed
        stats = index.sync()
        counts = index.stats()
        embedded = embedder.computed - before
        print(f"cold build: {stats.files} files, {counts['chunks']} chunks in {stats.seconds:.1f} s "
              f"= {counts['chunks'] / stats.seconds:.1f} chunks/s ({embedded} embedded)")

        target = next(p for p in sorted(source.rglob("*.py")) if p.stat().st_size > 2000)
        nonce = time.time_ns()
        target.write_text(target.read_text() + f"\n\ndef bench_touched_{nonce}(value):\n    return value * 2\n")
        before = embedder.computed
        started = time.perf_counter()
        touched = index.sync()
        full_scan_s = time.perf_counter() - started
        full_embedded = embedder.computed - before
        target.write_text(target.read_text() + f"\n\ndef bench_again_{nonce}(value):\n    return value * 3\n")
        before = embedder.computed
        started = time.perf_counter()
        index.update([target])
        update_s = time.perf_counter() - started
        print(f"re-index after touching {relative(target, source)}: full sync {full_scan_s * 1000:.0f} ms "
              f"(stats every file, {touched.changed} changed, {full_embedded} embedded); update() of that file "
              f"alone, as on save: {update_s * 1000:.0f} ms ({embedder.computed - before} embedded)")

        asked = queries(index, args.queries)
        for query in asked[:5]:  # warm-up
            index.search(query, limit=10)
        timings, embed_only = [], []
        for query in asked:
            started = time.perf_counter()
            embedder.embed_one(query)
            middle = time.perf_counter()
            index.search(query, limit=10)
            timings.append(time.perf_counter() - middle)
            embed_only.append(middle - started)
        print(f"hybrid query over {len(asked)} queries (vector + full text, RRF, limit 10): "
              f"p50 {percentile(timings, 50) * 1000:.1f} ms, p95 {percentile(timings, 95) * 1000:.1f} ms "
              f"(of which the query embedding p50 {percentile(embed_only, 50) * 1000:.1f} ms)")

        lookups = []
        for name in [q for q in asked if q not in PHRASES][:100]:
            started = time.perf_counter()
            index.find_definitions(name)
            lookups.append(time.perf_counter() - started)
        if lookups:
            print(f"find_definitions over {len(lookups)} names (scalar filter, no embedding): "
                  f"p50 {percentile(lookups, 50) * 1000:.1f} ms, p95 {percentile(lookups, 95) * 1000:.1f} ms")

        just_built = index.store.size_bytes()
        index.store.optimize(keep_versions=timedelta(0))
        print(f"index size on disk: {index.store.size_bytes() / 1e6:.1f} MB compacted "
              f"({just_built / 1e6:.1f} MB before old table versions were dropped; {counts['chunks']} chunks, "
              f"{index.stats()['embeddings']} cached vectors)")
    if args.knowledge:
        knowledge_agreement()
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
