"""The training-data generator: template families rendered into varied files, then into model inputs.

A family is one *shape* of code for one class (say, an SQL query built with an f-string) with a
vulnerable body and its safe twin. Each sample places the body in a frame (a Flask route, a Django
view, a FastAPI endpoint, a script, a plain function or method, a settings module), with random
names, optional docstrings, filler lines, helper functions around it and quote styles, and is then
rendered exactly as the analyzer renders a candidate: the lines around the sink plus the taint path
(`Candidate.render()`), or the whole function for function-level mode.

Template bodies use `string.Template` placeholders (`$var` is the untrusted value), mark the sink line
with a trailing `#!sink`, and write `@return EXPR` where the frame decides how a value is returned.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from string import Template

from ai_core.findings import SAFE_LABEL, VulnClass
from ai_core.model.candidates import CONTEXT_MAX_LINES, Candidate, evidence_line, window
from ai_core.model.data.frames import (
    DJANGO_SETTINGS,
    FILLERS,
    FLASK_CONFIG,
    HELPERS,
    MODULE_FILLER,
    flow_frame,
)

SINK_MARK = "#!sink"
TWIN_SHARE = 0.45
DECOY_SUFFIXES = ("_safe", "_unsafe", "_checked", "_raw", "_v2", "_secure", "_legacy", "_fast", "2", "_new",
                  "_validated", "_insecure", "_strict", "_old")
FLOW_FRAMES = ("flask", "django", "fastapi", "script", "function", "method")
MODULE_FRAMES = ("django_settings", "flask_config", "module")


@dataclass(frozen=True)
class Family:
    """One shape of code for one class: a vulnerable body and its safe twin."""

    name: str
    vuln_class: VulnClass
    vuln: Sequence[str]
    safe: Sequence[str]
    imports: Sequence[str] = ()
    frames: Sequence[str] = FLOW_FRAMES
    flow: bool = True
    """True: the body starts from an untrusted `$var` (the frame adds the source line)."""
    pools: dict[str, Sequence[str]] = field(default_factory=dict)
    """Family-specific name pools overriding the defaults (e.g. `var` names that fit the shape)."""
    safe_imports: Sequence[str] | None = None


@dataclass(frozen=True)
class Example:
    """One labelled model input."""

    text: str
    label: str
    family: str
    view: str
    """"slice" (rule finding: lines around the sink + taint) or "function" (function-level mode)."""
    rule_confidence: float = -1.0
    """The rule's own confidence when the input is an engine candidate (loop, engine views); -1 otherwise."""


POOLS: dict[str, Sequence[str]] = {
    "var": ("user_id", "uid", "name", "username", "term", "query", "q", "search", "item_id", "value",
            "raw", "arg", "ident", "doc_id", "order", "sort", "email", "key", "slug", "category",
            "needle", "text", "user_input", "account", "ref", "field", "record_id", "label"),
    "param": ("id", "name", "q", "user", "term", "search", "item", "value", "key", "slug", "filter",
              "account", "ref", "lookup", "sort", "category", "order", "text", "email", "code"),
    "verb": ("get", "fetch", "load", "find", "lookup", "show", "list", "search", "handle", "process",
             "run", "export", "render", "view", "read", "query", "resolve", "serve", "build", "check"),
    "noun": ("user", "item", "report", "order", "record", "profile", "file", "page", "data", "results",
             "account", "invoice", "entry", "doc", "customer", "ticket", "product", "event", "asset"),
    "table": ("users", "orders", "items", "products", "accounts", "invoices", "events", "audit_log",
              "customers", "tickets", "payments", "articles", "members", "devices", "jobs"),
    "col": ("id", "name", "email", "username", "status", "sku", "title", "owner", "category", "slug",
            "ref", "code", "region", "kind"),
    "conn": ("conn", "db", "connection", "con", "database", "dbconn"),
    "cur": ("cur", "cursor", "c", "csr", "db_cursor"),
    "cls": ("Repo", "UserService", "Store", "Handler", "Api", "Gateway", "Manager", "Backend",
            "Client", "Service", "Controller", "Dao"),
    "res": ("result", "rows", "out", "data", "res", "records", "payload", "response_data", "items"),
    "model": ("User", "Order", "Item", "Product", "Account", "Invoice", "Customer", "Ticket", "Article"),
    "base": ("BASE_DIR", "UPLOAD_DIR", "DATA_ROOT", "STORAGE", "MEDIA_ROOT", "REPORTS_DIR", "FILES_DIR"),
    "host": ("api.internal.example.com", "billing.example.org", "inventory.local", "service.example.net",
             "metrics.corp.example", "partner.example.com"),
    "logger": ("logger", "log", "LOG", "_log", "audit"),
}


@dataclass
class Sample:
    """A generated file with the line of its sink (and the lines of its taint path)."""

    lines: list[str]
    sink: int
    steps: list[tuple[int, str]]
    function: tuple[int, int] | None
    """First and last line of the function holding the sink, if any."""
    context: str = ""
    """Code of the helper the sink line calls (retrieved context), if any."""


def _names(rng: random.Random, family: Family) -> dict[str, str]:
    names = {key: rng.choice(family.pools.get(key, pool)) for key, pool in POOLS.items()}
    for key, pool in family.pools.items():
        if key not in names:
            names[key] = rng.choice(pool)
    names["fn"] = f"{names['verb']}_{names['noun']}" if rng.random() < 0.85 else names["verb"] + names["noun"].title()
    if rng.random() < 0.25:
        names["fn"] += rng.choice(DECOY_SUFFIXES)
    names["route"] = names["noun"] + "s" if rng.random() < 0.5 else f"{names['noun']}/{names['verb']}"
    names["PARAM"] = names["param"].upper()
    names["Param"] = names["param"].title()
    return names


def _fill(line: str, names: dict[str, str]) -> str:
    return Template(line).safe_substitute(names)


_CALL = re.compile(r"([A-Za-z_][\w.]*)\s*\(")
_ASSIGN = re.compile(r"^\s*([A-Za-z_][\w.\[\]\"']*)\s*[+]?=\s*(.+)$")


def _sink_label(line: str, vuln_class: VulnClass) -> str:
    calls = _CALL.findall(line.split("#", 1)[0])
    names = [c for c in calls if c not in {"str", "int", "f", "len", "print"}]
    return f"sink: {names[0] if names else line.strip()[:40]} ({vuln_class.value})"


def _body(family: Family, safe: bool, rng: random.Random, names: dict[str, str], indent: str,
          returns: str) -> tuple[list[str], int]:
    body: list[str] = []
    sink = -1
    template = family.safe if safe else family.vuln
    fillers = [f for f in FILLERS if rng.random() < 0.12]
    for raw in template:
        lead = len(raw) - len(raw.lstrip(" "))
        if fillers and rng.random() < 0.25:
            body.append(indent + " " * lead + _fill(fillers.pop(), names))
        text = raw.strip()
        if text.startswith("@return "):
            marked = SINK_MARK in text
            text = returns.format(x=text[len("@return "):].replace(SINK_MARK, "").rstrip())
            text += f"  {SINK_MARK}" if marked else ""
        line = _fill(text, names)
        if SINK_MARK in line:
            line = line.replace(SINK_MARK, "").rstrip()
            sink = len(body)
        body.append(indent + " " * lead + line)
    if sink < 0:
        raise ValueError(f"family {family.name} has no sink line")
    return body, sink


def _quotes(lines: list[str], rng: random.Random) -> list[str]:
    if rng.random() >= 0.3:
        return lines
    return [line.replace('"', "'") if "'" not in line and '"""' not in line else line for line in lines]


_MODULES = ("db", "services", "helpers", "utils", "store", "integrations", "render", "files", "runner", "repo",
            "storage", "views_util", "tasks", "client", "core")
_HELPER_VERBS = ("do", "run", "load", "query", "build", "render", "fetch", "make", "lookup", "read", "send", "get")


def _helper_sample(family: Family, safe: bool, rng: random.Random, names: dict[str, str], kind: str,
                   imports: list[str]) -> Sample:
    """The family's body moved into a helper in another module; the frame only calls it.

    The helper's code becomes the candidate's context (what retrieval finds for the call), the call line is
    where a rule reports the flow.
    """
    module = rng.choice(_MODULES)
    helper = f"{rng.choice(_HELPER_VERBS)}_{names['noun']}" + rng.choice(["", "", "s", "_safe", "_raw", "_v2"])
    var = names["var"]
    body, sink = _body(family, safe, rng, names, "    ", "return {x}")
    helper_lines = [f"def {helper}({var}):", *body]
    context = "\n".join(helper_lines[:CONTEXT_MAX_LINES])
    call = Family(family.name, family.vuln_class, vuln=[f"@return {module}.{helper}($var)  {SINK_MARK}"],
                  safe=[f"@return {module}.{helper}($var)  {SINK_MARK}"], frames=(kind,), flow=True)
    sample = generate(call, safe, rng, names=names, extra_imports=[f"from . import {module}"], twin=False)
    sample.context = context
    if sample.steps and rng.random() < 0.5:  # the engine's inter-procedural rendering of the same flow
        call_line = sample.steps[-1][0]
        sink_in_helper = 1 + sink
        sample.steps[-1:] = [(call_line, f"passed to {helper}() as {var}"), (0, f"parameter {var} of {helper}()"),
                             (sink_in_helper, _sink_label(helper_lines[min(sink_in_helper, len(helper_lines) - 1)],
                                                          family.vuln_class))]
    return sample


def generate(family: Family, safe: bool, rng: random.Random, helper: bool = False,
             names: dict[str, str] | None = None, extra_imports: Sequence[str] = (), twin: bool = True) -> Sample:
    """One random rendering of a family's vulnerable (or safe) body inside a random frame.

    With `helper`, the body lives in a helper function of another module (the sample's context). With
    `twin`, the opposite variant often sits right next to it under a decoy name (`_safe`, `_checked`,
    `_raw`… regardless of which one is safe), so the model learns to judge the flagged line, not names.
    """
    names = names or _names(rng, family)
    kind = rng.choice(list(family.frames))
    if helper and family.flow and kind not in MODULE_FRAMES:
        return _helper_sample(family, safe, rng, names, kind, list(extra_imports))
    imports = list(family.safe_imports if safe and family.safe_imports is not None else family.imports)
    if any("$logger" in line for line in (*family.vuln, *family.safe, *FILLERS)):
        imports.append("import logging")
    imports.append("import time")
    imports += extra_imports
    if kind in MODULE_FRAMES:
        return _module_sample(family, safe, rng, names, kind, imports)
    frame = flow_frame(kind, rng, names, family.flow)
    lines: list[str] = []
    all_imports = sorted(set(imports + frame.imports), key=lambda s: (s.startswith("from"), s))
    lines += [_fill(i, names) for i in all_imports]
    lines.append("")
    lines.append(_fill(f"{names['logger']} = logging.getLogger(__name__)", names))
    lines += [_fill(p, names) for p in frame.prelude]
    lines.append("")
    if rng.random() < 0.35:
        lines += [*rng.choice(HELPERS), ""]
    lines.append("")
    header = [_fill(h, names) for h in frame.header]
    def_at = max(i for i, h in enumerate(header) if h.strip().startswith(("def ", "async def ")))
    while def_at > 0 and header[def_at - 1].strip().startswith("@"):
        def_at -= 1
    header_start = len(lines)
    first = header_start + def_at
    lines += header
    if rng.random() < 0.3:
        lines.append(frame.indent + f"\"\"\"{names['verb'].title()} the {names['noun']} the client asked for.\"\"\"")
    steps: list[tuple[int, str]] = []
    for src_line in frame.source:
        lines.append(frame.indent + _fill(src_line, names))
    if family.flow:
        source_line = len(lines) - 1 if frame.source else header_start + len(header) - 1
        steps.append((source_line, frame.source_label))
    body, sink = _body(family, safe, rng, names, frame.indent, frame.returns)
    offset = len(lines)
    lines += body
    sink += offset
    last = len(lines) - 1
    if family.flow:
        var = names["var"]
        for n in range(offset, sink):
            match = _ASSIGN.match(lines[n])
            if match and re.search(rf"\b{re.escape(var)}\b", match.group(2)):
                steps.append((n, f"assigned to {match.group(1).strip()}"))
        steps.append((sink, _sink_label(lines[sink], family.vuln_class)))
    if twin and rng.random() < TWIN_SHARE:
        other = generate(family, not safe, rng, names=dict(names, fn=names["fn"] + rng.choice(DECOY_SUFFIXES)),
                         twin=False)
        if other.function is not None and not other.lines[other.function[0]].startswith(" "):
            block = other.lines[other.function[0]: other.function[1] + 1]
            if rng.random() < 0.5 or lines[first].startswith(" "):  # a method: its twin goes after the class
                lines += ["", "", *block]
            else:
                shift = len(block) + 2
                lines[first:first] = [*block, "", ""]
                first, last, sink = first + shift, last + shift, sink + shift
                steps = [(n + shift, label) for n, label in steps]
    if rng.random() < 0.3:
        lines += ["", "", *rng.choice(HELPERS)]
    return Sample(_quotes(lines, rng), sink, steps, (first, last))


def _module_sample(family: Family, safe: bool, rng: random.Random, names: dict[str, str], kind: str,
                   imports: list[str]) -> Sample:
    lines = [_fill(i, names) for i in sorted(set(imports), key=lambda s: (s.startswith("from"), s))]
    if kind == "django_settings":
        lines = ["import os", "from pathlib import Path", *lines, "",
                 "BASE_DIR = Path(__file__).resolve().parent.parent", ""]
        filler = list(DJANGO_SETTINGS)
        prefix = ""
    elif kind == "flask_config":
        lines = ["import os", "from flask import Flask", *lines, "", "app = Flask(__name__)", ""]
        filler = list(FLASK_CONFIG)
        prefix = ""
    else:
        lines = ["import os", *lines, ""]
        filler = list(MODULE_FILLER)
        prefix = ""
    rng.shuffle(filler)
    before = filler[: rng.randint(1, 4)]
    after = filler[len(before): len(before) + rng.randint(1, 4)]
    lines += [_fill(f, names) for f in before]
    if rng.random() < 0.5:
        lines.append("")
    body, sink = _body(family, safe, rng, names, prefix, "{x}")
    sink += len(lines)
    lines += body
    if rng.random() < 0.5:
        lines.append("")
    lines += [_fill(f, names) for f in after]
    return Sample(_quotes(lines, rng), sink, [], None)


def render_slice(sample: Sample, with_taint: bool, vuln_class: str = "") -> str:
    """The sample as the analyzer renders a rule finding at its sink (with `vuln_class`: after the engine's
    evidence line, tier "flow" when a taint path is shown, else "review")."""
    code = window(sample.lines, sample.sink, sample.sink)
    taint = ""
    if with_taint and sample.steps:
        taint = " -> ".join(f"{label} (line {line + 1})" for line, label in sample.steps)
    text = Candidate(code=code, taint=taint, context=sample.context).render()
    return f"{evidence_line('flow' if taint else 'review', '', vuln_class)}\n{text}" if vuln_class else text


def render_function(sample: Sample) -> str | None:
    """The sample as function-level mode renders the function holding the sink."""
    if sample.function is None:
        return None
    first, last = sample.function
    lines = sample.lines[first: last + 1]
    indent = len(lines[0]) - len(lines[0].lstrip(" "))
    lines = [line[indent:] if line[:indent].isspace() else line for line in lines]
    return Candidate(code=function_text(lines), context=sample.context).render()


def function_text(lines: Sequence[str]) -> str:
    """Function-level model input: the function's lines, capped like the analyzer caps them."""
    from ai_core.model.candidates import FUNCTION_MAX_LINES

    return "\n".join(lines[:FUNCTION_MAX_LINES])


def examples(family: Family, count: int, rng: random.Random, function_share: float = 0.3,
             helper_share: float = 0.25, evidence: bool = False) -> list[Example]:
    """`count` vulnerable and `count` safe renderings of a family (slice views, some function views).

    A `helper_share` of flow samples put the body in a helper of another module, seen as context.
    """
    out: list[Example] = []
    for safe in (False, True):
        label = SAFE_LABEL if safe else family.vuln_class.value
        for _ in range(count):
            sample = generate(family, safe, rng, helper=rng.random() < helper_share)
            view = render_slice(sample, with_taint=rng.random() < 0.65,
                                vuln_class=family.vuln_class.value if evidence else "")
            out.append(Example(view, label, family.name, "slice"))
            if rng.random() < function_share:
                text = render_function(sample)
                if text is not None:
                    out.append(Example(text, label, family.name, "function"))
    return out
