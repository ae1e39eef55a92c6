"""Command injection (CWE-78): untrusted text reaching a shell or choosing the program to run.

Fix: run an argument list without `shell=True` (`subprocess.run(["ping", "-c", "1", host])`), quote
with `shlex.quote`, or check the value against an allowlist. (`eval`/`exec` are code injection.)
"""

from __future__ import annotations

from ai_core.analysis.specs.spec_types import ArgTest, ClassSpec, Propagator, Sanitizer, Sink
from ai_core.findings import VulnClass

CMD = VulnClass.COMMAND_INJECTION

SHELL_LIST = r"^[\[(]\s*['\"](/usr)?(/bin/)?(ba|da|z|k|c|tc)?sh['\"]\s*,\s*['\"]-c['\"]"
"""Source text of an argument list that starts with a shell and -c (`["sh", "-c", cmd]`, `("/bin/bash", "-c", c)`)."""

_SUBPROCESS = ("subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
               "subprocess.Popen")

SPEC = ClassSpec(
    vuln_class=CMD,
    sinks=(
        Sink(
            id="command.os-system",
            vuln_class=CMD,
            patterns=("os.system", "os.popen", "posix.system", "commands.getoutput", "popen2.popen2"),
            args=(0, "command", "cmd"),
            confidence=0.9,
            structural=True,
            structural_confidence=0.7,
            reason="os.system/os.popen hand the string to /bin/sh: ';', '|', '$()' in it run more commands.",
            example='os.system("convert " + filename + " out.png")',
            title="os.system/os.popen with a non-literal command",
        ),
        Sink(
            id="command.subprocess-shell",
            vuln_class=CMD,
            patterns=_SUBPROCESS,
            args=(0, "args"),
            when=(ArgTest("shell", truthy=True),),
            confidence=0.9,
            structural=True,
            structural_confidence=0.7,
            reason="With shell=True the command string is parsed by the shell.",
            example='subprocess.run(f"ping -c 1 {host}", shell=True)',
            title="subprocess with shell=True and a non-literal command",
        ),
        Sink(
            id="command.shell-argument-list",
            vuln_class=CMD,
            patterns=_SUBPROCESS,
            args=(0, "args"),
            when=(ArgTest("args", position=0, matches=SHELL_LIST),),
            confidence=0.9,
            reason='An argument list that starts with a shell and "-c" runs its next element as a shell command, '
                   "shell=True by another name.",
            example='subprocess.run(["sh", "-c", f"tar xf {name}"])',
            title="shell -c with a non-literal command",
        ),
        Sink(
            id="command.subprocess-getoutput",
            vuln_class=CMD,
            patterns=("subprocess.getoutput", "subprocess.getstatusoutput"),
            args=(0, "cmd"),
            confidence=0.9,
            structural=True,
            structural_confidence=0.7,
            reason="getoutput() always runs its command through the shell.",
            example='subprocess.getoutput("du -sh " + folder)',
            title="subprocess.getoutput with a non-literal command",
        ),
        Sink(
            id="command.subprocess-program",
            vuln_class=CMD,
            patterns=_SUBPROCESS,
            args=(0, "args", "executable"),
            unless=(ArgTest("shell", truthy=True),),
            program_only=True,
            confidence=0.8,
            reason="Without a shell only the program name matters: choosing it means running any binary.",
            example="subprocess.run([request.args['tool'], '--version'])",
            title="subprocess runs a program chosen by untrusted data",
        ),
        Sink(
            id="command.os-exec",
            vuln_class=CMD,
            patterns=("os.execl", "os.execle", "os.execlp", "os.execlpe", "os.execv", "os.execve", "os.execvp",
                      "os.execvpe", "os.posix_spawn", "os.posix_spawnp", "pty.spawn",
                      "asyncio.create_subprocess_exec"),
            args=(0, "path", "file", "program", "argv"),
            program_only=True,
            confidence=0.8,
            reason="The exec/spawn family runs the named program.",
            example="os.execvp(argv[1], argv[1:])",
            title="exec/spawn of a program chosen by untrusted data",
        ),
        Sink(
            id="command.os-spawn",
            vuln_class=CMD,
            patterns=("os.spawnl", "os.spawnle", "os.spawnlp", "os.spawnlpe", "os.spawnv", "os.spawnve", "os.spawnvp",
                      "os.spawnvpe"),
            args=(1, "file", "path"),
            program_only=True,
            confidence=0.8,
            reason="os.spawn*(mode, file, ...) runs the program named by its second argument.",
            example="os.spawnlp(os.P_WAIT, request.args['tool'], 'tool')",
            title="spawn of a program chosen by untrusted data",
        ),
        Sink(
            id="command.asyncio-shell",
            vuln_class=CMD,
            patterns=("asyncio.create_subprocess_shell",),
            args=(0, "cmd"),
            structural=True,
            structural_confidence=0.7,
            reason="create_subprocess_shell() runs its string through the shell.",
            example='await asyncio.create_subprocess_shell(f"git clone {url}")',
            title="asyncio shell with a non-literal command",
        ),
        Sink(
            id="command.remote-exec",
            vuln_class=CMD,
            patterns=("*.exec_command", "fabric.Connection.run", "*.sudo"),
            args=(0, "command"),
            confidence=0.75,
            reason="paramiko/fabric run the command string through the remote shell.",
            example='ssh.exec_command("tail -n 50 " + logname)',
            title="remote shell command from untrusted data",
        ),
    ),
    sanitizers=(
        Sanitizer(
            id="command.sanitize.shlex-quote",
            patterns=("shlex.quote", "pipes.quote", "shlex.join"),
            classes=frozenset({CMD}),
            reason="shlex.quote wraps a value so the shell reads it as one literal word.",
            example='subprocess.run(f"ls -l {shlex.quote(folder)}", shell=True)',
        ),
    ),
    propagators=(
        Propagator(
            id="command.propagate.shlex-split",
            patterns=("shlex.split",),
            reason="Splitting a command keeps its words; the first one becomes the program.",
            example="subprocess.run(shlex.split(command))",
        ),
    ),
)
