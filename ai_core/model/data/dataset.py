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


@dataclass
class Dataset:
    """Train and validation examples plus the manifest describing them."""

    train: list[Example]
    val: list[Example]
    manifest: dict[str, Any] = field(default_factory=dict)

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
    held = val_families(config.seed, config.val_share)
    items: list[tuple[Example, str]] = []
    analyzer = Analyzer(Settings(model_enabled=False)) if config.loop_per_family else None
    for family in FAMILIES:
        split = "val" if family.name in held else "train"
        items += [(e, split) for e in examples(family, config.per_family, rng, config.function_share)]
        if analyzer is not None:
            items += [(e, split) for e in loop_examples(family, config.loop_per_family, rng, analyzer)]
    items += [(Example(code, label, "handwritten", "function"), "train") for label, code in HANDWRITTEN]
    if config.negatives:
        items += negatives(config.negatives, rng)
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
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "split": "by template family" if config.val_share > 0 else "random 10% of samples (all families train)",
        "config": asdict(config),
        "labels": list(LABELS),
        "families": {f.name: {"class": f.vuln_class.value, "split": "val" if f.name in held else "train"}
                     for f in FAMILIES},
        "handwritten": len(HANDWRITTEN),
        "duplicates_dropped": duplicates,
        "counts": {"train": dict(sorted(Counter(e.label for e in train).items())),
                   "val": dict(sorted(Counter(e.label for e in val).items()))},
        "views": {"train": dict(Counter(e.view for e in train)), "val": dict(Counter(e.view for e in val))},
        "negative_modules": len({e.family for e, _ in unique if e.family.startswith("installed:")}),
        "data_hash": hash_examples(unique),
    }
    return Dataset(train, val, manifest)


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
