"""tree-sitter parsing of Python with incremental re-parse and exact position mapping."""

from ai_core.parsing.document import ContentChange, ParsedDocument, parse_python
from ai_core.parsing.positions import PositionEncoding, PositionMap

__all__ = ["ContentChange", "ParsedDocument", "PositionEncoding", "PositionMap", "parse_python"]
