"""The generative fixer: a provider chain (HTTP endpoint, local model) whose patches go through verification.

The engine tries the providers' candidates first and falls back to the rule-based rewriters; every candidate,
generated or not, is verified before it is offered.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

from ai_core.config import Settings
from ai_core.findings import Finding
from ai_core.fixes.generative.prompt import build_messages, extract_code, region_for, splice
from ai_core.fixes.generative.providers import (
    CircuitBreaker,
    CircuitOpen,
    LocalModelProvider,
    OpenAIChatProvider,
    Provider,
    ProviderError,
)
from ai_core.parsing import ParsedDocument

log = logging.getLogger(__name__)

__all__ = ["CircuitBreaker", "CircuitOpen", "GenerativeFixer", "LocalModelProvider", "OpenAIChatProvider",
           "Provider", "ProviderError", "from_settings"]


class GenerativeFixer:
    """Asks each provider in turn for a rewrite of the finding's function; yields the patched texts."""

    def __init__(self, providers: Sequence[Provider], max_tokens: int = 768) -> None:
        self.providers = list(providers)
        self.max_tokens = max_tokens

    def candidates(self, doc: ParsedDocument, finding: Finding) -> Iterator[tuple[str, str]]:
        """(\"generative:<provider>\", patched text) per provider that answered with usable code."""
        region = region_for(doc, finding)
        if region is None:
            return
        messages = build_messages(doc, finding, region)
        for provider in self.providers:
            try:
                answer = provider.complete(messages, self.max_tokens)
            except CircuitOpen as exc:
                log.info("generative provider %s skipped: %s", provider.name, exc)
                continue
            except ProviderError as exc:
                log.warning("generative provider %s failed: %s", provider.name, exc)
                continue
            code = extract_code(answer)
            patched = splice(doc, region, code) if code else None
            if patched is None:
                log.info("generative provider %s gave no usable code for %s", provider.name, finding.rule)
                continue
            yield f"generative:{provider.name}", patched


_CACHE: dict[tuple[str, str, str, float], GenerativeFixer] = {}


def from_settings(settings: Settings, root: Path | None = None) -> GenerativeFixer | None:
    """The configured chain (endpoint first, then a local model directory), or None when nothing is set up."""
    key = (settings.generative_endpoint, settings.generative_model, settings.generative_adapter,
           settings.generative_timeout_s)
    if not settings.generative_endpoint and not settings.generative_model:
        return None
    if key in _CACHE:  # one breaker and one loaded model per configuration
        return _CACHE[key]
    providers: list[Provider] = []
    if settings.generative_endpoint:
        providers.append(OpenAIChatProvider(settings.generative_endpoint, settings.generative_model,
                                            timeout_s=settings.generative_timeout_s))
    else:
        model_dir = Path(settings.generative_model).expanduser()
        if not model_dir.is_absolute() and root is not None:
            model_dir = root / model_dir
        if (model_dir / "config.json").is_file():
            adapter = Path(settings.generative_adapter).expanduser() if settings.generative_adapter else None
            if adapter is not None and not adapter.is_absolute() and root is not None:
                adapter = root / adapter
            providers.append(LocalModelProvider(model_dir, adapter))
        else:
            log.warning("generative_model %s is not a model folder (no config.json) and no endpoint is set: "
                        "generative fixer off",
                        settings.generative_model)
    fixer = GenerativeFixer(providers) if providers else None
    if fixer is not None:
        _CACHE[key] = fixer
    return fixer
