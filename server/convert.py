"""The one place that knows both ai_core and LSP types: findings to diagnostics, edits to ranges."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence

from lsprotocol import types
from pygls.uris import from_fs_path

from ai_core.findings import Finding, Severity, Span, TextEdit
from ai_core.notebooks import NotebookSource, join_cells
from ai_core.parsing import ContentChange, PositionEncoding, PositionMap

log = logging.getLogger(__name__)

SOURCE = "coderev"

_SEVERITY = {
    Severity.CRITICAL: types.DiagnosticSeverity.Error,
    Severity.HIGH: types.DiagnosticSeverity.Error,
    Severity.MEDIUM: types.DiagnosticSeverity.Warning,
    Severity.LOW: types.DiagnosticSeverity.Information,
    Severity.INFO: types.DiagnosticSeverity.Hint,
}


def encoding_of(kind: str | None) -> PositionEncoding:
    """The ai_core encoding for a negotiated LSP position encoding (UTF-16 when unset)."""
    value = getattr(kind, "value", kind) or "utf-16"  # lsprotocol's enum or a plain string
    try:
        return PositionEncoding(str(value))
    except ValueError:
        return PositionEncoding.UTF16


def to_range(span: Span, positions: PositionMap, encoding: PositionEncoding) -> types.Range:
    """An LSP range for a span, counted in the negotiated encoding."""
    return types.Range(
        start=types.Position(span.start_line, positions.character_of(span.start_line, span.start_col, encoding)),
        end=types.Position(span.end_line, positions.character_of(span.end_line, span.end_col, encoding)),
    )


def byte_range(start: int, end: int, positions: PositionMap, encoding: PositionEncoding) -> types.Range:
    """An LSP range for byte offsets [start, end)."""
    (sl, sc), (el, ec) = positions.position_at(start, encoding), positions.position_at(end, encoding)
    return types.Range(start=types.Position(sl, sc), end=types.Position(el, ec))


def to_diagnostic(
    finding: Finding,
    positions: PositionMap,
    encoding: PositionEncoding,
    positions_of: Callable[[str], PositionMap | None] = lambda _path: None,
) -> types.Diagnostic:
    """A diagnostic for a finding; its taint path becomes relatedInformation an editor can walk."""
    related = []
    if finding.taint_path:
        for step in finding.taint_path.steps:
            step_positions = positions if step.path == finding.path else positions_of(step.path)
            if step_positions is None:  # file not readable: fall back to byte columns
                step_positions = PositionMap(b"")
            related.append(types.DiagnosticRelatedInformation(
                location=types.Location(uri=from_fs_path(step.path) or step.path,
                                        range=to_range(step.span, step_positions, encoding)),
                message=step.label,
            ))
    return types.Diagnostic(
        range=to_range(finding.span, positions, encoding),
        message=finding.message + (" (model only)" if finding.model_only else ""),
        severity=_SEVERITY[finding.severity],
        code=finding.vuln_class.value,
        code_description=types.CodeDescription(
            href=f"https://cwe.mitre.org/data/definitions/{finding.cwe}.html"),
        source=SOURCE,
        related_information=related or None,
        data={"rule": finding.rule, "cwe": finding.cwe, "confidence": finding.confidence,
              "fingerprint": finding.fingerprint, "modelOnly": finding.model_only},
    )


def to_content_changes(changes: list[types.TextDocumentContentChangeEvent]) -> list[ContentChange]:
    """LSP content changes as ai_core ContentChanges (ranges stay in the negotiated encoding)."""
    result = []
    for change in changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            start, end = change.range.start, change.range.end
            result.append(ContentChange(change.text, (start.line, start.character), (end.line, end.character)))
        else:
            result.append(ContentChange(change.text))
    return result


def to_diagnostics(
    findings: Sequence[Finding],
    positions: PositionMap,
    encoding: PositionEncoding,
    version: int,
    positions_of: Callable[[str], PositionMap | None] = lambda _path: None,
) -> tuple[list[types.Diagnostic], str]:
    """The diagnostics of one analysis and their result id (a finding that cannot be converted is logged)."""
    diagnostics = []
    for finding in findings:
        try:
            diagnostics.append(to_diagnostic(finding, positions, encoding, positions_of))
        except Exception:
            log.exception("cannot convert finding %s", finding.rule)
    digest = hashlib.sha256(repr([(d.range, d.code, d.message) for d in diagnostics]).encode())
    return diagnostics, f"{version}-{digest.hexdigest()[:12]}"


def offsets_of(lsp_range: types.Range, positions: PositionMap, encoding: PositionEncoding) -> tuple[int, int]:
    """The byte offsets [start, end) of an LSP range."""
    return (positions.offset_at(lsp_range.start.line, lsp_range.start.character, encoding),
            positions.offset_at(lsp_range.end.line, lsp_range.end.character, encoding))


def to_text_edits(edits: Sequence[TextEdit], positions: PositionMap, encoding: PositionEncoding
                  ) -> list[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit]:
    """LSP text edits for byte-offset edits of one text."""
    return [types.TextEdit(range=byte_range(e.start_byte, e.end_byte, positions, encoding), new_text=e.new_text)
            for e in edits]


def to_workspace_edit(files: Sequence[tuple[str, int | None, PositionMap, Sequence[TextEdit]]],
                      encoding: PositionEncoding) -> types.WorkspaceEdit:
    """A WorkspaceEdit of versioned TextDocumentEdits, one per (uri, version, positions, edits)."""
    changes: list[types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile] = [
        types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
            edits=to_text_edits(edits, positions, encoding))
        for uri, version, positions, edits in files]
    return types.WorkspaceEdit(document_changes=changes)


def warning_message(text: str) -> types.ShowMessageParams:
    """A warning for `window/showMessage`."""
    return types.ShowMessageParams(type=types.MessageType.Warning, message=text)


# -- notebooks: an LSP notebook as one Python source, and its findings back per cell -------------------

def notebook_source(notebook: types.NotebookDocument, cell_text: Callable[[str], tuple[str | None, str]]
                    ) -> NotebookSource:
    """The notebook's Python code cells, in order, joined (cells keyed by their document uri); `cell_text`
    gives a cell document's (language id, text)."""
    cells = []
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.kind != types.NotebookCellKind.Code:
            continue
        language, text = cell_text(cell.document)
        if language not in (None, "", "python"):
            continue
        cells.append((number, cell.document, text))
    return join_cells(cells)


def cell_diagnostics(source: NotebookSource, findings: list[Finding], cell_texts: dict[str, str],
                     encoding: PositionEncoding) -> dict[str, list[types.Diagnostic]]:
    """Diagnostics per cell uri (every code cell present, empty when clean); `cell_texts` by cell uri."""
    positions = {cell.key: PositionMap(cell_texts[cell.key].encode("utf-8")) for cell in source.cells}
    by_cell: dict[str, list[types.Diagnostic]] = {cell.key: [] for cell in source.cells}
    for finding in findings:
        located = source.to_cell(finding)
        if located is None:
            continue
        cell, local = located
        try:
            diagnostic = to_diagnostic(local, positions[cell.key], encoding, positions.get)
        except Exception:
            log.exception("cannot convert finding %s", finding.rule)
            continue
        steps = local.taint_path.steps if local.taint_path else ()
        for related, step in zip(diagnostic.related_information or [], steps, strict=False):
            if step.path in positions:  # a step in a cell: point at the cell's document
                related.location.uri = step.path
        by_cell[cell.key].append(diagnostic)
    return by_cell
