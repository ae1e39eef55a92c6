"""The project symbol table: modules parsed from disk (or open editor buffers), cross-file name resolution,
and the per-function result cache with dependency-based invalidation.

`Project(roots)` resolves `import x`, `from x import y as z`, relative imports and re-exports to
definitions in the project's files, which it parses with tree-sitter on first use. Open documents
take precedence over disk through the `overlay` hook; definitions found nowhere locally can come from
a `DefinitionProvider` (e.g. the retrieval index). Analysis results are cached per function and
dropped when that function (or anything it depends on) changes.
"""

from ai_core.analysis.project.definitions import DefinitionProvider, ExternalDefinition, GlobalRef, Overlay, Resolved
from ai_core.analysis.project.modules import CachedResult, ProjectStats
from ai_core.analysis.project.results import Project, project_for_scan

__all__ = ["CachedResult", "DefinitionProvider", "ExternalDefinition", "GlobalRef", "Overlay", "Project",
           "ProjectStats", "Resolved", "project_for_scan"]
