"""Command injection (CWE-78): a non-literal command run through a shell lets input add commands.

Fix: pass an argument list without `shell=True`, or `shlex.quote` each value.
"""

from __future__ import annotations

from collections.abc import Iterator

from ai_core.analysis.context import AnalysisContext
from ai_core.analysis.imports import is_literal, iter_calls, keyword_argument, positional_arguments
from ai_core.analysis.rules import Check, Rule
from ai_core.findings import Finding, Severity, VulnClass

SHELL_TRUE = Rule("command.subprocess-shell", VulnClass.COMMAND_INJECTION, Severity.HIGH, 0.7,
                  "subprocess with shell=True and a non-literal command")
OS_SYSTEM = Rule("command.os-system", VulnClass.COMMAND_INJECTION, Severity.HIGH, 0.7,
                 "os.system/os.popen with a non-literal command")

_SUBPROCESS = frozenset({"subprocess.run", "subprocess.call", "subprocess.check_call",
                         "subprocess.check_output", "subprocess.Popen", "subprocess.getoutput",
                         "subprocess.getstatusoutput"})
_ALWAYS_SHELL = frozenset({"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput"})


def run(ctx: AnalysisContext) -> Iterator[Finding]:
    """Flag shell execution of commands that are not plain literals."""
    for call, name in iter_calls(ctx.doc, ctx.imports):
        args = positional_arguments(call)
        command = args[0] if args else keyword_argument(call, "args")
        if command is None or is_literal(command):
            continue
        if name in _ALWAYS_SHELL:
            rule = OS_SYSTEM if name.startswith("os.") else SHELL_TRUE
            yield rule.finding(ctx, call, f"{name}() runs a command built at run time through a shell")
        elif name in _SUBPROCESS:
            shell = keyword_argument(call, "shell")
            if shell is not None and ctx.doc.node_text(shell) != "False":
                yield SHELL_TRUE.finding(ctx, call, f"{name}(..., shell=True) runs a command built "
                                         "at run time through a shell")


CHECK = Check("shell", (SHELL_TRUE, OS_SYSTEM), run)
