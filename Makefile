# Two commands a new user needs: `make demo` and `make test`.
# Everything is installed into .venv with the pins in constraints.txt.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: demo test lint format venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamp files: reinstall only when the dependency declarations change.
$(VENV)/.demo-installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e '.[rl]'
	@touch $@

$(VENV)/.dev-installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e '.[dev,jax,bench,web,sweep]'
	@touch $@ $(VENV)/.demo-installed

venv: $(VENV)/.dev-installed

demo: $(VENV)/.demo-installed
	$(BIN)/gae-sym prove
	$(BIN)/gae-sym latex gae
	$(BIN)/gae-sym cartpole --variant batched --seed 1 --max-seconds 30 --out runs/demo

test: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/gae-sym codegen --check
	$(BIN)/gae-sym notes --check
	$(BIN)/python -m pytest

format: $(VENV)/.dev-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
