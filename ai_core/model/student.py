"""The distilled student shipped beside its teacher adapter: a 3-layer MiniLM that learnt the adapter's judgements.

Its embeddings stayed frozen during distillation (the base model's), so only its encoder layers, pooler and head
ship (`student/student.safetensors`, bf16); loading puts the base package's embeddings back. Its own F1 and
calibration are in `student/manifest.json`; `auto` may pick it where it keeps STUDENT_RETENTION of the
teacher's F1 (docs/model.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ai_core.model.adapters import Adapter
from ai_core.model.calibration import Calibration, of_manifest
from ai_core.model.encoder import PREFIX, MiniLMClassifier
from ai_core.model.minilm import base_model_path

STUDENT = "student"
"""Its name among the model variants."""
FOLDER = "student"
WEIGHTS_FILE = "student.safetensors"
MANIFEST_FILE = "manifest.json"
STUDENT_RETENTION = 0.95
"""`auto` takes the student only where its shipped F1 is at least this share of the teacher's."""
_EMBEDDINGS = PREFIX + "embeddings."


def student_folder(adapter: Adapter) -> Path | None:
    """Where the adapter's student lies (None when none ships with it)."""
    folder = adapter.path / FOLDER
    return folder if (folder / WEIGHTS_FILE).is_file() and (folder / MANIFEST_FILE).is_file() else None


def student_manifest(adapter: Adapter) -> dict[str, Any]:
    """The student's manifest ({} when there is none)."""
    folder = student_folder(adapter)
    if folder is None:
        return {}
    try:
        data = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def student_calibration(adapter: Adapter) -> Calibration:
    """The calibration fitted on the student's own validation scores."""
    return of_manifest(student_manifest(adapter))


def load_student(adapter: Adapter) -> MiniLMClassifier:
    """The student as a plain-torch classifier (fp32): its shipped layers plus the base model's embeddings."""
    import torch
    from safetensors.torch import load_file

    folder = student_folder(adapter)
    if folder is None:
        raise FileNotFoundError(f"adapter {adapter.version} ships no student")
    manifest = student_manifest(adapter)
    weights = {k: v.to(torch.float32) if v.is_floating_point() else v
               for k, v in load_file(str(folder / WEIGHTS_FILE)).items()}
    base = load_file(str(base_model_path() / "model.safetensors"))
    weights.update({PREFIX + k: v.to(torch.float32) for k, v in base.items() if k.startswith("embeddings.")
                    and not k.endswith("position_ids")})
    return MiniLMClassifier(weights, manifest["config"])


def student_tensors(state: Mapping[str, Any]) -> dict[str, Any]:
    """What ships of a student's state dict: everything but the (frozen, base) embeddings, in bf16."""
    import torch

    return {k: (v.detach().to(torch.bfloat16) if v.is_floating_point() else v.detach()).contiguous()
            for k, v in state.items() if not k.startswith(_EMBEDDINGS)}


def write_student(folder: Path, state: Mapping[str, Any], config: Mapping[str, Any],
                  manifest: Mapping[str, Any]) -> Path:
    """Write a student's shipped tensors and its manifest (config, F1, calibration) into `folder`."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file(student_tensors(state), str(folder / WEIGHTS_FILE))
    keep = ("hidden_size", "num_attention_heads", "num_hidden_layers", "layer_norm_eps", "hidden_act")
    body = {**manifest, "config": {k: config[k] for k in keep if k in config}}
    (folder / MANIFEST_FILE).write_text(json.dumps(body, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return folder
