"""The merged classifier run in plain torch: BERT (MiniLM) sequence classification without importing transformers.

Loading transformers' BERT costs ~7 s of imports on this machine, several times the rules' time on a small
tree; this forward pass uses the same torch ops (linear, layer_norm, scaled-dot-product attention, gelu) on the
weights of the merged checkpoint (quantize._merged_dir), so its logits match transformers' (tests compare).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PREFIX = "bert."


@dataclass(frozen=True)
class Output:
    """What a forward pass returns (the shape transformers' callers read)."""

    logits: Any


class MiniLMClassifier:
    """A BertForSequenceClassification forward pass over a state dict, in eval mode."""

    def __init__(self, weights: dict[str, Any], config: dict[str, Any]) -> None:
        self.weights = weights
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        if config.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"unsupported activation {config.get('hidden_act')!r}")

    def parameters(self) -> Iterator[Any]:
        """Its tensors (callers read the dtype of the first)."""
        return iter(self.weights.values())

    def eval(self) -> MiniLMClassifier:
        """Always in eval mode (no dropout)."""
        return self

    def to(self, dtype: Any) -> MiniLMClassifier:
        """The same model with floating-point weights in `dtype`."""
        return MiniLMClassifier({k: v.to(dtype) if v.is_floating_point() else v for k, v in self.weights.items()},
                                {"hidden_size": self.hidden, "num_attention_heads": self.heads,
                                 "num_hidden_layers": self.layers, "layer_norm_eps": self.eps})

    def _norm(self, x: Any, name: str) -> Any:
        import torch.nn.functional as F

        return F.layer_norm(x, (self.hidden,), self.weights[f"{name}.weight"], self.weights[f"{name}.bias"], self.eps)

    def _linear(self, x: Any, name: str) -> Any:
        import torch.nn.functional as F

        return F.linear(x, self.weights[f"{name}.weight"], self.weights[f"{name}.bias"])

    def __call__(self, input_ids: Any, attention_mask: Any, token_type_ids: Any = None, **_: Any) -> Output:
        import torch
        import torch.nn.functional as F

        w = self.weights
        batch, length = input_ids.shape
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        emb = PREFIX + "embeddings."
        x = (w[emb + "word_embeddings.weight"][input_ids]
             + w[emb + "position_embeddings.weight"][:length][None]
             + w[emb + "token_type_embeddings.weight"][token_type_ids])
        x = self._norm(x, emb + "LayerNorm")
        mask = attention_mask[:, None, None, :].bool()
        head_dim = self.hidden // self.heads
        for i in range(self.layers):
            layer = f"{PREFIX}encoder.layer.{i}."

            def heads(t: Any) -> Any:
                return t.view(batch, length, self.heads, head_dim).transpose(1, 2)

            q, k, v = (heads(self._linear(x, layer + f"attention.self.{n}")) for n in ("query", "key", "value"))
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask).transpose(1, 2).reshape(
                batch, length, self.hidden)
            attended = self._norm(self._linear(context, layer + "attention.output.dense") + x,
                                  layer + "attention.output.LayerNorm")
            inner = F.gelu(self._linear(attended, layer + "intermediate.dense"))
            x = self._norm(self._linear(inner, layer + "output.dense") + attended, layer + "output.LayerNorm")
        pooled = torch.tanh(self._linear(x[:, 0], PREFIX + "pooler.dense"))
        return Output(self._linear(pooled, "classifier"))


def load_merged(folder: Path) -> MiniLMClassifier:
    """The merged checkpoint in `folder` (model.safetensors + config.json), fp32."""
    from safetensors.torch import load_file

    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return MiniLMClassifier(load_file(str(folder / "model.safetensors")), config)
