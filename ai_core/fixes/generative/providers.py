"""Generative providers: an OpenAI-compatible HTTP endpoint and a local Hugging Face causal LM with a LoRA adapter.

The HTTP provider retries with exponential backoff and sits behind a circuit breaker; both are used only when
configured, so code leaves the machine only when the user set `generative_endpoint`.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ai_core.fixes.generative.prompt import render_plain

log = logging.getLogger(__name__)

API_KEY_VARIABLES = ("CODEREV_GENERATIVE_API_KEY", "OPENAI_API_KEY")
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class ProviderError(Exception):
    """A provider could not produce an answer (after its retries)."""


class CircuitOpen(ProviderError):
    """The provider failed repeatedly and is resting; it is not called until the cooldown ends."""


class Provider(Protocol):
    """Answers chat messages with text."""

    name: str

    def complete(self, messages: list[dict[str, str]], max_tokens: int = 512) -> str:
        """The model's answer to `messages`."""
        ...


@dataclass
class CircuitBreaker:
    """Closed -> open after `threshold` consecutive failures; one trial call after `cooldown_s` (half-open)."""

    threshold: int = 3
    cooldown_s: float = 60.0
    failures: int = 0
    opened_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def state(self) -> str:
        """'closed', 'open' or 'half-open'."""
        if self.opened_at is None:
            return "closed"
        return "half-open" if time.monotonic() - self.opened_at >= self.cooldown_s else "open"

    def before_call(self) -> None:
        """Raise CircuitOpen while the breaker is open."""
        with self._lock:
            if self.state == "open":
                raise CircuitOpen(f"circuit open after {self.failures} failures; retrying in "
                                  f"{self.cooldown_s - (time.monotonic() - (self.opened_at or 0)):.0f} s")

    def success(self) -> None:
        """Close the breaker."""
        with self._lock:
            self.failures, self.opened_at = 0, None

    def failure(self) -> None:
        """Count a failure; open (again) when over the threshold or when a half-open trial failed."""
        with self._lock:
            self.failures += 1
            if self.failures >= self.threshold or self.opened_at is not None:
                self.opened_at = time.monotonic()


def chat_url(endpoint: str) -> str:
    """The chat-completions URL of an OpenAI-compatible base URL (`http://host:8000/v1` or the full URL)."""
    base = endpoint.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    return f"{base}/chat/completions"


class OpenAIChatProvider:
    """POST /chat/completions to an OpenAI-compatible server (vLLM, TGI, Ollama), with retries and a breaker."""

    def __init__(self, endpoint: str, model: str = "", timeout_s: float = 30.0, retries: int = 3,
                 backoff_s: float = 0.5, max_backoff_s: float = 8.0, breaker: CircuitBreaker | None = None,
                 api_key: str | None = None) -> None:
        self.url = chat_url(endpoint)
        self.model = model or "default"
        self.timeout_s = timeout_s
        self.retries = max(1, retries)
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.breaker = breaker or CircuitBreaker()
        self.api_key = api_key if api_key is not None else next(
            (os.environ[v] for v in API_KEY_VARIABLES if os.environ.get(v)), "")
        self.name = f"openai:{self.model}"
        self.calls = 0
        """HTTP requests made (attempts, retries included)."""

    def complete(self, messages: list[dict[str, str]], max_tokens: int = 512) -> str:
        """The first choice's message content; raises ProviderError after the retries, CircuitOpen when resting."""
        self.breaker.before_call()
        body = json.dumps({"model": self.model, "messages": messages, "temperature": 0,
                           "max_tokens": max_tokens}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last: Exception | None = None
        for attempt in range(self.retries):
            if attempt:
                self._sleep(attempt, last)
            self.calls += 1
            try:
                request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    payload = json.loads(response.read().decode("utf-8"))
                content = payload["choices"][0]["message"]["content"]
                if not isinstance(content, str):
                    raise ProviderError("answer without text content")
                self.breaker.success()
                return content
            except urllib.error.HTTPError as exc:
                last = exc
                if exc.code not in RETRY_STATUS:
                    break
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                last = exc
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                last = ProviderError(f"malformed answer: {exc}")
                break
            log.info("generative endpoint %s attempt %d failed: %s", self.url, attempt + 1, last)
        self.breaker.failure()
        raise ProviderError(f"{self.url}: {last}")

    def _sleep(self, attempt: int, error: Exception | None) -> None:
        delay = min(self.max_backoff_s, self.backoff_s * (2 ** (attempt - 1)))
        if isinstance(error, urllib.error.HTTPError):
            retry_after = error.headers.get("Retry-After") if error.headers else None
            if retry_after and retry_after.isdigit():
                delay = min(self.max_backoff_s, float(retry_after))
        time.sleep(delay * (0.5 + random.random() / 2))


class LocalModelProvider:
    """A local Hugging Face causal LM (safetensors) plus an optional LoRA adapter; 4-bit NF4 when CUDA is there."""

    def __init__(self, model_dir: str | Path, adapter_dir: str | Path | None = None, max_new_tokens: int = 512,
                 breaker: CircuitBreaker | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.adapter_dir = Path(adapter_dir) if adapter_dir else None
        self.max_new_tokens = max_new_tokens
        self.breaker = breaker or CircuitBreaker(threshold=2, cooldown_s=300.0)
        self.name = f"local:{self.model_dir.name}" + (f"+{self.adapter_dir.name}" if self.adapter_dir else "")
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self.quantized = False

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if not (self.model_dir / "config.json").is_file():
            raise ProviderError(f"{self.model_dir} is not a model directory")
        tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir))
        kwargs: dict[str, Any] = {"use_safetensors": True}
        if torch.cuda.is_available():
            from transformers import BitsAndBytesConfig

            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)
            kwargs["device_map"] = "auto"
            self.quantized = True
        model: Any = AutoModelForCausalLM.from_pretrained(str(self.model_dir), **kwargs)
        if self.adapter_dir is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(self.adapter_dir))
        model.eval()
        self._model, self._tokenizer = model, tokenizer

    def prompt(self, messages: list[dict[str, str]]) -> str:
        """The prompt text: the tokenizer's chat template when it has one, else a plain format."""
        if self._tokenizer is not None and getattr(self._tokenizer, "chat_template", None):
            return str(self._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
        return render_plain(messages)

    def complete(self, messages: list[dict[str, str]], max_tokens: int = 512) -> str:
        """Greedy decoding of the answer."""
        self.breaker.before_call()
        try:
            import torch

            with self._lock:
                if self._model is None:
                    self._load()
                tokenizer, model = self._tokenizer, self._model
                inputs = tokenizer(self.prompt(messages), return_tensors="pt")
                device = next(model.parameters()).device
                inputs = {k: v.to(device) for k, v in inputs.items()}
                with torch.inference_mode():
                    output = model.generate(**inputs, max_new_tokens=min(max_tokens, self.max_new_tokens),
                                            do_sample=False,
                                            pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
                new_tokens = output[0][inputs["input_ids"].shape[1]:]
                answer = str(tokenizer.decode(new_tokens, skip_special_tokens=True))
        except ProviderError:
            self.breaker.failure()
            raise
        except Exception as exc:
            self.breaker.failure()
            raise ProviderError(f"local model {self.model_dir}: {exc}") from exc
        self.breaker.success()
        return answer
