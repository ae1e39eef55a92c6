"""Jupyter notebooks: code cells analysed together, magics neutralised, findings located as (cell, line)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ai_core.analysis import Analyzer
from ai_core.config import Settings
from ai_core.notebooks import join_cells, neutralise, read_notebook
from ai_core.parsing import ParsedDocument

SETUP = "from flask import Flask, request\nimport os\napp = Flask(__name__)\n%load_ext autoreload\n"
VULNERABLE = ("@app.route('/r')\ndef r():\n    !echo hi\n    os.system('ls ' + request.args['d'])\n"
              "    return 'ok'\n")
SAFE = "@app.route('/r')\ndef r():\n    !echo hi\n    os.system('ls')\n    return 'ok'\n"


def write_notebook(path: Path, handler: str) -> Path:
    """A notebook: setup cell, a markdown cell, the handler cell (cell 3), written with nbformat."""
    notebook = new_notebook(cells=[new_code_cell(SETUP), new_markdown_cell("# The *handler*"),
                                   new_code_cell(handler)],
                            metadata={"kernelspec": {"name": "python3", "language": "python",
                                                     "display_name": "Python 3"}})
    nbformat.write(notebook, str(path))
    return path


def coderev(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_magics_and_shell_lines_become_comments_of_the_same_length():
    source = "%matplotlib inline\nfiles = !ls\n    !pip install x\nobj?\nx = 1  # why?\n"
    out = neutralise(source)
    assert out.splitlines() == ["#matplotlib inline", "#iles = !ls", "    #pip install x", "#bj?",
                                "x = 1  # why?"]
    assert len(out.encode()) == len(source.encode())
    assert not ParsedDocument(out).has_syntax_errors


def test_a_non_python_cell_magic_blanks_the_cell_and_a_timing_magic_keeps_its_body():
    assert not ParsedDocument(neutralise("%%bash\nif [ -f x ]; then rm x; fi\n")).has_syntax_errors
    assert neutralise("%%time\ny = f(1)\n") == "#%time\ny = f(1)\n"
    assert neutralise("%%writefile app.py\nimport os\n") == "#%writefile app.py\nimport os\n"
    blanked = neutralise("%%writefile notes.txt\nhello\n").splitlines()
    assert [(line[0], line[1:].strip(), len(line)) for line in blanked] == [("#", "", 21), ("#", "", 5)]


def test_joined_lines_map_back_to_their_cell():
    source = join_cells([(1, "a", "x = 1\ny = 2"), (3, "b", "z = 3\n")])
    assert source.text == "x = 1\ny = 2\nz = 3\n"
    assert [source.locate(line) for line in range(3)] == [(1, 0), (1, 1), (3, 0)]


def test_data_from_one_cell_reaching_a_sink_in_another_is_found_in_that_cell(tmp_path: Path):
    source = read_notebook(write_notebook(tmp_path / "nb.ipynb", VULNERABLE).read_text())
    findings = Analyzer(Settings(model_enabled=False)).analyze_text(source.text, "nb.ipynb")
    located = [source.to_cell(f) for f in findings]
    assert [(cell.number, f.span.start_line + 1, f.vuln_class.value) for cell, f in filter(None, located)] \
        == [(3, 4, "command-injection")]


def test_a_message_tells_the_source_by_cell_and_line(tmp_path: Path):
    source = read_notebook(write_notebook(tmp_path / "nb.ipynb", VULNERABLE).read_text())
    [finding] = Analyzer(Settings(model_enabled=False)).analyze_text(source.text, "nb.ipynb")
    assert "untrusted request.args from cell 3, line 4 " in source.relabel(finding).message


def test_the_safe_twin_notebook_is_clean(tmp_path: Path):
    source = read_notebook(write_notebook(tmp_path / "nb.ipynb", SAFE).read_text())
    assert Analyzer(Settings(model_enabled=False)).analyze_text(source.text, "nb.ipynb") == []


def test_scan_reports_notebook_findings_as_path_cell_line(tmp_path: Path):
    write_notebook(tmp_path / "nb.ipynb", VULNERABLE)
    result = coderev("scan", str(tmp_path), "--no-model")
    assert result.returncode == 1
    assert result.stdout.startswith("nb.ipynb:cell 3:4:")
    assert "command-injection" in result.stdout.splitlines()[0]


def test_json_report_carries_the_cell_and_the_line_within_it(tmp_path: Path):
    write_notebook(tmp_path / "nb.ipynb", VULNERABLE)
    [row] = json.loads(coderev("scan", str(tmp_path), "--no-model", "--format", "json").stdout)
    assert (row["path"], row["cell"], row["line"], row["column"]) == ("nb.ipynb", 3, 4, 5)
    assert row["class"] == "command-injection"


def test_a_file_that_is_not_a_notebook_is_skipped_with_the_reason(tmp_path: Path):
    (tmp_path / "broken.ipynb").write_text("{not json")
    (tmp_path / "ok.py").write_text("print('hello')\n")  # something is analysed: skipping one file is no failure
    result = coderev("scan", str(tmp_path), "--no-model")
    assert result.returncode == 0
    assert "broken.ipynb: skipped: not a readable notebook" in result.stdout


def test_jupyter_checkpoint_copies_are_not_scanned(tmp_path: Path):
    write_notebook(tmp_path / "nb.ipynb", VULNERABLE)
    (tmp_path / ".ipynb_checkpoints").mkdir()
    write_notebook(tmp_path / ".ipynb_checkpoints" / "nb-checkpoint.ipynb", VULNERABLE)
    [row] = json.loads(coderev("scan", str(tmp_path), "--no-model", "--format", "json").stdout)
    assert row["path"] == "nb.ipynb"
