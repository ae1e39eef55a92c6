"""Peak memory of scanning one hostile or huge file, with and without the parse budget (ai_core/parsing/budget.py).

Each shape is written to a temporary folder and scanned (rules only) in a fresh process that prints its peak RSS
(getrusage) and what the scan reported; `--no-budget` runs disable the budget to show what it saves.
Run: `.venv/bin/python bench/huge_files.py [--quick]`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SHAPES = {
    "sum-6MB": lambda: "x = " + "1+" * 3_000_000 + "1\n",
    "nested-list-2MB": lambda: "x = " + "[" * 1_000_000 + "]" * 1_000_000 + "\n",
    "nested-600KB": lambda: "x = " + "(" * 300_000 + "1" + ")" * 300_000 + "\n",
    "functions-2.5MB": lambda: "".join(f"def f{i}(a, b):\n    x = a + b * {i}\n    return [x, a, b]\n\n\n"
                                       for i in range(40_000)),
    "functions-7.5MB": lambda: "".join(f"def f{i}(a, b):\n    x = a + b * {i}\n    return [x, a, b]\n\n\n"
                                       for i in range(120_000)),
}
QUICK = ("sum-6MB", "nested-600KB", "functions-2.5MB")

CHILD = """
import json, resource, sys
from pathlib import Path
import ai_core.parsing.budget as budget
if sys.argv[2] == "off":
    budget.BUDGET_FROM_BYTES = 1 << 62
from ai_core.config import Settings
from ai_core.scan import scan_path
result = scan_path(Path(sys.argv[1]), Settings(model_enabled=False), workers=1)
print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "seconds": result.seconds,
                  "files": len(result.files), "skipped": result.skipped}))
"""


def measure(folder: Path, budget: bool) -> dict[str, object]:
    """Scan `folder` in a fresh process; its peak RSS, time and outcome."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(folder), "on" if budget else "off"], capture_output=True,
                         text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    """Print one line per shape: size, peak RSS and seconds without and with the budget, and the skip reason."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    args = parser.parse_args()
    print(f"{'shape':<18} {'bytes':>10} {'RSS no budget':>14} {'RSS budget':>11} {'s no budget':>12} "
          f"{'s budget':>9}  outcome")
    for name, make in SHAPES.items():
        if args.quick and name not in QUICK:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            text = make()
            (folder / "huge.py").write_text(text, encoding="utf-8")
            (folder / "app.py").write_text("import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n",
                                           encoding="utf-8")
            before, after = measure(folder, budget=False), measure(folder, budget=True)
        skipped = dict(after["skipped"])  # type: ignore[arg-type]
        outcome = f"skipped: {skipped['huge.py']}" if "huge.py" in skipped else "analysed"
        print(f"{name:<18} {len(text):>10,} {before['rss_mb']:>11.0f} MB {after['rss_mb']:>8.0f} MB "
              f"{before['seconds']:>12.1f} {after['seconds']:>9.1f}  {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
