"""The model feature: load the classifier off the event loop, switch adapters live, record dismissals.

At `initialized` (and when model settings change) the scorer loads in a background thread; until it is
ready, and whenever it cannot load, diagnostics come from the rules alone. Commands:
`coderev.activateAdapter VERSION` switches the active adapter without a restart, `coderev.dismiss`
records a dismissed diagnostic in `.coderev/feedback.jsonl` for `coderev train --feedback`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ai_core.config import Settings
from ai_core.findings import Finding
from ai_core.heavy_imports import forget_failures, load_heavy
from server.convert import warning_message
from server.diagnostics import reanalyze_all
from server.session import CoderevServer, path_of

log = logging.getLogger(__name__)

ACTIVATE_ADAPTER = "coderev.activateAdapter"
DISMISS = "coderev.dismiss"
MODEL_STATUS = "coderev/modelStatus"
LOAD_ATTEMPTS = 2
MODEL_LIBRARIES = ("torch", "transformers")
_MODEL_KEYS = ("model_enabled", "model_variant", "adapter", "adapter_registry")


class _Unavailable(Exception):
    """The model cannot be loaded for a reason the user can act on (no traceback logged)."""


def _load_scorer(settings: Settings, root: Path | None, adapter: str) -> Any:
    """Import the heavy libraries (once, behind their lock), then load the scorer; runs on a worker thread."""
    failed = {name: why for name, why in load_heavy(MODEL_LIBRARIES).items() if why}
    if failed:
        forget_failures()  # the retry imports them again
        raise _Unavailable("cannot import " + ", ".join(f"{name} ({why})" for name, why in failed.items()))
    from ai_core.model.predictor import ModelUnavailable, load_scorer

    try:
        return load_scorer(settings, root, adapter=adapter)
    except ModelUnavailable as exc:
        raise _Unavailable(str(exc)) from exc


def status(server: CoderevServer, state: str, reason: str = "", **detail: Any) -> None:
    """Tell the client the model's state (`coderev/modelStatus`: loading, loaded, unavailable and why, or off)."""
    try:
        server.protocol.notify(MODEL_STATUS, {"state": state, "reason": reason, **detail})
    except Exception:  # the client may be gone
        log.debug("model status not sent", exc_info=True)


def model_settings(server: CoderevServer) -> Settings:
    """The settings that decide which model to load (the first workspace folder's)."""
    root = server.first_root()
    return server.settings_for(str(root / "__init__.py")) if root is not None else Settings()


class ModelFeature:
    """Loads and reloads the scorer; at most one load runs at a time, the newest request wins."""

    def __init__(self, server: CoderevServer) -> None:
        self.server = server
        self.loaded_key: tuple[Any, ...] | None = None
        self.generation = 0
        self.task: asyncio.Task[None] | None = None

    def key(self, settings: Settings) -> tuple[Any, ...]:
        """What a loaded scorer depends on."""
        return tuple(getattr(settings, name) for name in _MODEL_KEYS)

    def ensure(self, force: bool = False) -> asyncio.Task[None] | None:
        """(Re)load the scorer if the model settings changed; drop it when the model is turned off."""
        settings = model_settings(self.server)
        if not settings.model_enabled:
            if self.server.scorer is not None:
                log.info("model turned off; rules only")
                self.server.scorer = None
                reanalyze_all(self.server)
            if self.loaded_key != self.key(settings):
                self.generation += 1  # a load still running is superseded
                status(self.server, "off")
            self.loaded_key = self.key(settings)
            return None
        if not force and self.loaded_key == self.key(settings):
            return self.task
        self.loaded_key = self.key(settings)
        self.generation += 1
        self.task = asyncio.get_running_loop().create_task(self._load(settings, self.generation))
        return self.task

    async def _load(self, settings: Settings, generation: int, adapter: str = "") -> None:
        root = self.server.first_root()
        loop = asyncio.get_running_loop()
        status(self.server, "loading")
        scorer, reason = None, ""
        for attempt in range(1, LOAD_ATTEMPTS + 1):  # a failed load is retried once
            try:
                scorer = await loop.run_in_executor(None, lambda: _load_scorer(settings, root, adapter))
                break
            except Exception as exc:
                reason = str(exc) or type(exc).__name__
                log.warning("loading the model failed (attempt %d of %d): %s", attempt, LOAD_ATTEMPTS, reason,
                            exc_info=not isinstance(exc, _Unavailable))
        if generation != self.generation:  # a newer request superseded this one
            return
        if scorer is None:
            log.warning("model unavailable (%s); diagnostics come from the rules alone", reason)
            status(self.server, "unavailable", reason)
            self.server.window_show_message(warning_message(
                f"coderev: the model is unavailable ({reason}); diagnostics come from the rules alone."))
            return
        self.server.scorer = scorer
        info = scorer.info
        log.info("model loaded: adapter %s (%s) in %.1f s", info.adapter, info.variant, info.load_seconds)
        status(self.server, "loaded", adapter=info.adapter, variant=info.variant)
        reanalyze_all(self.server)

    async def activate(self, version: str) -> dict[str, Any]:
        """Make `version` the active adapter in the workspace registry and load it now."""
        from ai_core.model.adapters import AdapterRegistry

        settings = model_settings(self.server)
        registry = AdapterRegistry.for_workspace(self.server.first_root(), settings.adapter_registry)
        loop = asyncio.get_running_loop()
        adapter = await loop.run_in_executor(None, registry.activate, version)
        if not settings.model_enabled:
            return {"adapter": adapter.version, "loaded": False}
        self.generation += 1
        self.loaded_key = self.key(settings)
        await self._load(settings, self.generation, adapter="" if not settings.adapter else adapter.version)
        scorer = self.server.scorer
        return {"adapter": adapter.version, "loaded": scorer is not None and scorer.info.adapter == adapter.version,
                "variant": scorer.info.variant if scorer is not None else None}


def _find(server: CoderevServer, uri: str, fingerprint: str) -> Finding | None:
    result = server.results.get(uri)
    for finding in result.findings if result else []:
        if finding.fingerprint == fingerprint:
            return finding
    return None


def _argument(args: tuple[Any, ...]) -> Mapping[str, Any]:
    """Accept {uri, fingerprint, detail?}, {uri, data}, (uri, fingerprint[, detail]) or (uri, diagnostic)."""
    if len(args) == 1 and isinstance(args[0], Mapping):
        return args[0]
    if len(args) >= 2:
        second = args[1]
        if isinstance(second, Mapping):  # a diagnostic (its data carries the fingerprint)
            data = second.get("data") if isinstance(second.get("data"), Mapping) else second
            return {"uri": args[0], "data": data, "detail": args[2] if len(args) > 2 else ""}
        return {"uri": args[0], "fingerprint": second, "detail": args[2] if len(args) > 2 else ""}
    raise ValueError("expected {uri, fingerprint, detail?} (or a document uri and its diagnostic)")


async def activate_adapter(ls: CoderevServer, *args: Any) -> dict[str, Any]:
    """coderev.activateAdapter VERSION: make it the active adapter and load it without a restart."""
    version = args[0].get("version") if args and isinstance(args[0], Mapping) else (args[0] if args else "")
    if not isinstance(version, str) or not version:
        raise ValueError("coderev.activateAdapter expects a version such as \"1.1.0\"")
    return await ls.state(ModelFeature).activate(version)


async def dismiss(ls: CoderevServer, *args: Any) -> dict[str, Any]:
    """coderev.dismiss: record a dismissed diagnostic in .coderev/feedback.jsonl."""
    from ai_core.model.feedback import record_feedback

    arg = _argument(args)
    uri = str(arg.get("uri", ""))
    data = arg.get("data") if isinstance(arg.get("data"), Mapping) else arg
    fingerprint = str(data.get("fingerprint", "")) if isinstance(data, Mapping) else ""
    finding = _find(ls, uri, fingerprint)
    if finding is None:
        raise ValueError(f"no current diagnostic {fingerprint!r} in {uri}")
    root = ls.first_root() or Path(path_of(uri)).parent
    await asyncio.get_running_loop().run_in_executor(
        None, record_feedback, root, "dismissed", finding, str(arg.get("detail", "")))
    return {"recorded": True, "fingerprint": fingerprint}


def register(server: CoderevServer) -> None:
    """Register the model loader and the adapter/dismiss commands."""
    feature = server.state(ModelFeature)
    server.listeners.initialized.append(feature.ensure)
    server.listeners.settings_changed.append(feature.ensure)
    server.command(ACTIVATE_ADAPTER)(activate_adapter)
    server.command(DISMISS)(dismiss)
