"""The taint engine: follows untrusted data from sources to sinks, within and across functions and files."""

from ai_core.analysis.taint.analysis import TaintAnalysis

__all__ = ["TaintAnalysis"]
