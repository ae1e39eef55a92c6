"""Training data from real code by mutation: safe sink usages in installed packages made vulnerable.

Each real function holding a safe use of a sink (a bound SQL parameter, `yaml.safe_load`, a subprocess
argument list, `verify=...`, an `escape()`, `hmac.compare_digest`, `secrets`, `ast.literal_eval`…) yields a
mutant (one AST-located rewrite of that call: the parameter becomes an f-string, `safe_load` becomes `load`,
the list becomes a shell string, the escape is removed…) labelled with the class, and the original kept as
its safe twin. Both are rendered as the model sees a candidate: the lines around the sink, flagged. The
engine also runs on both files: its candidates of the mutation's class on the mutated line are positives,
its candidates on the unmutated real code are negatives (library code of widely used packages, taken as
reviewed safe). Samples are split by package, never by sample. The held-out suites and the bench/realworld
projects are never read (none is an installed package; `EXCLUDED` lists the security tools skipped).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import logging
import re
import sysconfig
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ai_core.findings import SAFE_LABEL, Finding
from ai_core.findings import VulnClass as V
from ai_core.model.candidates import SLICE_CONTEXT_LINES, Candidate, candidate_for, evidence_line, window
from ai_core.model.data.generator import Example

log = logging.getLogger(__name__)

PACKAGES = ("flask", "werkzeug", "jinja2", "requests", "starlette", "httpx", "urllib3", "botocore", "docker",
            "pip", "setuptools", "huggingface_hub", "playhouse", "fsspec", "joblib", "filelock", "click",
            "pygments", "mcp", "lancedb", "accelerate", "jwt", "joserfc", "aws_xray_sdk", "coverage", "typer",
            "prometheus_client", "yaml", "mypy", "hypothesis", "nbformat", "pydantic", "peft", "psutil")
"""Installed packages (import names) whose functions are mutated: real, widely used library code."""
STDLIB = ("sqlite3", "subprocess", "shutil", "tarfile", "zipfile", "http", "urllib", "email", "logging",
          "multiprocessing", "xml", "json", "ssl", "smtplib", "ftplib", "imaplib", "poplib", "tempfile",
          "uuid", "random", "secrets", "hmac", "shlex", "webbrowser", "platform", "ctypes", "pydoc", "venv",
          "mailbox", "mimetypes", "netrc", "asyncio", "concurrent", "importlib", "wsgiref", "xmlrpc", "dbm")
"""Standard-library modules, each its own project for the split."""
EXCLUDED = frozenset({"bandit", "semgrep", "detect_secrets", "moto", "semdep", "cfnlint"})
"""Security tools and mocks: their code holds deliberately dangerous patterns; never used."""
_SKIP_PARTS = frozenset({"test", "tests", "testing", "_vendor", "vendor", "examples", "__pycache__", "docs"})
SPLITS = ("train", "val", "test")
MAX_PER_RULE_PER_PROJECT = 12
"""At most this many mutants of one rule from one project (json.loads and verify= would swamp the rest)."""


@dataclass(frozen=True)
class Mutation:
    """One rewrite of a call: its id, the class it introduces, and the replacement text (None: not applicable)."""

    name: str
    vuln_class: V
    rewrite: Callable[[ast.Call, str], str | None]


@dataclass(frozen=True)
class Mutant:
    """A real function's file with one sink made vulnerable, and the line of that sink (0-based)."""

    project: str
    path: str
    mutation: Mutation
    original: str
    mutated: str
    line: int


def _name(node: ast.AST) -> str:
    """Dotted name of a call target (`a.b.c`), '' when it is not a plain name chain."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _name(node.value)
        return f"{head}.{node.attr}" if head else ""
    return ""


@functools.lru_cache(maxsize=4)
def _lines(source: str) -> tuple[list[str], list[int]]:
    """The lines of `source` and the character offset where each starts (once per file)."""
    lines = source.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    return lines, starts


def _offset(source: str, node: Any, end: bool = False) -> int:
    """Character offset of a node's start (or end) in `source` (ast columns are UTF-8 byte offsets)."""
    lines, starts = _lines(source)
    line = (node.end_lineno if end else node.lineno) or 1
    col = (node.end_col_offset if end else node.col_offset) or 0
    text = lines[line - 1]
    return starts[line - 1] + (col if text.isascii() else len(text.encode()[:col].decode(errors="ignore")))


def _seg(source: str, node: ast.AST) -> str:
    return source[_offset(source, node): _offset(source, node, end=True)]


def _has_kw(call: ast.Call, key: str) -> ast.keyword | None:
    return next((k for k in call.keywords if k.arg == key), None)


def _callee(call: ast.Call, source: str) -> str:
    return _seg(source, call.func)


def _sql(call: ast.Call, source: str) -> str | None:
    """`cur.execute(sql, params)` -> the parameters formatted into the query text."""
    if not isinstance(call.func, ast.Attribute) or call.func.attr not in ("execute", "executemany") \
            or len(call.args) != 2 or call.keywords:
        return None
    query, params = call.args
    if isinstance(query, ast.Constant) and isinstance(query.value, str) \
            and isinstance(params, ast.Tuple | ast.List) and params.elts:
        marks = re.findall(r"\?|%s", query.value)
        if len(marks) == len(params.elts):
            text = query.value
            for elt in params.elts:
                text = re.sub(r"\?|%s", "'{" + _seg(source, elt).replace("\\", "\\\\") + "}'", text, count=1)
            return f"{_callee(call, source)}(f{text!r})"
    return f"{_callee(call, source)}({_seg(source, query)} % tuple({_seg(source, params)}))"


def _unwrap(*names: str) -> Callable[[ast.Call, str], str | None]:
    """`escape(x)` -> `x`: the sanitizer removed."""
    def rewrite(call: ast.Call, source: str) -> str | None:
        if _name(call.func) in names and len(call.args) == 1 and not call.keywords:
            return _seg(source, call.args[0])
        return None
    return rewrite


def _shell(call: ast.Call, source: str) -> str | None:
    """`subprocess.run([...])` -> `subprocess.run(" ".join([...]), shell=True)`."""
    if _name(call.func) not in ("subprocess.run", "subprocess.call", "subprocess.check_call",
                                "subprocess.check_output", "subprocess.Popen") or not call.args:
        return None
    shell = _has_kw(call, "shell")
    if shell is not None and not (isinstance(shell.value, ast.Constant) and shell.value.value is False):
        return None
    rest = [_seg(source, a) for a in call.args[1:]] + [_seg(source, k) for k in call.keywords if k.arg != "shell"]
    joined = '" ".join(' + _seg(source, call.args[0]) + ")"
    return _callee(call, source) + "(" + ", ".join([joined, *rest, "shell=True"]) + ")"


def _keyword(key: str, value: str, unless: object = False) -> Callable[[ast.Call, str], str | None]:
    """`f(..., verify=X)` -> `f(..., verify=False)` (not where it already is `unless`)."""
    def rewrite(call: ast.Call, source: str) -> str | None:
        found = _has_kw(call, key)
        if found is None or (isinstance(found.value, ast.Constant) and found.value.value == unless):
            return None
        text = _seg(source, call)
        kw = _seg(source, found)
        return text.replace(kw, f"{key}={value}", 1) if kw in text else None
    return rewrite


def _compare(call: ast.Call, source: str) -> str | None:
    """`hmac.compare_digest(a, b)` -> `a == b`."""
    if _name(call.func) in ("hmac.compare_digest", "compare_digest", "secrets.compare_digest") \
            and len(call.args) == 2:
        return f"{_seg(source, call.args[0])} == {_seg(source, call.args[1])}"
    return None


def _randomness(call: ast.Call, source: str) -> str | None:
    """`secrets.token_hex(n)` / `os.urandom(n)` / `secrets.choice(x)` -> the `random` module's equivalent."""
    name = _name(call.func)
    args = ", ".join(_seg(source, a) for a in call.args)
    if name in ("secrets.token_hex",):
        return f"'%x' % random.getrandbits({args or '32'} * 8)"
    if name in ("secrets.token_urlsafe", "secrets.token_bytes", "os.urandom"):
        return f"random.randbytes({args or '32'})"
    if name in ("secrets.choice", "secrets.randbelow"):
        return f"random.{'choice' if name.endswith('choice') else 'randrange'}({args})"
    return None


def _literal_eval(call: ast.Call, source: str) -> str | None:
    if _name(call.func) in ("ast.literal_eval", "literal_eval") and len(call.args) == 1:
        return f"eval({_seg(source, call.args[0])})"
    return None


def _deser(call: ast.Call, source: str) -> str | None:
    """`yaml.safe_load(x)` -> `yaml.load(x, Loader=yaml.Loader)`; `json.loads(x)` -> `pickle.loads(x)`."""
    name = _name(call.func)
    args = ", ".join(_seg(source, a) for a in call.args)
    if name == "yaml.safe_load" and len(call.args) == 1:
        return f"yaml.load({args}, Loader=yaml.Loader)"
    if name in ("json.loads", "json.load") and len(call.args) == 1 and not call.keywords:
        return f"pickle.{name.rsplit('.', 1)[-1]}({args})"
    return None


def _path(call: ast.Call, source: str) -> str | None:
    """`safe_join(a, b)` -> `os.path.join(a, b)`; `os.path.basename(x)` / `secure_filename(x)` -> `x`."""
    name = _name(call.func)
    if name.rsplit(".", 1)[-1] == "safe_join" and len(call.args) >= 2:
        return f"os.path.join({', '.join(_seg(source, a) for a in call.args)})"
    if name in ("os.path.basename", "secure_filename", "werkzeug.utils.secure_filename") and len(call.args) == 1:
        return _seg(source, call.args[0])
    return None


def _tls(call: ast.Call, source: str) -> str | None:
    if _name(call.func) == "ssl.create_default_context":
        return "ssl._create_unverified_context()"
    return None


MUTATIONS: tuple[Mutation, ...] = (
    Mutation("sql-bound-to-format", V.SQL_INJECTION, _sql),
    Mutation("shell-list-to-string", V.COMMAND_INJECTION, _shell),
    Mutation("shlex-quote-removed", V.COMMAND_INJECTION, _unwrap("shlex.quote", "pipes.quote")),
    Mutation("escape-removed", V.XSS, _unwrap("escape", "html.escape", "markupsafe.escape", "Markup.escape",
                                              "conditional_escape", "cgi.escape", "xml.sax.saxutils.escape")),
    Mutation("autoescape-off", V.XSS, _keyword("autoescape", "False")),
    Mutation("verify-off", V.SENSITIVE_DATA_EXPOSURE, _keyword("verify", "False")),
    Mutation("tls-unverified", V.SENSITIVE_DATA_EXPOSURE, _tls),
    Mutation("compare-digest-to-eq", V.BROKEN_AUTH, _compare),
    Mutation("secrets-to-random", V.INSECURE_RANDOMNESS, _randomness),
    Mutation("literal-eval-to-eval", V.CODE_INJECTION, _literal_eval),
    Mutation("safe-load-to-load", V.INSECURE_DESERIALIZATION, _deser),
    Mutation("path-check-removed", V.PATH_TRAVERSAL, _path),
    Mutation("xml-entities-on", V.XXE, _keyword("resolve_entities", "True", unless=True)),
    Mutation("cookie-httponly-off", V.SECURITY_MISCONFIGURATION, _keyword("httponly", "False")),
)


def project_split(project: str) -> str:
    """train / val / test for a project, stable by its name's hash (about 60/20/20)."""
    bucket = int(hashlib.sha256(project.encode()).hexdigest()[:8], 16) % 10
    return "val" if bucket in (0, 1) else "test" if bucket in (2, 3) else "train"


def sources(site_packages: Path | None = None, stdlib: Path | None = None) -> Iterator[tuple[str, Path]]:
    """(project, file) for every module of PACKAGES and STDLIB, test suites and vendored code skipped."""
    purelib = site_packages or Path(sysconfig.get_paths()["purelib"])
    std = stdlib or Path(sysconfig.get_paths()["stdlib"])
    roots = [(p, purelib / p) for p in PACKAGES if p not in EXCLUDED] + [(f"stdlib.{m}", std / m) for m in STDLIB]
    for project, root in roots:
        files = [root] if root.with_suffix(".py").is_file() and not root.is_dir() else sorted(root.rglob("*.py"))
        if root.with_suffix(".py").is_file():
            files = [root.with_suffix(".py")]
        for path in files:
            rel = path.relative_to(root).parts if path != root.with_suffix(".py") else ()
            if any(part in _SKIP_PARTS or part.startswith("test_") for part in rel):
                continue
            yield project, path


_PATH_SINKS = re.compile(r"open\(|\.join\(|send_file|\.save\(|remove\(|unlink|rmtree|copy|move\(|extract|Path\(")


def _reaches_sink(mutation: Mutation, source: str, line: int) -> bool:
    """A removed path check only counts where a file operation follows within a few lines."""
    if mutation.vuln_class is not V.PATH_TRAVERSAL:
        return True
    lines, _ = _lines(source)
    return bool(_PATH_SINKS.search("\n".join(lines[line: line + 4])))


def mutants_of(project: str, path: str, source: str) -> Iterator[Mutant]:
    """Every single-call mutation applicable to `source` (one mutant per applicable call)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or node.lineno != node.end_lineno:
            continue  # one-line calls only: the flagged line is the whole sink
        for mutation in MUTATIONS:
            new = mutation.rewrite(node, source)
            if new is None or not _reaches_sink(mutation, source, node.lineno - 1):
                continue
            start, end = _offset(source, node), _offset(source, node, end=True)
            mutated = source[:start] + new + source[end:]
            if mutated == source:
                continue
            yield Mutant(project, path, mutation, source, mutated, node.lineno - 1)
            break


def _enclosing(source: str, line: int) -> tuple[int, int] | None:
    """First and last line (0-based) of the innermost function holding `line`."""
    best: tuple[int, int] | None = None
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno \
                and node.lineno - 1 <= line <= node.end_lineno - 1 and (best is None or node.lineno - 1 >= best[0]):
            best = (node.lineno - 1, node.end_lineno - 1)
    return best


def twin_examples(mutant: Mutant) -> tuple[Example, Example] | None:
    """The mutant (its class) and its original (safe), both as a flagged review-tier slice of the function."""
    func = _enclosing(mutant.original, mutant.line)
    if func is None:
        return None
    label = mutant.mutation.vuln_class.value
    header = evidence_line("review", "", label)
    family = f"mutated:{mutant.project}"
    out = []
    for text, tag in ((mutant.mutated, label), (mutant.original, SAFE_LABEL)):
        lines = text.split("\n")
        lo = max(func[0], mutant.line - SLICE_CONTEXT_LINES)
        hi = min(func[1], mutant.line + SLICE_CONTEXT_LINES)
        code = window(lines[lo: hi + 1], mutant.line - lo, mutant.line - lo, SLICE_CONTEXT_LINES)
        out.append(Example(header + "\n" + Candidate(code=code).render(), tag, family, "mutated"))
    return out[0], out[1]


def engine_examples(findings: Sequence[Finding], doc_text: str, path: str, label: str | None, line: int,
                    project: str) -> Iterator[Example]:
    """Engine candidates as examples: on a mutant, those of `label`'s class on the mutated line (positives);
    on real code (`label` None), every candidate (negatives: reviewed library code)."""
    from ai_core.parsing import ParsedDocument

    doc = ParsedDocument(doc_text, path=path)
    for finding in findings:
        if label is not None and (finding.vuln_class.value != label
                                  or not finding.span.start_line <= line <= finding.span.end_line):
            continue
        text = candidate_for(doc, finding).render(evidence=True)
        yield Example(text, label or SAFE_LABEL, f"{'mutated' if label else 'real'}:{project}",
                      "mutated-engine" if label else "real-engine", finding.confidence)


def build_mutated(limit_files: int = 0, analyzer: object | None = None) -> tuple[list[tuple[Example, str]],
                                                                                  dict[str, object]]:
    """Every (example, split) from mutation of installed code, and a manifest of its sources and counts."""
    items: list[tuple[Example, str]] = []
    per_rule: Counter[tuple[str, str]] = Counter()
    projects: dict[str, dict[str, Any]] = {}
    files_read = 0
    for project, path in sources():
        if limit_files and files_read >= limit_files:
            break
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        files_read += 1
        split = project_split(project)
        stats = projects.setdefault(project, {"split": split, "mutants": 0, "engine_pos": 0, "engine_neg": 0})
        mutants = []
        for mutant in mutants_of(project, str(path), text):
            key = (project, mutant.mutation.name)
            if per_rule[key] >= MAX_PER_RULE_PER_PROJECT:
                continue
            pair = twin_examples(mutant)
            if pair is None:
                continue
            per_rule[key] += 1
            mutants.append(mutant)
            items += [(pair[0], split), (pair[1], split)]
            stats["mutants"] += 1
        if analyzer is None or not mutants:
            continue
        analyze = analyzer.analyze  # type: ignore[attr-defined]
        from ai_core.parsing import ParsedDocument

        try:
            real = analyze(ParsedDocument(text, path=str(path)), str(path))
        except Exception:  # a parse or rule failure on one file must not stop the build
            log.debug("engine failed on %s", path, exc_info=True)
            continue
        for example in engine_examples(real, text, str(path), None, -1, project):
            items.append((example, split))
            stats["engine_neg"] += 1
        for mutant in mutants[:4]:
            try:
                found = analyze(ParsedDocument(mutant.mutated, path=str(path)), str(path))
            except Exception:
                continue
            for example in engine_examples(found, mutant.mutated, str(path), mutant.mutation.vuln_class.value,
                                           mutant.line, project):
                items.append((example, split))
                stats["engine_pos"] += 1
    manifest = {
        "projects": {p: s for p, s in sorted(projects.items()) if s["mutants"]},
        "mutations": dict(sorted(Counter(m for (_, m), n in per_rule.items() for _ in range(n)).items())),
        "files_read": files_read,
        "excluded": sorted(EXCLUDED),
        "note": "engine candidates on unmutated installed code are labelled safe: library code of widely used "
                "packages, taken as reviewed; the held-out suites and bench/realworld projects are never read",
    }
    return items, manifest
