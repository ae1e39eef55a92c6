"""The "explain" action: what was found, why it matters, the path the data took, a similar known example, the fix."""

from __future__ import annotations

import logging
import textwrap

from ai_core.findings import Finding, VulnClass

log = logging.getLogger(__name__)

WHY: dict[VulnClass, str] = {
    VulnClass.SQL_INJECTION: "Text from outside becomes part of the SQL statement, so it can change what the query "
    "does: read other rows or tables, bypass a login, or modify data. Bound parameters keep values as data.",
    VulnClass.COMMAND_INJECTION: "The command goes through a shell, which treats `;`, `|`, `$()` and quotes in the "
    "value as syntax: an attacker can run commands of their choice. An argument list without a shell cannot be "
    "reinterpreted.",
    VulnClass.XSS: "The value is written into HTML without escaping; a `<script>` in it runs in the victim's "
    "browser with their session. Escape values (or let an autoescaping template do it).",
    VulnClass.SSRF: "The server sends a request to a URL the client chose: it can reach internal services, cloud "
    "metadata endpoints or local files. Allow only known hosts.",
    VulnClass.BROKEN_AUTH: "Authentication can be bypassed or brute-forced: fast unsalted hashes crack quickly, "
    "unverified tokens can be forged, and `==` on secrets leaks timing. Use a slow salted hash, verify "
    "signatures, compare in constant time.",
    VulnClass.SESSION_FIXATION: "A session id that survives login (or is chosen by the client) lets an attacker "
    "who planted it ride the victim's authenticated session. Start a new session when the user logs in.",
    VulnClass.SENSITIVE_DATA_EXPOSURE: "Secrets or internals leave where they should not: into logs, error pages, "
    "or over connections whose certificates are not checked.",
    VulnClass.HARDCODED_SECRET: "A credential in source code is shared with everyone who can read the repository "
    "and its history, and cannot be rotated without a release. Read it from the environment or a secret store "
    "(and rotate the leaked one).",
    VulnClass.SECURITY_MISCONFIGURATION: "A development setting in production exposes debuggers, detailed errors, "
    "or cookies without protection. Take such switches from the environment, safe by default.",
    VulnClass.CORS_MISCONFIGURATION: "Any web site may read responses that carry the user's cookies: a malicious "
    "page can act as the logged-in user. List the trusted origins explicitly.",
    VulnClass.PATH_TRAVERSAL: "`../` or an absolute path in the value reaches files outside the intended folder "
    "(configuration, keys, other users' files). Resolve the path and check it stays under its base folder.",
    VulnClass.INSECURE_DESERIALIZATION: "pickle-like formats rebuild arbitrary objects and can run code while "
    "loading: untrusted bytes become remote code execution. Exchange plain data (JSON, `yaml.safe_load`).",
    VulnClass.CODE_INJECTION: "The value is run as Python (`eval`/`exec`) or compiled as a template whose `{{ }}` "
    "expressions run on the server: remote code execution. Parse data with `ast.literal_eval`/`json`, keep "
    "template text fixed and pass values as variables.",
    VulnClass.XXE: "The XML parser resolves entities the document declares: it can read local files, fetch URLs "
    "or expand entities until memory runs out. Parse untrusted XML with defusedxml or with entity resolution "
    "and network access off.",
    VulnClass.OPEN_REDIRECT: "The browser is sent to a URL the client chose, so a link to this site can end on a "
    "phishing copy. Redirect only to paths on this site (or checked hosts).",
    VulnClass.CSRF: "Another web site can submit this request with the visitor's cookies and change their data. "
    "Keep the CSRF check on and send its token from your own pages.",
    VulnClass.INSECURE_RANDOMNESS: "`random` and `uuid1` are predictable: an attacker who sees a few values (or "
    "knows the time) can compute the token, password or code. Use the `secrets` module.",
}


def _similar(finding: Finding, use_embeddings: bool) -> str:
    """A similar example from the retrieval knowledge base (nearest by embedding, or the first of the class)."""
    try:
        from ai_core.retrieval import knowledge
    except ImportError:
        return ""
    try:
        if use_embeddings:
            found = knowledge.similar_examples(finding.snippet or finding.message, finding.vuln_class, k=1)
            if found:
                example = found[0].example
                return _render_example(example.title, example.explanation, example.vulnerable, example.fixed,
                                       f"similarity {found[0].score:.2f}")
        examples = knowledge.examples_for(finding.vuln_class)
        if examples:
            example = examples[0]
            return _render_example(example.title, example.explanation, example.vulnerable, example.fixed, "")
    except Exception:  # retrieval is optional here: the explanation stands without it
        log.exception("no similar example for %s", finding.rule)
    return ""


def _render_example(title: str, explanation: str, vulnerable: str, fixed: str, score: str) -> str:
    suffix = f" ({score})" if score else ""
    return (f"**{title}**{suffix}\n\n{textwrap.dedent(explanation).strip()}\n\nVulnerable:\n\n```python\n"
            f"{textwrap.dedent(vulnerable).strip()}\n```\n\nFixed:\n\n```python\n{textwrap.dedent(fixed).strip()}\n```")


def explain(finding: Finding, fix_title: str = "", fix_diff: str = "", fix_note: str = "",
            use_embeddings: bool = False) -> str:
    """Markdown explaining a finding: what, why, the taint path, a similar known example, and the fix."""
    cls = finding.vuln_class
    parts = [f"## {cls.title} (CWE-{finding.cwe})", "",
             f"**What:** {finding.message} — `{finding.rule}` at line {finding.span.start_line + 1}, "
             f"confidence {finding.confidence:.2f}{' (model only)' if finding.model_only else ''}.", "",
             f"**Why it matters:** {WHY[cls]}", ""]
    if finding.taint_path is not None and finding.taint_path.steps:
        parts.append("**How the data gets there:**")
        parts.append("")
        for number, step in enumerate(finding.taint_path.steps, 1):
            where = step.path.rsplit("/", 1)[-1] if step.path else "here"
            parts.append(f"{number}. {step.label} — {where}:{step.span.start_line + 1}")
        parts.append("")
    if finding.snippet:
        parts += ["**Flagged code:**", "", "```python", textwrap.dedent(finding.snippet).strip()[:800], "```", ""]
    similar = _similar(finding, use_embeddings)
    if similar:
        parts += ["**A similar known case:**", "", similar, ""]
    if fix_title:
        parts += [f"**Verified fix:** {fix_title}", ""]
        if fix_diff:
            parts += ["```diff", fix_diff.rstrip(), "```", ""]
        if fix_note:
            parts += [f"_Note:_ {fix_note}", ""]
    parts.append(f"Silence it on this line with `# coderev: ignore[{cls.value}]` when it is a false positive.")
    return "\n".join(parts)
