"""Verified fixes: rewriters per class, import insertion, verification, the fix journal, the generative fixer."""

from ai_core.fixes.completion import UnverifiedFix
from ai_core.fixes.engine import FixAllResult, Fixer, Proposal, make_fixer
from ai_core.fixes.journal import Entry, Journal, OutsideWorkspace, UndoRefused
from ai_core.fixes.ruff_runner import Ruff
from ai_core.fixes.testrunner import TestRunner
from ai_core.fixes.text import apply_edits, diff_edits, sha256_text, unified_diff
from ai_core.fixes.verdict import Verdict
from ai_core.fixes.verify import Verifier

__all__ = [
    "Entry",
    "FixAllResult",
    "Fixer",
    "Journal",
    "OutsideWorkspace",
    "Proposal",
    "Ruff",
    "TestRunner",
    "UndoRefused",
    "UnverifiedFix",
    "Verdict",
    "Verifier",
    "apply_edits",
    "diff_edits",
    "make_fixer",
    "sha256_text",
    "unified_diff",
]
