"""The adapter registry: versions side by side, the active one, activation, rollback and weighted merges.

Two layers: the adapters shipped inside the package (`ai_core/model/adapters/<version>/`, read-only) and
the user's registry folder (`.coderev/adapters/` in the workspace by default) holding created, trained
and merged versions plus `registry.json` (the active version and the activation history). Every write goes
through ai_core.safe_write relative to the workspace (no symlink at any level, no special file, atomic), and
a symlinked version folder in the registry is not read.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ai_core.model.classifier import ADAPTER_FILE, LoraSettings, adapter_weights_bytes, load_adapter_weights
from ai_core.model.minilm import BASE_MODEL_NAME, LABELS, LEGACY_LABELS, base_model_hash
from ai_core.safe_write import UnsafePath, read_bytes, write_bytes

log = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).with_name("adapters")
MANIFEST_FILE = "manifest.json"
STATE_FILE = "registry.json"
MANIFEST_LIMIT = 4 * 1024 * 1024
"""The most bytes read from a manifest or registry.json (a planted huge file is not slurped)."""


class AdapterError(Exception):
    """A missing, malformed or incompatible adapter."""


@dataclass(frozen=True)
class Adapter:
    """One adapter version on disk."""

    version: str
    path: Path
    manifest: dict[str, Any]
    builtin: bool
    within: Path | None = None
    """The workspace its folder lies in (writes refuse a symlink anywhere below it); None: the folder itself."""

    @property
    def lora(self) -> LoraSettings:
        """Its LoRA settings."""
        return LoraSettings.from_dict(self.manifest.get("lora", {}))

    @property
    def metrics(self) -> dict[str, Any]:
        """Validation metrics recorded when it was made."""
        return dict(self.manifest.get("metrics", {}))

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels its head was trained with (LABELS, or LEGACY_LABELS for adapters up to 1.1.0)."""
        return tuple(self.manifest.get("labels", LABELS))

    @property
    def evidence(self) -> bool:
        """True when it was trained on inputs that start with the engine's evidence line (candidates.evidence_line)."""
        return self.manifest.get("input") == "evidence"

    @property
    def max_length(self) -> int:
        """Token limit it was trained with."""
        return int(self.manifest.get("max_length", 192))


def parse_version(version: str) -> tuple[int, int, int]:
    """'1.2.3' -> (1, 2, 3); raise AdapterError for anything else."""
    parts = version.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise AdapterError(f"not a semantic version: {version!r} (expected MAJOR.MINOR.PATCH)")
    return int(parts[0]), int(parts[1]), int(parts[2])


def make_manifest(version: str, lora: LoraSettings, *, data_hash: str, metrics: Mapping[str, Any],
                  max_length: int, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A manifest: semantic version, base model and its hash, data hash, labels, LoRA settings, metrics."""
    parse_version(version)
    return {
        "version": version,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "base_model": BASE_MODEL_NAME,
        "base_model_hash": base_model_hash(),
        "data_hash": data_hash,
        "labels": list(LABELS),
        "lora": lora.to_dict(),
        "max_length": max_length,
        "metrics": dict(metrics),
        **dict(extra or {}),
    }


def _anchor(folder: Path, within: Path | None) -> tuple[Path, Path]:
    """The trusted folder to write relative to, and `folder` relative to it (the user's own folder: itself)."""
    if within is None:
        folder.mkdir(parents=True, exist_ok=True)  # a folder the user named (--output, an absolute registry)
        return folder, Path()
    try:
        return within, folder.relative_to(within)
    except ValueError as exc:
        raise AdapterError(f"{folder} is not inside {within}") from exc


def write_file(folder: Path, name: str, data: bytes, within: Path | None = None) -> None:
    """Replace `folder/name` atomically, refusing a symlink or special file anywhere below `within`."""
    base, rel = _anchor(folder, within)
    try:
        write_bytes(base, rel / name, data)
    except UnsafePath as exc:
        raise AdapterError(str(exc)) from exc


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """A manifest as written on disk (sorted keys, one space indent)."""
    return (json.dumps(dict(manifest), indent=1, sort_keys=True) + "\n").encode("utf-8")


def write_adapter(folder: Path, state: Mapping[str, Any], manifest: Mapping[str, Any],
                  within: Path | None = None) -> None:
    """Write adapter tensors and manifest into `folder` (through safe_write, relative to `within`)."""
    write_file(folder, ADAPTER_FILE, adapter_weights_bytes(state), within)
    write_file(folder, MANIFEST_FILE, manifest_bytes(manifest), within)


def _read_json(folder: Path, name: str, within: Path | None) -> Any:
    """JSON of `folder/name`: below a workspace never through a symlink or special file, at most MANIFEST_LIMIT."""
    if within is None:
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(path)
        data = path.read_bytes()
    else:
        data = read_bytes(within, folder.relative_to(within) / name, MANIFEST_LIMIT)
    return json.loads(data)


def read_adapter(folder: Path, builtin: bool = False, within: Path | None = None) -> Adapter:
    """The adapter in `folder`; AdapterError if its files are missing or it does not fit the base model."""
    manifest_path = folder / MANIFEST_FILE
    if not (folder / ADAPTER_FILE).is_file():
        raise AdapterError(f"{folder} has no {ADAPTER_FILE} + {MANIFEST_FILE}")
    try:
        manifest = _read_json(folder, MANIFEST_FILE, within)
    except FileNotFoundError as exc:
        raise AdapterError(f"{folder} has no {ADAPTER_FILE} + {MANIFEST_FILE}") from exc
    except (OSError, ValueError) as exc:
        raise AdapterError(f"cannot read {manifest_path}: {exc}") from exc
    if not isinstance(manifest, dict):
        raise AdapterError(f"{manifest_path} is not a JSON object")
    labels = list(manifest.get("labels", []))
    if labels not in (list(LABELS), list(LEGACY_LABELS)):
        raise AdapterError(f"{folder}: label set {manifest.get('labels')} is neither {list(LABELS)} nor the "
                           f"13 labels of adapters up to 1.1.0")
    version = str(manifest.get("version", folder.name))
    parse_version(version)
    return Adapter(version, folder, manifest, builtin, within)


def write_manifest(adapter: Adapter, manifest: Mapping[str, Any]) -> None:
    """Replace an adapter's manifest on disk and in memory (through safe_write)."""
    write_file(adapter.path, MANIFEST_FILE, manifest_bytes(manifest), adapter.within)
    adapter.manifest.clear()
    adapter.manifest.update(manifest)


class AdapterRegistry:
    """Versions in the package and in a user folder; the active one is recorded in registry.json.

    `within` is the workspace the user folder lies in: every write and read of the folder is made relative
    to it through safe_write (None: an absolute folder the user named, trusted as given).
    """

    def __init__(self, root: Path | None, builtin_dir: Path = BUILTIN_DIR, within: Path | None = None) -> None:
        self.root = root
        self.builtin_dir = builtin_dir
        self.within = within

    @classmethod
    def for_workspace(cls, workspace: Path | None, setting: str = ".coderev/adapters") -> AdapterRegistry:
        """The registry of a workspace (`setting` relative to it, or absolute)."""
        folder = Path(setting).expanduser()
        if folder.is_absolute():
            return cls(folder)
        base = Path(workspace or Path.cwd()).absolute()
        return cls(base / folder, within=base)

    # ---------------------------------------------------------------- reading
    def versions(self) -> list[Adapter]:
        """Every readable version, oldest first (malformed folders are logged and skipped)."""
        found: dict[str, Adapter] = {}
        for base, builtin in ((self.builtin_dir, True), (self.root, False)):
            if base is None or not base.is_dir():
                continue
            for folder in sorted(p for p in base.iterdir() if p.is_dir()):
                if not builtin and folder.is_symlink():
                    log.warning("skipping adapter folder %s: a symlink", folder)
                    continue
                try:
                    adapter = read_adapter(folder, builtin, None if builtin else self.within)
                except AdapterError as exc:
                    log.warning("skipping adapter folder: %s", exc)
                    continue
                found.setdefault(adapter.version, adapter)
        return sorted(found.values(), key=lambda a: parse_version(a.version))

    def get(self, version: str) -> Adapter:
        """One version; AdapterError if unknown."""
        for adapter in self.versions():
            if adapter.version == version:
                return adapter
        known = ", ".join(a.version for a in self.versions()) or "none"
        raise AdapterError(f"no adapter version {version!r} (known: {known})")

    def _state(self) -> dict[str, Any]:
        empty: dict[str, Any] = {"active": None, "history": []}
        if self.root is None:
            return empty
        try:
            data = _read_json(self.root, STATE_FILE, self.within)
        except FileNotFoundError:
            return empty
        except (OSError, ValueError) as exc:
            log.warning("cannot read %s (%s); using the default adapter", self.root / STATE_FILE, exc)
            return empty
        if not isinstance(data, dict):
            return empty
        return {"active": data.get("active"), "history": list(data.get("history", []))}

    def _save_state(self, state: Mapping[str, Any]) -> None:
        if self.root is None:
            raise AdapterError("no registry folder configured")
        write_file(self.root, STATE_FILE, (json.dumps(dict(state), indent=1) + "\n").encode("utf-8"), self.within)

    def default(self) -> Adapter | None:
        """The newest shipped adapter."""
        builtin = [a for a in self.versions() if a.builtin]
        return builtin[-1] if builtin else None

    def active(self) -> Adapter | None:
        """The active version (the recorded one, else the newest shipped), or None when there is none."""
        recorded = self._state()["active"]
        if recorded:
            try:
                return self.get(recorded)
            except AdapterError as exc:
                log.warning("active adapter missing (%s); using the default", exc)
        return self.default()

    def resolve(self, version: str = "") -> Adapter:
        """`version` if given, else the active one; AdapterError when there is none."""
        if version:
            return self.get(version)
        adapter = self.active()
        if adapter is None:
            raise AdapterError("no adapter installed (train one with `coderev train`)")
        return adapter

    # ---------------------------------------------------------------- changing
    def next_version(self, bump: str = "minor") -> str:
        """The next free semantic version after the newest one."""
        versions = [parse_version(a.version) for a in self.versions()] or [(0, 0, 0)]
        major, minor, patch = max(versions)
        if bump == "major":
            return f"{major + 1}.0.0"
        if bump == "patch":
            return f"{major}.{minor}.{patch + 1}"
        return f"{major}.{minor + 1}.0"

    def activate(self, version: str) -> Adapter:
        """Make `version` active (the previous one goes on the history for rollback)."""
        adapter = self.get(version)
        state = self._state()
        current = self.active()
        if current is not None and current.version != version:
            state["history"].append(current.version)
        state["active"] = version
        self._save_state(state)
        log.info("activated adapter %s", version)
        return adapter

    def rollback(self) -> Adapter:
        """Return to the previously active version."""
        state = self._state()
        while state["history"]:
            previous = state["history"].pop()
            try:
                adapter = self.get(previous)
            except AdapterError:
                continue
            state["active"] = previous
            self._save_state(state)
            return adapter
        raise AdapterError("nothing to roll back to (no earlier active version)")

    def add(self, state: Mapping[str, Any], manifest: Mapping[str, Any], activate: bool = False) -> Adapter:
        """Store a new version in the user folder (never overwriting one)."""
        if self.root is None:
            raise AdapterError("no registry folder configured")
        version = str(manifest["version"])
        parse_version(version)
        if any(a.version == version for a in self.versions()):
            raise AdapterError(f"adapter version {version} already exists")
        folder = self.root / version
        write_adapter(folder, state, manifest, self.within)
        adapter = read_adapter(folder, within=self.within)
        if activate:
            self.activate(version)
        return adapter

    def create(self, source: Path | None = None, version: str = "", activate: bool = False,
               note: str = "") -> Adapter:
        """A new version copied from `source` (an adapter folder) or from the active adapter."""
        origin = read_adapter(source) if source is not None else self.resolve()
        manifest = dict(origin.manifest)
        manifest.update(version=version or self.next_version(), parent=origin.version,
                        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"))
        if note:
            manifest["note"] = note
        return self.add(load_adapter_weights(origin.path), manifest, activate)

    def merge(self, versions: Sequence[str], weights: Sequence[float] | None = None, version: str = "",
              activate: bool = False) -> Adapter:
        """A weighted merge of LoRA adapters as a new version (exact: delta W = sum w_i B_i A_i)."""
        adapters = [self.get(v) for v in versions]
        if len(adapters) < 2:
            raise AdapterError("merge needs at least two versions")
        weights = list(weights) if weights else [1.0 / len(adapters)] * len(adapters)
        if len(weights) != len(adapters):
            raise AdapterError("give one weight per version")
        state, lora = merge_states([(load_adapter_weights(a.path), a.lora, w) for a, w in zip(adapters, weights,
                                                                                               strict=True)])
        metrics: dict[str, Any] = {}
        manifest = make_manifest(version or self.next_version(), lora, data_hash="merge",
                                 metrics=metrics, max_length=max(a.max_length for a in adapters),
                                 extra={"merged_from": [[a.version, w] for a, w in zip(adapters, weights,
                                                                                        strict=True)]})
        return self.add(state, manifest, activate)


def merge_states(parts: Sequence[tuple[Mapping[str, Any], LoraSettings, float]]) -> tuple[dict[str, Any], LoraSettings]:
    """Concatenate LoRA factors (scaled by weight * alpha / r) and average the heads by weight."""
    import torch

    targets = set(parts[0][1].target_modules)
    if any(set(lora.target_modules) != targets for _, lora, _ in parts):
        raise AdapterError("adapters target different modules; cannot merge")
    keys = set(parts[0][0])
    if any(set(state) != keys for state, _, _ in parts):
        raise AdapterError("adapters have different tensors; cannot merge")
    merged: dict[str, Any] = {}
    rank = sum(lora.r for _, lora, _ in parts)
    for key in sorted(keys):
        if ".lora_A." in key:
            merged[key] = torch.cat([state[key] for state, _, _ in parts], dim=0)
        elif ".lora_B." in key:
            merged[key] = torch.cat([state[key] * (w * lora.alpha / lora.r) for state, lora, w in parts], dim=1)
        else:  # the classification head (modules_to_save): weighted average
            total = sum(w for _, _, w in parts)
            merged[key] = sum(state[key] * (w / total) for state, _, w in parts)
    first = parts[0][1]
    lora = LoraSettings(r=rank, alpha=rank, dropout=first.dropout, target_modules=first.target_modules,
                        modules_to_save=first.modules_to_save)
    return merged, lora
