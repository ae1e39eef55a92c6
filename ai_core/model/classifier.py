"""The LoRA classifier: MiniLM + a LoRA adapter (peft) + a 13-label head; build, save, load, run."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ai_core.model.minilm import LABELS, fast_tokenizer, load_base_classifier

log = logging.getLogger(__name__)

ADAPTER_FILE = "adapter_model.safetensors"
DEFAULT_MAX_LENGTH = 256


@dataclass(frozen=True)
class LoraSettings:
    """LoRA hyper-parameters: rank, alpha, dropout and which Linear layers get an adapter."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.1
    target_modules: tuple[str, ...] = ("query", "key", "value", "dense")
    modules_to_save: tuple[str, ...] = field(default=("classifier",))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for manifests)."""
        data = asdict(self)
        data["target_modules"] = list(self.target_modules)
        data["modules_to_save"] = list(self.modules_to_save)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoraSettings:
        """Read the manifest form back."""
        return cls(r=int(data.get("r", 8)), alpha=int(data.get("alpha", 16)), dropout=float(data.get("dropout", 0.05)),
                   target_modules=tuple(data.get("target_modules", cls.target_modules)),
                   modules_to_save=tuple(data.get("modules_to_save", ("classifier",))))

    def peft_config(self) -> Any:
        """The peft LoraConfig."""
        from peft import LoraConfig, TaskType

        return LoraConfig(task_type=TaskType.SEQ_CLS, r=self.r, lora_alpha=self.alpha, lora_dropout=self.dropout,
                          target_modules=list(self.target_modules), modules_to_save=list(self.modules_to_save))


def build_lora_model(lora: LoraSettings, labels: tuple[str, ...] = LABELS) -> Any:
    """Base classifier (a head for `labels`) wrapped with a fresh LoRA adapter; only adapter and head train."""
    from peft import get_peft_model

    return get_peft_model(load_base_classifier(labels=labels), lora.peft_config())


def adapter_state(model: Any) -> dict[str, Any]:
    """The adapter's tensors (LoRA matrices and the head), detached, on CPU, contiguous."""
    from peft import get_peft_model_state_dict

    return {k: v.detach().to("cpu").float().contiguous() for k, v in get_peft_model_state_dict(model).items()}


def adapter_weights_bytes(state: Mapping[str, Any]) -> bytes:
    """Adapter tensors in the safetensors format (written by the registry through safe_write)."""
    from safetensors.torch import save

    return save(dict(state))


def load_adapter_weights(folder: Path) -> dict[str, Any]:
    """Read adapter tensors (safetensors only)."""
    from safetensors.torch import load_file

    return load_file(str(folder / ADAPTER_FILE))


def load_lora_model(folder: Path, lora: LoraSettings, labels: tuple[str, ...] = LABELS) -> Any:
    """Base + the adapter stored in `folder`, trained with `labels` (a PeftModel in eval mode)."""
    from peft import set_peft_model_state_dict

    model = build_lora_model(lora, labels)
    result = set_peft_model_state_dict(model, load_adapter_weights(folder))
    unexpected = getattr(result, "unexpected_keys", None)
    if unexpected:
        raise ValueError(f"adapter in {folder} has unexpected tensors: {unexpected[:3]}")
    model.eval()
    return model


def encode(texts: Sequence[str], max_length: int = DEFAULT_MAX_LENGTH) -> dict[str, Any]:
    """Tokenize a batch (padded to its longest member rounded up to 16, truncated to `max_length`).

    Through `tokenizers` directly, as transformers' fast tokenizer does (same ids), without importing transformers.
    """
    import torch

    tokenizer = fast_tokenizer()
    tokenizer.enable_truncation(max_length)
    encodings = tokenizer.encode_batch(list(texts))
    width = max(len(e.ids) for e in encodings)
    width = -(-width // 16) * 16
    ids = torch.zeros(len(encodings), width, dtype=torch.long)
    mask = torch.zeros(len(encodings), width, dtype=torch.long)
    types = torch.zeros(len(encodings), width, dtype=torch.long)
    for row, e in enumerate(encodings):
        ids[row, :len(e.ids)] = torch.tensor(e.ids)
        mask[row, :len(e.ids)] = 1
        types[row, :len(e.ids)] = torch.tensor(e.type_ids)
    return {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}


def logits(model: Any, texts: Sequence[str], max_length: int = DEFAULT_MAX_LENGTH, batch_size: int = 32) -> Any:
    """Raw logits (float32, [len(texts), labels]) in batches, without gradients; order preserved."""
    import torch

    out = []
    dtype = next(model.parameters()).dtype
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start: start + batch_size]
            batch = encode([texts[i] for i in idx], max_length)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
                out.append((idx, model(**batch).logits.float()))
    width = out[0][1].shape[-1] if out else len(LABELS)
    result = torch.zeros(len(texts), width)
    for idx, values in out:
        result[idx] = values
    return result


def predict_labels(model: Any, texts: Sequence[str], max_length: int = DEFAULT_MAX_LENGTH,
                   labels: tuple[str, ...] = LABELS) -> list[str]:
    """The argmax label (of `labels`, the model's) of each text."""
    return [labels[i] for i in logits(model, texts, max_length).argmax(dim=-1).tolist()]
