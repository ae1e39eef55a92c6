# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# torch first, pinned: the CPU build on disk. An unpinned torch pulls GBs of CUDA packages.
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt

.PHONY: run test install lint typecheck selfscan bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@# exit 1 means findings (expected here); 2 would be a real error
	$(BIN)/coderev scan examples/vulnerable_app; test $$? -le 1

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy ai_core server
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 --dist loadfile --cov --cov-report=term -q
	$(MAKE) -s selfscan
	@if command -v npm >/dev/null 2>&1 && [ -f clients/vscode/package.json ]; then \
		$(MAKE) -s -C clients/vscode test; \
	else echo "SKIPPED: VS Code client tests (Node.js/npm not found)"; fi

selfscan: $(STAMP)
	$(BIN)/coderev scan . --no-model

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy ai_core server

bench: $(STAMP)
	$(BIN)/python bench/latency.py
	$(BIN)/python bench/fixes.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
