"""The model's accuracy, speed and footprint: rules alone vs rules + model, latency, load time, RSS, sizes.

Prints, for the held-out validation families (rendered as whole files) and for the project's own corpus
(tests/corpus, with its labels file), per-class precision/recall/F1 of the rules alone and of the rules
plus the model (threshold + function-level mode); the classifier's own validation metrics; latency per
candidate (p50/p95 at batch 1 and 32); model load time per variant; RSS of the real server with the
model loaded; adapter and variant sizes.
Run: `.venv/bin/python bench/model.py [--per-family 6] [--variant fp32] [--skip-server]`.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from ai_core.analysis import Analyzer  # noqa: E402
from ai_core.config import Settings  # noqa: E402
from ai_core.files import iter_python_files, read_source  # noqa: E402
from ai_core.findings import SAFE_LABEL, Finding, VulnClass  # noqa: E402
from ai_core.model.adapters import Adapter, AdapterRegistry  # noqa: E402
from ai_core.model.classifier import ADAPTER_FILE  # noqa: E402
from ai_core.model.data.dataset import DataConfig, build, val_families  # noqa: E402
from ai_core.model.data.generator import generate  # noqa: E402
from ai_core.model.data.templates import FAMILIES  # noqa: E402
from ai_core.model.predictor import ModelScorer, load_scorer  # noqa: E402
from ai_core.model.review import Reviewer  # noqa: E402
from tests.corpus.make_labels import collect  # noqa: E402

CLASSES = [c.value for c in VulnClass]


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (0..100)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


class Tally:
    """Per-class true/false positives and false negatives."""

    def __init__(self) -> None:
        self.tp = dict.fromkeys(CLASSES, 0)
        self.fp = dict.fromkeys(CLASSES, 0)
        self.fn = dict.fromkeys(CLASSES, 0)

    def prf(self, cls: str) -> tuple[float, float, float]:
        """Precision, recall, F1 of one class."""
        tp, fp, fn = self.tp[cls], self.fp[cls], self.fn[cls]
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def micro(self) -> tuple[float, float, float]:
        """Micro-averaged precision, recall, F1."""
        tp, fp, fn = sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values())
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def macro_f1(self) -> float:
        """Mean F1 over classes with any gold positive."""
        present = [c for c in CLASSES if self.tp[c] + self.fn[c]]
        return sum(self.prf(c)[2] for c in present) / len(present) if present else 0.0


def print_table(title: str, tallies: dict[str, Tally]) -> None:
    """Per-class P/R/F1 side by side for each system."""
    names = list(tallies)
    print(f"\n{title}")
    header = f"  {'class':<26}" + "".join(f"| {n:^20} " for n in names)
    print(header)
    print(f"  {'':<26}" + "".join(f"| {'P':>6}{'R':>7}{'F1':>7} " for _ in names))
    for cls in CLASSES:
        support = tallies[names[0]].tp[cls] + tallies[names[0]].fn[cls]
        row = f"  {cls:<20}{support:>5} "
        for n in names:
            p, r, f = tallies[n].prf(cls)
            row += f"| {p:6.2f}{r:7.2f}{f:7.2f} "
        print(row)
    row = f"  {'micro':<26}"
    for n in names:
        p, r, f = tallies[n].micro()
        row += f"| {p:6.2f}{r:7.2f}{f:7.2f} "
    print(row)
    print(f"  {'macro F1':<26}" + "".join(f"| {tallies[n].macro_f1():>20.3f} " for n in names))


# ---------------------------------------------------------------- validation families as files
def data_config_of(adapter: Adapter) -> DataConfig:
    """The data recipe `adapter` was trained on, read from its manifest (defaults for what it does not record)."""
    recorded = adapter.manifest.get("data_config", {})
    known = {f.name for f in dataclasses.fields(DataConfig)}
    return DataConfig(**{key: value for key, value in recorded.items() if key in known})


def family_split(adapter: Adapter) -> bool:
    """Whether `adapter` was validated on held-out template families (not on a random sample of all of them)."""
    return data_config_of(adapter).val_share > 0


def validation_files(adapter: Adapter, per_family: int, seed: int) -> list[tuple[str, str]]:
    """(text, gold label) for `per_family` vulnerable and safe files of each family `adapter` held out."""
    config = data_config_of(adapter)
    held = val_families(config.seed, config.val_share)
    rng = random.Random(seed)
    files = []
    for family in FAMILIES:
        if family.name not in held:
            continue
        for safe in (False, True):
            for _ in range(per_family):
                sample = generate(family, safe, rng, twin=False)  # no decoy twin: the file's truth is known
                files.append(("\n".join(sample.lines) + "\n", SAFE_LABEL if safe else family.vuln_class.value))
    return files


def tally_files(files: Iterable[tuple[str, str]], analyzer: Analyzer) -> Tally:
    """File-level: a file counts as flagged for a class when any finding of that class is in it."""
    tally = Tally()
    for text, gold in files:
        found = {f.vuln_class.value for f in analyzer.analyze_text(text, "sample.py")}
        for cls in CLASSES:
            if cls == gold:
                tally.tp[cls] += cls in found
                tally.fn[cls] += cls not in found
            elif cls in found:
                tally.fp[cls] += 1
    return tally


# ---------------------------------------------------------------- the project's corpus
def load_labels(corpus: Path) -> list[dict[str, Any]] | None:
    """Labels next to the corpus (labels.json / labels.jsonl / labels.toml): path, line, class, vulnerable."""
    import tomllib

    for name in ("labels.json", "labels.jsonl", "labels.toml"):
        path = corpus / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if name.endswith(".jsonl"):
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        elif name.endswith(".toml"):
            data = tomllib.loads(text)
            rows = next((v for v in data.values() if isinstance(v, list)), [])
        else:
            data = json.loads(text)
            rows = data if isinstance(data, list) else next((v for v in data.values() if isinstance(v, list)), [])
        return [normalise_label(row) for row in rows]
    return None


def normalise_label(row: dict[str, Any]) -> dict[str, Any]:
    """Accept a few spellings: class/vuln_class/cwe-class, vulnerable/positive/expected/kind."""
    cls = row.get("class") or row.get("vuln_class") or row.get("id") or row.get("category")
    if "vulnerable" in row:
        positive = bool(row["vulnerable"])
    elif "positive" in row:
        positive = bool(row["positive"])
    elif "expected" in row:
        positive = row["expected"] not in (False, "safe", "negative", "none")
    else:
        positive = str(row.get("kind", row.get("label", "positive"))).lower() in {"positive", "vulnerable", "tp"}
    return {"path": str(row.get("path") or row.get("file")), "line": int(row.get("line", 0)), "class": cls,
            "positive": positive}


def _extent(text: str, finding: Finding) -> tuple[int, int]:
    """1-based lines a finding covers: the whole function for a model-only finding, else its own line.

    The function's extent includes its decorators, as in training (ai_core.model.data.loop).
    """
    if not finding.model_only:
        return finding.span.start_line + 1, finding.span.start_line + 1
    from ai_core.parsing import ParsedDocument
    from ai_core.parsing.tree import enclosing_function, node_at

    node = enclosing_function(node_at(ParsedDocument(text), finding.span), include_decorators=True)
    if node is None:
        return finding.span.start_line + 1, finding.span.start_line + 1
    return node.start_point[0] + 1, node.end_point[0] + 1


def tally_corpus(labels: list[dict[str, Any]], findings: dict[str, list[tuple[Finding, tuple[int, int]]]]) -> Tally:
    """Location-aware: a finding matches a label of its class on its line (model-only: within its function).

    Findings that match no positive label count as false positives (the labels are exhaustive).
    """
    tally = Tally()
    used: set[int] = set()
    for label in labels:
        cls = label["class"]
        if cls not in CLASSES:
            continue
        hits = [f for f, (lo, hi) in findings.get(label["path"], [])
                if f.vuln_class.value == cls and lo <= label["line"] <= hi]
        if label["positive"]:
            tally.tp[cls] += bool(hits)
            tally.fn[cls] += not hits
            used.update(id(f) for f in hits)
    for items in findings.values():
        for f, _ in items:
            if id(f) not in used:
                tally.fp[f.vuln_class.value] += 1
    return tally


_MARKER = re.compile(r"\s*#\s*label:.*$")


def analyze_corpus(corpus: Path, analyzer: Analyzer) -> dict[str, list[tuple[Finding, tuple[int, int]]]]:
    """Findings per corpus-relative path, analyzed with the `# label:` markers blanked out (same lines)."""
    out: dict[str, list[tuple[Finding, tuple[int, int]]]] = {}
    for path in iter_python_files(corpus, Settings().exclude):
        if path.parent == corpus:
            continue  # tools next to the apps, not corpus code
        rel = path.relative_to(corpus).as_posix()
        text = "\n".join(_MARKER.sub("", line) for line in read_source(path, 8 << 20).split("\n"))
        out[rel] = [(f, _extent(text, f)) for f in analyzer.analyze_text(text, str(path))]
    return out


# ---------------------------------------------------------------- speed and footprint
def latency(scorer: ModelScorer, texts: Sequence[str]) -> dict[str, float]:
    """ms per candidate at batch 1 (p50/p95 over single calls) and batch 32 (p50/p95 over batches)."""
    from ai_core.model.classifier import logits

    model, max_length = scorer.model, scorer.max_length
    logits(model, texts[:4], max_length, 4)  # warm up
    singles = []
    for text in texts[:64]:
        t0 = time.perf_counter()
        logits(model, [text], max_length, 1)
        singles.append((time.perf_counter() - t0) * 1000)
    batches = []
    for start in range(0, min(len(texts), 256), 32):
        chunk = texts[start: start + 32]
        t0 = time.perf_counter()
        logits(model, chunk, max_length, 32)
        batches.append((time.perf_counter() - t0) * 1000 / len(chunk))
    return {"b1_p50": statistics.median(singles), "b1_p95": percentile(singles, 95),
            "b32_p50": statistics.median(batches), "b32_p95": percentile(batches, 95)}


async def server_rss(variant: str) -> tuple[float, float]:
    """(MB RSS, seconds to 'model loaded') of the real `coderev serve` with the model on."""
    from lsprotocol import types
    from pytest_lsp import LanguageClient, client_capabilities
    from pytest_lsp.client import make_test_lsp_client

    from tests.lsp_support import SERVER_ENV

    client: LanguageClient = make_test_lsp_client()
    started = time.perf_counter()
    await client.start_io(sys.executable, "-m", "server.cli", "serve", env=SERVER_ENV)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        await client.initialize_session(types.InitializeParams(
            capabilities=client_capabilities("neovim"), root_uri=root.as_uri(),
            initialization_options={"coderev": {"modelEnabled": True, "modelVariant": variant,
                                                "indexEnabled": False}}))
        while not any("model loaded" in m.message for m in client.log_messages):
            if any("model unavailable" in m.message for m in client.log_messages):
                raise RuntimeError("the server could not load the model")
            await asyncio.wait_for(client.wait_for_notification(types.WINDOW_LOG_MESSAGE), 300)
        loaded = time.perf_counter() - started
        pid = client._server.pid  # type: ignore[union-attr]
        rss_kb = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                      if line.startswith("VmRSS:"))
        await client.shutdown_session()
    await client.stop()
    return rss_kb / 1024, loaded


def calibrate_adapter(adapter: Adapter, variant: str, write: bool) -> None:
    """Fit the calibration on the adapter's validation rule candidates, print ECE before/after, record it."""
    from ai_core.model.calibration import RULE_VIEWS, calibrate, record
    from ai_core.model.classifier import logits

    val = [e for e in build(data_config_of(adapter)).val if e.view in RULE_VIEWS]
    scorer = load_scorer(Settings(model_variant=variant), ROOT, adapter=adapter.version)
    t0 = time.perf_counter()
    raw = logits(scorer.model, [e.text for e in val], scorer.max_length, 32)
    fitted = calibrate(raw, [e.label for e in val], [e.family for e in val])
    print(f"calibration of adapter {adapter.version} ({scorer.info.variant}, {len(val)} validation rule candidates, "
          f"{time.perf_counter() - t0:.0f} s): scale {fitted.scale:g} (temperature {fitted.temperature:.2f}), "
          f"bias {fitted.bias:g}, fitted on {fitted.fit_examples} inputs; ECE (10 bins) of P(vulnerable) on the "
          f"other {fitted.test_examples} (other families): {fitted.ece_before:.3f} before, "
          f"{fitted.ece_after:.3f} after")
    if write:
        record(adapter, fitted)
        print(f"recorded in {adapter.path / 'manifest.json'}")


def main() -> None:
    """Print every figure."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-family", type=int, default=6, help="files per held-out family and side")
    parser.add_argument("--variant", default="auto", help="variant for the rules + model runs")
    parser.add_argument("--corpus", type=Path, nargs="+",
                        default=[ROOT / "tests" / "corpus", ROOT / "tests" / "holdout"],
                        help="labelled corpora (labels file, else the `# label:` markers)")
    parser.add_argument("--skip-server", action="store_true")
    parser.add_argument("--skip-variants", action="store_true")
    parser.add_argument("--calibrate", action="store_true",
                        help="only fit the calibration temperature on the validation split and print ECE")
    parser.add_argument("--write", action="store_true", help="with --calibrate: record it in the manifest")
    args = parser.parse_args()

    registry = AdapterRegistry.for_workspace(ROOT)
    adapter = registry.resolve()
    if args.calibrate:
        calibrate_adapter(adapter, args.variant, args.write)
        return
    # Held-out figures need an adapter that never saw the held-out families: the newest one trained with a
    # family split (the shipped default may be the same recipe refitted on every family).
    heldout = next((a for a in reversed(registry.versions()) if family_split(a)), adapter)
    same = heldout.version == adapter.version
    for a in ([adapter] if same else [adapter, heldout]):
        split = "held-out families" if family_split(a) else "random 10% of samples, every family trained"
        print(f"adapter {a.version}{' (active)' if a is adapter else ''}: classifier validation ({split}, "
              f"{a.manifest.get('val_examples', '?')} inputs): macro F1 {a.metrics.get('macro_f1')}, "
              f"accuracy {a.metrics.get('accuracy')}, vulnerable-vs-safe F1 {a.metrics.get('binary_f1')}")

    t0 = time.perf_counter()
    scorer = load_scorer(Settings(model_variant=args.variant), workspace=ROOT)
    print(f"model load ({scorer.info.variant}): {time.perf_counter() - t0:.2f} s")
    held_scorer = scorer if same else load_scorer(Settings(model_variant=args.variant), ROOT,
                                                                adapter=heldout.version)
    rules = Analyzer(Settings(model_enabled=False))

    def systems(chosen: ModelScorer, threshold: float | None = None,
                function_threshold: float | None = None) -> dict[str, Analyzer]:
        base = Settings(model_function_level=True)  # "rules+model" measures function-level mode (off by default)
        if threshold is not None:
            base = dataclasses.replace(base, model_threshold=threshold)
        if function_threshold is not None:
            base = dataclasses.replace(base, model_function_threshold=function_threshold)
        return {"rules": rules, "rules+model": Reviewer(base, scorer=chosen),
                "rules+threshold": Reviewer(dataclasses.replace(base, model_function_level=False), scorer=chosen)}

    files = validation_files(heldout, args.per_family, seed=101)
    t0 = time.perf_counter()
    tallies = {name: tally_files(files, analyzer) for name, analyzer in systems(held_scorer).items()}
    print_table(f"held-out validation families as files, adapter {heldout.version} ({len(files)} files, "
                f"{time.perf_counter() - t0:.1f} s)", tallies)

    # The defaults are chosen here, on held-out families only; the corpora below are measured, not tuned on.
    print(f"\n  threshold grid (held-out files; micro F1 of rules + model; rules alone "
          f"{tallies['rules'].micro()[2]:.3f}; scores are cached):")
    function_grid: tuple[float | None, ...] = (0.6, 0.7, 0.8, 0.9, 0.95, None)
    print("    model_threshold \\ function " + "".join(f"{f if f else 'off':>8}" for f in function_grid))
    for threshold in (0.5, 0.7, 0.9, 0.95, 0.98, 1.0):
        row = []
        for f in function_grid:
            chosen = systems(held_scorer, threshold, f)
            row.append(tally_files(files, chosen["rules+model" if f else "rules+threshold"]).micro()[2])
        print(f"    {threshold:<27}" + "".join(f"{v:8.3f}" for v in row))

    for corpus in args.corpus:
        labels = (load_labels(corpus) or [normalise_label(row) for row in collect(corpus)]) if corpus.is_dir() else []
        if not labels:
            print(f"\ncorpus: no labels in {corpus}; skipped")
            continue
        corpus_tallies = {name: tally_corpus(labels, analyze_corpus(corpus, analyzer))
                          for name, analyzer in systems(scorer).items()}
        print_table(f"corpus {corpus.resolve().relative_to(ROOT)}, adapter {adapter.version} ({len(labels)} labels)",
                    corpus_tallies)

    texts = [e.text for e in build(DataConfig(per_family=3, negatives=60)).val]
    random.Random(0).shuffle(texts)
    lat = latency(scorer, texts)
    print(f"\nlatency per candidate ({scorer.info.variant}): batch 1 p50 {lat['b1_p50']:.1f} ms, "
          f"p95 {lat['b1_p95']:.1f} ms; batch 32 p50 {lat['b32_p50']:.1f} ms, p95 {lat['b32_p95']:.1f} ms")

    print(f"adapter file: {(adapter.path / ADAPTER_FILE).stat().st_size / 1e6:.2f} MB")
    if not args.skip_variants:
        from ai_core.model.quantize import probe_examples, quantize

        for s in quantize(adapter, probe_examples(adapter)):
            print(f"  {s.variant:<5} size {s.size_after / 1e6:6.1f} MB (x{s.compression_ratio:.2f}) "
                  f"F1 {s.f1_after:.3f} (fp32 {s.f1_before:.3f}) batch32 {s.latency_ms_batch32:.1f} ms/cand "
                  f"batch1 {s.latency_ms_batch1:.1f} ms load {s.load_seconds:.1f} s"
                  f"{'  errors: ' + '; '.join(s.errors) if s.errors else ''}")
    if not args.skip_server:
        rss, seconds = asyncio.run(server_rss(args.variant))
        print(f"server RSS with the model loaded ({args.variant}): {rss:.0f} MB; "
              f"start to 'model loaded': {seconds:.1f} s")


if __name__ == "__main__":
    main()
