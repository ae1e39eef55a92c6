"""The training set: template families + hand-written examples + installed-code negatives, deduplicated and split.

Templates are split by family (a quarter of each class's families, at least one, only in validation),
installed code by module, so validation measures generalisation to unseen shapes rather than memory.
`python -m ai_core.model.data.dataset` rewrites the small manifest kept next to this file.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.findings import VulnClass
from ai_core.model.data.generator import Example, examples
from ai_core.model.data.handwritten import EXAMPLES as HANDWRITTEN
from ai_core.model.data.loop import loop_examples
from ai_core.model.data.mutations import build_mutated, project_split
from ai_core.model.data.negatives import negatives
from ai_core.model.data.templates import FAMILIES
from ai_core.model.minilm import LABELS

MANIFEST_PATH = Path(__file__).with_name("manifest.json")
GENERATOR_VERSION = "1"


@dataclass(frozen=True)
class DataConfig:
    """How much data to build; the defaults are what the shipped adapter was trained on."""

    seed: int = 13
    per_family: int = 10
    """Vulnerable and safe renderings per family (each)."""
    negatives: int = 600
    """Examples from installed code."""
    val_share: float = 0.2
    """Share of each class's template families held out for validation; 0 trains on every family and
    validates on a random 10% of samples instead (in-distribution figures only)."""
    function_share: float = 0.3
    loop_per_family: int = 8
    """Vulnerable and safe generated files per family run through the rules (see loop.py); 0 skips them."""
    test_share: float = 0.0
    """Share of each class's template families held out for the test split (0: no test split)."""
    mutated: bool = False
    """Add mutations of installed code (mutations.py) and the engine's candidates on them and on the originals;
    installed code is then split train/val/test by package."""
    evidence: bool = False
    """Rule-candidate inputs start with the engine's evidence line (candidates.evidence_line)."""


@dataclass
class Dataset:
    """Train and validation examples plus the manifest describing them."""

    train: list[Example]
    val: list[Example]
    manifest: dict[str, Any] = field(default_factory=dict)
    test: list[Example] = field(default_factory=list)

    @property
    def data_hash(self) -> str:
        """sha256 over every example (text, label, split), in order."""
        return str(self.manifest.get("data_hash", ""))


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def val_families(seed: int, share: float) -> set[str]:
    """Families held out for validation: `share` of each class's families (at least one), chosen by seed."""
    rng = random.Random(seed)
    held: set[str] = set()
    if share <= 0:
        return held
    for vuln_class in VulnClass:
        names = sorted(f.name for f in FAMILIES if f.vuln_class is vuln_class)
        if len(names) < 2:
            continue
        k = max(1, round(len(names) * share))
        held.update(rng.sample(names, k))
    return held


def split_families(seed: int, val_share: float, test_share: float) -> dict[str, str]:
    """Family name -> "val" / "test" for the held-out families (the rest train), chosen per class by seed."""
    held = {name: "val" for name in val_families(seed, val_share)}
    if test_share <= 0:
        return held
    rng = random.Random(seed + 1)
    for vuln_class in VulnClass:
        names = sorted(f.name for f in FAMILIES if f.vuln_class is vuln_class and f.name not in held)
        if len(names) < 3:
            continue
        held.update((name, "test") for name in rng.sample(names, max(1, round(len(names) * test_share))))
    return held


def source_of(example: Example) -> str:
    """Where an example comes from: "mutated" (installed code made vulnerable, its twins and the engine's
    candidates on them), "real" (installed code as it is), "reviewed" (the engine's candidates on real apps,
    labelled by us) or "generated" (templates, loop, hand-written)."""
    if example.family.startswith("reviewed:"):
        return "reviewed"
    if example.family.startswith("mutated:"):
        return "mutated"
    if example.family.startswith(("real:", "installed:")):
        return "real"
    return "generated"


def hash_examples(items: list[tuple[Example, str]]) -> str:
    """A stable hash of labelled examples with their split."""
    digest = hashlib.sha256()
    for example, split in items:
        digest.update(f"{split}\0{example.label}\0{example.text}\0".encode())
    return digest.hexdigest()


def build(config: DataConfig | None = None) -> Dataset:
    """Generate, deduplicate and split the dataset deterministically from `config.seed`."""
    config = config or DataConfig()
    rng = random.Random(config.seed)
    held = split_families(config.seed, config.val_share, config.test_share)
    items: list[tuple[Example, str]] = []
    analyzer = Analyzer(Settings(model_enabled=False)) if config.loop_per_family or config.mutated else None
    for family in FAMILIES:
        split = held.get(family.name, "train")
        items += [(e, split) for e in examples(family, config.per_family, rng, config.function_share,
                                                evidence=config.evidence)]
        if analyzer is not None and config.loop_per_family:
            items += [(e, split) for e in loop_examples(family, config.loop_per_family, rng, analyzer,
                                                        config.evidence)]
    items += [(Example(code, label, "handwritten", "function"), "train") for label, code in HANDWRITTEN]
    if config.negatives:
        found = negatives(config.negatives, rng)
        items += [(e, project_split(e.family.removeprefix("installed:"))) for e, _ in found] if config.mutated \
            else found
    mutated_manifest: dict[str, Any] = {}
    if config.mutated:
        mutated, mutated_manifest = build_mutated(analyzer=analyzer)
        items += mutated
    seen: set[str] = set()
    unique: list[tuple[Example, str]] = []
    duplicates = 0
    for example, split in items:
        key = hashlib.sha256(_norm(example.text).encode()).hexdigest()
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        unique.append((example, split))
    if config.val_share <= 0:  # every family trains: validate on a random tenth of the samples
        unique = [(e, "val" if int(hashlib.sha256(e.text.encode()).hexdigest()[:4], 16) % 10 == 0 else "train")
                  for e, _ in unique]
    train = [e for e, s in unique if s == "train"]
    val = [e for e, s in unique if s == "val"]
    test = [e for e, s in unique if s == "test"]
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "split": "by template family" if config.val_share > 0 else "random 10% of samples (all families train)",
        "config": asdict(config),
        "labels": list(LABELS),
        "families": {f.name: {"class": f.vuln_class.value, "split": held.get(f.name, "train")}
                     for f in FAMILIES},
        "handwritten": len(HANDWRITTEN),
        "duplicates_dropped": duplicates,
        "counts": {name: dict(sorted(Counter(e.label for e in part).items()))
                   for name, part in (("train", train), ("val", val), ("test", test)) if part},
        "sources": {name: dict(sorted(Counter(f"{source_of(e)}/{'safe' if e.label == 'safe' else 'vulnerable'}"
                                              for e in part).items()))
                    for name, part in (("train", train), ("val", val), ("test", test)) if part},
        "views": {"train": dict(Counter(e.view for e in train)), "val": dict(Counter(e.view for e in val))},
        "negative_modules": len({e.family for e, _ in unique if e.family.startswith("installed:")}),
        "data_hash": hash_examples(unique),
        **({"mutated": mutated_manifest} if mutated_manifest else {}),
    }
    return Dataset(train, val, manifest, test)


def write_manifest(dataset: Dataset, path: Path = MANIFEST_PATH) -> None:
    """Write the manifest (small JSON) describing `dataset`."""
    path.write_text(json.dumps(dataset.manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def main() -> int:
    """Rebuild the dataset and rewrite manifest.json; prints the counts."""
    dataset = build()
    write_manifest(dataset)
    sys.stdout.write(json.dumps(dataset.manifest["counts"], indent=1) + "\n")
    sys.stdout.write(f"train {len(dataset.train)}  val {len(dataset.val)}  hash {dataset.data_hash[:16]}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
