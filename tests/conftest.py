"""Shared fixtures: the real server over stdio, under the recorded capabilities of two editors."""

from __future__ import annotations

import os
import tempfile

import pytest
import pytest_lsp
from pytest_lsp import LanguageClient

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Each test run (and each xdist worker) gets its own cache, so parallel workers never share LanceDB tables
# such as the embedded knowledge base; servers the tests start inherit it (set before SERVER_ENV is built).
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="coderev-test-cache-")
os.environ["CODEREV_CONFIG"] = os.devnull  # the developer's own ~/.config/coderev/config.toml never leaks in

from tests.lsp_support import server_config

CLIENTS = ["neovim", "visual_studio_code"]


@pytest_lsp.fixture(config=server_config(), params=CLIENTS)
async def lsp(lsp_client: LanguageClient, request: pytest.FixtureRequest):
    """A started server; the test initializes it (see tests.lsp_support.start_session)."""
    lsp_client.client_name = request.param  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory: pytest.TempPathFactory):
    """A fresh CODEREV_CACHE_DIR for a test module (variant choices, merged weights, scores)."""
    folder = tmp_path_factory.mktemp("coderev-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CODEREV_CACHE_DIR", str(folder))
        yield folder
