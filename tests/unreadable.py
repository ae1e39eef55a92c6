"""A folder the coderev command cannot list, also when the tests run as root (who ignores chmod 000)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

NO_CAPABILITIES = ("--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all")
"""setpriv options: root without the capabilities that bypass file modes (CAP_DAC_OVERRIDE and the rest)."""


@contextmanager
def locked(folder: Path) -> Iterator[list[str]]:
    """chmod 000 `folder`; yield the command prefix under which it cannot be listed (skip when none exists)."""
    folder.chmod(0)
    try:
        prefix: list[str] = []
        if os.access(folder, os.R_OK):  # root: file modes do not bind it
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                pytest.skip("running as root without setpriv: a chmod 000 folder stays readable")
            prefix = [setpriv, *NO_CAPABILITIES]
        probe = subprocess.run([*prefix, "ls", str(folder)], capture_output=True, timeout=30)
        if probe.returncode == 0:
            pytest.skip(f"{folder} stays readable even without capabilities here (running as uid {os.geteuid()})")
        yield prefix
    finally:
        folder.chmod(0o755)
