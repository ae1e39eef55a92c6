"""tree-sitter parsing of Python with incremental re-parse, exact position mapping, and tree navigation (`tree`)."""

from ai_core.parsing.document import ContentChange, ParsedDocument, parse_python
from ai_core.parsing.positions import PositionEncoding, PositionMap

__all__ = ["ContentChange", "ParsedDocument", "PositionEncoding", "PositionMap", "parse_python"]
