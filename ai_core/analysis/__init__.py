"""Turning a document into findings: specs, the taint engine, non-flow checks and the Analyzer."""

from ai_core.analysis.analyzer import Analyzer

__all__ = ["Analyzer"]
