"""The Fixer: drafts from generative providers and rewriters, completed with imports, verified, or refused."""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.files import SourceError, read_source
from ai_core.findings import Finding, Fix, Span, TextEdit, VulnClass
from ai_core.fixes.completion import UnverifiedFix, complete_draft, supply_title
from ai_core.fixes.context import (
    REVIEW_TIER,
    FixContext,
    ProjectInfo,
    Rewriter,
    finding_tier,
    is_source_independent,
    project_info,
)
from ai_core.fixes.rewriters import rewriters_for
from ai_core.fixes.ruff_runner import changed_lines
from ai_core.fixes.text import EditError, diff_edits
from ai_core.fixes.verdict import Verdict, VerificationError
from ai_core.fixes.verify import Verifier
from ai_core.parsing import ParsedDocument
from ai_core.parsing.tree import node_at

log = logging.getLogger(__name__)

MAX_OTHER_FILE_BYTES = 8 * 1024 * 1024
REVIEW_TITLE = " (review finding: safe whatever the data's source)"
"""Added to the title of a fix offered for a review-tier finding."""
REVIEW_REFUSAL = ("review finding: only fixes that are right whatever the data's source are offered "
                  "(bound parameters, argument lists, safe loaders, escaping that keeps the markup), not allowlists")
MAX_CHAINED_SINKS = 3
"""Further sinks of one flow a fix may guard besides the first (a helper that sends two requests)."""


class Generator(Protocol):
    """A source of whole-text candidates (the generative fixer): yields (source name, patched text)."""

    def candidates(self, doc: ParsedDocument, finding: Finding) -> Iterator[tuple[str, str]]:
        """Patched versions of `doc`'s text that may remove `finding`."""
        ...


@dataclass(frozen=True)
class Proposal:
    """The verified fix for one finding (or None), with the reasons the other candidates were refused."""

    finding: Finding
    fix: Fix | None
    after: str = ""
    source: str = ""
    note: str = ""
    rejected: tuple[str, ...] = ()
    files: tuple[tuple[str, str, str], ...] = ()
    """Other files the fix changes: (path, text before, text after)."""

    @property
    def reason(self) -> str:
        """Why no fix is offered (empty when one is)."""
        if self.fix is not None:
            return ""
        return "; ".join(self.rejected) or f"no rewriter for {self.finding.vuln_class.value} at this code shape"


@dataclass
class FixAllResult:
    """Every finding of a file fixed in sequence: the final text, the combined edits and what was skipped."""

    before: str
    after: str
    edits: tuple[TextEdit, ...]
    fixed: list[Proposal] = field(default_factory=list)
    skipped: list[Proposal] = field(default_factory=list)
    others: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Other files changed by cross-file fixes: path -> (text before, text after)."""


class Fixer:
    """Proposes verified fixes for findings of one workspace folder."""

    def __init__(self, analyzer: Analyzer, root: Path | None = None, verifier: Verifier | None = None,
                 generator: Generator | None = None, project: ProjectInfo | None = None,
                 overlay: Callable[[str], str | None] | None = None) -> None:
        self.analyzer = analyzer
        self.root = root
        self.verifier = verifier or Verifier(analyzer, root)
        self.generator = generator
        self._project = project
        self.overlay = overlay
        """The editor's text of an open file (None: read the disk), for fixes in other files."""
        self._local = threading.local()

    @property
    def _fix_all_texts(self) -> dict[str, str]:
        """Texts of other files already patched by the running fix_all (per thread)."""
        texts = getattr(self._local, "fix_all_texts", None)
        if texts is None:
            texts = self._local.fix_all_texts = {}
        return texts  # type: ignore[no-any-return]

    @_fix_all_texts.setter
    def _fix_all_texts(self, value: dict[str, str]) -> None:
        self._local.fix_all_texts = value

    def read_text(self, path: str) -> str | None:
        """The current text of a file: the running fix-all's patched text, then the editor's buffer, then the disk."""
        key = os.path.abspath(path)
        if key in self._fix_all_texts:
            return self._fix_all_texts[key]
        if self.overlay is not None:
            text = self.overlay(key)
            if text is not None:
                return text
        try:
            return read_source(Path(key), MAX_OTHER_FILE_BYTES)
        except SourceError:
            return None

    @property
    def project(self) -> ProjectInfo:
        """What the workspace imports (for choosing bcrypt/argon2, the SQL driver's paramstyle...) and the
        settings' `allowed_hosts`."""
        return self._project_info(cached_only=False)

    def _project_info(self, cached_only: bool) -> ProjectInfo:
        info = self._project if self._project is not None else project_info(self.root, cached_only=cached_only)
        hosts = self.analyzer.settings.allowed_hosts
        return dataclasses.replace(info, allowed_hosts=hosts) if hosts and not info.allowed_hosts else info

    def drafts(self, doc: ParsedDocument, finding: Finding) -> Iterator[UnverifiedFix]:
        """Unverified candidates from the class's rewriters, in order (fast: tree-sitter only).

        When the finding's taint path ends in another file (a call site of a vulnerable function), the
        rewriters run on that file at the sink: the fix is a multi-file fix that leaves this file unchanged.
        """
        sink = finding.taint_path.sink if finding.taint_path is not None else None
        if sink is not None and sink.path and not _same_path(sink.path, finding.path, self.root):
            yield from self._cross_file_drafts(doc, finding, sink.path, sink.span)
        yield from self._local_drafts(doc, finding)

    def _cross_file_drafts(self, doc: ParsedDocument, finding: Finding, sink_path: str,
                           span: Span) -> Iterator[UnverifiedFix]:
        path = sink_path if os.path.isabs(sink_path) or self.root is None else str(self.root / sink_path)
        if self.root is not None and not Path(path).resolve().is_relative_to(self.root.resolve()):
            return
        text = self.read_text(path)
        if text is None:
            return
        other = ParsedDocument(text, path=path)
        node = node_at(other, span)
        if node.end_byte > len(other.data) or other.node_text(node).strip() == "":
            return
        local = dataclasses.replace(finding, path=path, span=span, taint_path=None, snippet=other.node_text(node))
        before = doc.data.decode("utf-8", errors="surrogatepass")
        for candidate in self._local_drafts(other, local):
            name = Path(path).name
            fix = Fix(title=f"{candidate.fix.title} (in {name})", edits=(), path=finding.path,
                      vuln_class=finding.vuln_class, rule=finding.rule,
                      extra_files=((path, candidate.fix.edits), *candidate.fix.extra_files))
            yield UnverifiedFix(fix, before, candidate.source, candidate.note, candidate.env_vars,
                            files=((path, text, candidate.after), *candidate.files))

    def _local_drafts(self, doc: ParsedDocument, finding: Finding) -> Iterator[UnverifiedFix]:
        review = finding_tier(finding) == REVIEW_TIER
        for rewriter in offered_rewriters(finding):
            ctx = FixContext(doc, finding, self.project)
            try:
                draft = rewriter(ctx)
            except Exception:  # a broken rewriter never stops the others
                log.exception("rewriter %s failed on %s", rewriter.__name__, finding.rule)
                continue
            if draft is None:
                continue
            try:
                candidate = complete_draft(doc, finding, ctx, draft, f"rewriter:{rewriter.__name__}", self.root,
                                           self.verifier.ruff)
            except EditError as exc:
                log.info("rewriter %s produced bad edits for %s: %s", rewriter.__name__, finding.rule, exc)
                continue
            if review:
                candidate = dataclasses.replace(candidate, fix=_replace_fix(
                    candidate.fix, title=candidate.fix.title + REVIEW_TITLE))
            yield candidate

    def first_title(self, doc: ParsedDocument, finding: Finding) -> str | None:
        """The title of the first rewriter draft for the finding, without completing or verifying it (fast)."""
        sink = finding.taint_path.sink if finding.taint_path is not None else None
        if sink is not None and sink.path and not _same_path(sink.path, finding.path, self.root):
            path = sink.path if os.path.isabs(sink.path) or self.root is None else str(self.root / sink.path)
            text = self.read_text(path)
            if text is None:
                return None
            other = ParsedDocument(text, path=path)
            node = node_at(other, sink.span)
            local = dataclasses.replace(finding, path=path, span=sink.span, taint_path=None,
                                        snippet=other.node_text(node))
            title = self._first_local_title(other, local)
            return f"{title} (in {Path(path).name})" if title else None
        return self._first_local_title(doc, finding)

    def _first_local_title(self, doc: ParsedDocument, finding: Finding) -> str | None:
        project = self._project_info(cached_only=True)
        for rewriter in offered_rewriters(finding):
            try:
                draft = rewriter(FixContext(doc, finding, project))
            except Exception:
                log.exception("rewriter %s failed on %s", rewriter.__name__, finding.rule)
                continue
            if draft is not None:
                return supply_title(draft) + (REVIEW_TITLE if finding_tier(finding) == REVIEW_TIER else "")
        return None

    def has_candidate(self, doc: ParsedDocument, finding: Finding) -> bool:
        """True when some rewriter (or a configured generator) can attempt this finding."""
        generated = self.generator is not None and finding_tier(finding) != REVIEW_TIER
        return generated or self.first_title(doc, finding) is not None

    def propose(self, doc: ParsedDocument, finding: Finding) -> Proposal:
        """The first candidate that passes verification; refused candidates are logged with their reason."""
        before = doc.data.decode("utf-8", errors="surrogatepass")
        rejected: list[str] = []
        for candidate in self._all_candidates(doc, finding):
            verdict, candidate = self._verify(before, candidate, finding)
            if not verdict.ok and "still reported" in verdict.reason:
                verdict, candidate = self._fix_next_sinks(doc, finding, candidate, verdict)
            if verdict.ok:
                fix = _replace_fix(candidate.fix, verified=True)
                log.info("verified fix for %s at %s:%d (%s)", finding.rule, finding.path,
                         finding.span.start_line + 1, candidate.source)
                return Proposal(finding, fix, candidate.after, candidate.source, candidate.note, tuple(rejected),
                                candidate.files)
            log.info("fix for %s at %s:%d from %s not offered: %s", finding.rule, finding.path,
                     finding.span.start_line + 1, candidate.source, verdict.reason)
            rejected.append(f"{candidate.source}: {verdict.reason}")
        if finding_tier(finding) == REVIEW_TIER and len(offered_rewriters(finding)) < len(
                rewriters_for(finding.vuln_class)):
            rejected.append(REVIEW_REFUSAL)
        return Proposal(finding, None, rejected=tuple(rejected))

    def _fix_next_sinks(self, doc: ParsedDocument, finding: Finding, candidate: UnverifiedFix,
                        verdict: Verdict) -> tuple[Verdict, UnverifiedFix]:
        """The same flow reaching further sinks (a helper with two requests): the draft for each sink the
        re-analysis still reports is added on top of the first, up to MAX_CHAINED_SINKS, then verified whole."""
        before = doc.data.decode("utf-8", errors="surrogatepass")
        sinks = {_sink_key(finding)}
        combined = candidate
        for _ in range(MAX_CHAINED_SINKS):
            texts = {os.path.abspath(p): after for p, _b, after in combined.files}
            current = ParsedDocument(combined.after if not combined.files else before, path=doc.path,
                                     version=doc.version)
            analyzer = self.verifier.overlay_analyzer(texts, settings=self.analyzer.settings) if texts \
                else self.analyzer
            following = next((f for f in analyzer.analyze(current, finding.path)
                              if (f.vuln_class, f.rule) == (finding.vuln_class, finding.rule)
                              and (f.span.start_line == finding.span.start_line or f.snippet == finding.snippet)
                              and _sink_key(f) not in sinks), None)
            if following is None:
                break
            sinks.add(_sink_key(following))
            saved, self._fix_all_texts = self._fix_all_texts, {**self._fix_all_texts, **texts}
            try:
                step = next(iter(self._local_drafts(current, following) if not combined.files
                                 else self.drafts(current, following)), None)
            finally:
                self._fix_all_texts = saved
            if step is None:
                break
            combined = _chained(combined, step, before)
            verdict, combined = self._verify(before, combined, finding)
            if verdict.ok:
                return verdict, combined
        return verdict, candidate

    def _all_candidates(self, doc: ParsedDocument, finding: Finding) -> Iterator[UnverifiedFix]:
        if self.generator is not None and finding_tier(finding) != REVIEW_TIER:  # a generated fix is no known rewrite
            before = doc.data.decode("utf-8", errors="surrogatepass")
            try:
                for source, after in self.generator.candidates(doc, finding):
                    edits = diff_edits(before, after)
                    fix = Fix(title=f"Apply the generated fix ({source.split(':', 1)[-1]})", edits=edits,
                              path=finding.path, vuln_class=finding.vuln_class, rule=finding.rule)
                    yield UnverifiedFix(fix, after, source)
            except Exception:
                log.exception("generative fixer failed for %s; falling back to the rewriters", finding.rule)
        yield from self.drafts(doc, finding)

    def _verify(self, before: str, candidate: UnverifiedFix, finding: Finding) -> tuple[Verdict, UnverifiedFix]:
        path = finding.path
        if candidate.files:
            try:
                verdict = self.verifier.verify_files(path, before, candidate.files, [finding])
                if not verdict.ok and verdict.repairable and verdict.file:
                    repaired = self._repair_other(candidate, verdict)
                    again = self.verifier.verify_files(path, before, repaired.files, [finding])
                    if again.ok:
                        return again, repaired
                return verdict, candidate
            except VerificationError as exc:
                return Verdict(False, str(exc)), candidate
            except Exception as exc:
                log.exception("verification of a multi-file fix for %s failed", finding.rule)
                return Verdict(False, f"verification failed: {exc}"), candidate
        try:
            verdict = self.verifier.verify(before, candidate.after, path, [finding])
            if not verdict.ok and verdict.repairable:
                text = candidate.after
                ruff = self.verifier.ruff
                if "I001" in verdict.new_codes:
                    text = ruff.sort_imports(text, path, self.root)
                if "E501" in verdict.new_codes:
                    text = ruff.format_lines(text, path, changed_lines(before, text), self.root)
                repaired = UnverifiedFix(_replace_fix(candidate.fix, edits=diff_edits(before, text)),
                                     text, candidate.source, candidate.note, candidate.env_vars)
                again = self.verifier.verify(before, text, path, [finding])
                if again.ok:
                    return again, repaired
        except VerificationError as exc:
            return Verdict(False, str(exc)), candidate
        except Exception as exc:  # verification itself must never take the caller down
            log.exception("verification of a fix for %s failed", finding.rule)
            return Verdict(False, f"verification failed: {exc}"), candidate
        return verdict, candidate

    def _repair_other(self, candidate: UnverifiedFix, verdict: Verdict) -> UnverifiedFix:
        """Sort imports / reflow long lines in the other file a multi-file fix changed."""
        files = []
        extra = dict(candidate.fix.extra_files)
        ruff = self.verifier.ruff
        for other, before, after in candidate.files:
            if os.path.abspath(other) == os.path.abspath(verdict.file):
                if "I001" in verdict.new_codes:
                    after = ruff.sort_imports(after, other, self.root)
                if "E501" in verdict.new_codes:
                    after = ruff.format_lines(after, other, changed_lines(before, after), self.root)
                extra[other] = diff_edits(before, after)
            files.append((other, before, after))
        fix = _replace_fix(candidate.fix, extra_files=tuple(extra.items()))
        return dataclasses.replace(candidate, fix=fix, files=tuple(files))

    def fix_all(self, doc: ParsedDocument, findings: Iterable[Finding] | None = None,
                classes: Iterable[VulnClass] | None = None, limit: int = 200) -> FixAllResult:
        """Fix findings one after another on the evolving text, each fix verified on the text it applies to."""
        before = doc.data.decode("utf-8", errors="surrogatepass")
        path = doc.path
        wanted = frozenset(classes) if classes is not None else None
        if findings is None:
            findings = self.analyzer.analyze(doc, path)
        # Fixes are verified to add no finding, so what the evolving text reports was reported at the start
        # (perhaps reformatted by an earlier fix): select by class and rule, not by exact text.
        keys = {(f.vuln_class, f.rule) for f in findings if wanted is None or f.vuln_class in wanted}
        result = FixAllResult(before, before, ())
        attempted: set[tuple[VulnClass, str, str, int]] = set()
        current = doc
        self._fix_all_texts = {}
        try:
            current = self._fix_all_loop(current, path, keys, attempted, result, limit)
        finally:
            self._fix_all_texts = {}
        result.after = current.data.decode("utf-8", errors="surrogatepass")
        result.edits = diff_edits(before, result.after)
        return result

    def _fix_all_loop(self, current: ParsedDocument, path: str, keys: set[tuple[VulnClass, str]],
                      attempted: set[tuple[VulnClass, str, str, int]], result: FixAllResult,
                      limit: int) -> ParsedDocument:
        version = current.version
        for _ in range(limit):
            analyzer = self.analyzer if not self._fix_all_texts else self.verifier.overlay_analyzer(
                self._fix_all_texts, scorer=getattr(self.analyzer, "scorer", None), settings=self.analyzer.settings)
            todo = [f for f in analyzer.analyze(current, path)
                    if (f.vuln_class, f.rule) in keys and _attempt_key(f, current) not in attempted]
            if not todo:
                break
            finding = todo[0]
            attempted.add(_attempt_key(finding, current))
            proposal = self.propose(current, finding)
            if proposal.fix is None:
                result.skipped.append(proposal)
                continue
            result.fixed.append(proposal)
            for other, other_before, other_after in proposal.files:
                key = os.path.abspath(other)
                first = result.others.get(key, (other_before, other_after))[0]
                result.others[key] = (first, other_after)
                self._fix_all_texts[key] = other_after
            current = ParsedDocument(proposal.after, path=path, version=version)
        return current


def offered_rewriters(finding: Finding) -> tuple[Rewriter, ...]:
    """The rewriters tried for a finding: all of its class's, or for a review-tier finding (its data not proven
    to come from outside) only those whose fix is right whatever the source."""
    rewriters = rewriters_for(finding.vuln_class)
    if finding_tier(finding) != REVIEW_TIER:
        return rewriters
    return tuple(r for r in rewriters if is_source_independent(r))


def make_fixer(root: Path, settings: Settings, analyzer: Analyzer | None = None,
               overlay: Callable[[str], str | None] | None = None) -> Fixer:
    """The Fixer of a workspace folder, as both front ends build it: the generative fixer per its settings, other
    files read through `overlay` (the editor's buffers) before the disk. It never runs the workspace's tests:
    applying a fix does, when the user asked (`ai_core.fixes.testrunner.tests_gate`)."""
    from ai_core.fixes.generative import from_settings  # providers load only for a fixer

    analyzer = analyzer or Analyzer(settings)
    return Fixer(analyzer, root, verifier=Verifier(analyzer, root),
                 generator=from_settings(settings, root), overlay=overlay)


def _same_path(a: str, b: str, root: Path | None) -> bool:
    def norm(p: str) -> str:
        return os.path.normpath(p if os.path.isabs(p) or root is None else str(root / p))

    return norm(a) == norm(b)


def _sink_key(finding: Finding) -> tuple[str, int]:
    """Where a finding's flow ends (its own span without a taint path)."""
    sink = finding.taint_path.sink if finding.taint_path is not None else None
    if sink is None:
        return (finding.path, finding.span.start_byte)
    return (os.path.normpath(sink.path or finding.path), sink.span.start_byte)


def _chained(first: UnverifiedFix, second: UnverifiedFix, before: str) -> UnverifiedFix:
    """Two drafts of one flow as one fix: the second was drafted on the texts the first produced."""
    files: dict[str, tuple[str, str]] = {os.path.abspath(p): (b, a) for p, b, a in first.files}
    for path, _b, after in second.files:
        key = os.path.abspath(path)
        files[key] = (files.get(key, (_b, _b))[0], after)
    after = second.after if not second.files else first.after
    extra = (*((p, diff_edits(b, a)) for p, (b, a) in files.items()),
             *(e for e in first.fix.extra_files if os.path.abspath(e[0]) not in files))
    titles = first.fix.title if second.fix.title == first.fix.title else f"{first.fix.title}; {second.fix.title}"
    fix = dataclasses.replace(first.fix, title=titles.replace(" (in ", " (at each sink, in ", 1),
                              edits=diff_edits(before, after) if not files else (), extra_files=extra)
    note = "; ".join(dict.fromkeys(n for n in (first.note, second.note) if n))
    return UnverifiedFix(fix, after, first.source, note, tuple(dict.fromkeys((*first.env_vars, *second.env_vars))),
                         files=tuple((p, b, a) for p, (b, a) in files.items()))


def _attempt_key(finding: Finding, doc: ParsedDocument) -> tuple[VulnClass, str, str, int]:
    """Identify a finding within one text (occurrence index separates identical snippets)."""
    text = doc.data[:finding.span.start_byte]
    occurrence = text.count(finding.snippet.encode("utf-8", errors="surrogatepass")) if finding.snippet else 0
    return (finding.vuln_class, finding.rule, finding.snippet, occurrence)


def _replace_fix(fix: Fix, **changes: object) -> Fix:
    return dataclasses.replace(fix, **changes)  # type: ignore[arg-type]
