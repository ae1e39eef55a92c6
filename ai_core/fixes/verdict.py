"""What verifying a fix concludes (Verdict), and the error of a verification step that could not run."""

from __future__ import annotations

from dataclasses import dataclass

REPAIRABLE = frozenset({"I001", "E501"})


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of verifying one patched text."""

    ok: bool
    reason: str = ""
    new_codes: tuple[str, ...] = ()
    """Ruff codes the patch introduced (when that is why it failed)."""
    file: str = ""
    """For a multi-file fix: the other file those codes are in."""

    @property
    def repairable(self) -> bool:
        """True when the only problems are import order (I001) or long lines (E501), which ruff can repair."""
        return bool(self.new_codes) and set(self.new_codes) <= REPAIRABLE


class VerificationError(Exception):
    """A verification step could not run (ruff missing, timeout)."""
