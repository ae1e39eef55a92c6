"""Regenerate labels.json from the `# label:` markers in the corpus apps.

A marker ends a line: `# label: sql-injection` (a finding of that class must start on this line),
`# label: safe xss` (no finding of that class may be reported on this line); several are separated
by commas. Run `python tests/corpus/make_labels.py` after editing the apps; a test checks that the
file is in sync.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from ai_core.findings import VulnClass

CORPUS = Path(__file__).resolve().parent
LABELS = CORPUS / "labels.json"
KNOWN_MISSES = CORPUS / "known_misses.json"
_MARKER = re.compile(r"#\s*label:\s*(?P<body>.+?)\s*$")
CLASSES = {vuln_class.value for vuln_class in VulnClass}


def collect(root: Path = CORPUS) -> list[dict[str, object]]:
    """Every label of every corpus file, sorted by path and line."""
    labels: list[dict[str, object]] = []
    for path in sorted(root.rglob("*.py")):
        if path.parent == root:
            continue  # this script and other tools, not corpus apps
        rel = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _MARKER.search(line)
            if not match:
                continue
            for part in match.group("body").split(","):
                words = part.split()
                expected = not (words and words[0] == "safe")
                vuln_class = words[-1] if words else ""
                if vuln_class not in CLASSES:
                    raise ValueError(f"{rel}:{number}: unknown class {vuln_class!r} in label")
                labels.append({"path": rel, "line": number, "class": vuln_class, "expected": expected})
    return labels


def main() -> int:
    """Write labels.json; print counts per class."""
    labels = collect()
    LABELS.write_text(json.dumps(labels, indent=1) + "\n", encoding="utf-8")
    counts: dict[str, list[int]] = {}
    for label in labels:
        pair = counts.setdefault(str(label["class"]), [0, 0])
        pair[0 if label["expected"] else 1] += 1
    for name in sorted(counts):
        sys.stdout.write(f"{name:28} {counts[name][0]:3} positive {counts[name][1]:3} negative\n")
    sys.stdout.write(f"{len(labels)} labels\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
