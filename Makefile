# Two commands a new user needs: `make demo` and `make test`.
# Everything is installed into .venv with the pins in constraints.txt.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: demo test lint format venv clean serve browser-deps tex-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamp files: reinstall only when the dependency declarations change.
$(VENV)/.demo-installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e '.[rl]'
	@touch $@

$(VENV)/.dev-installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e '.[dev,jax,bench,web,sweep]'
	@touch $@ $(VENV)/.demo-installed $(VENV)/.web-installed

$(VENV)/.web-installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e '.[web]'
	@touch $@

venv: $(VENV)/.dev-installed

demo: $(VENV)/.demo-installed
	$(BIN)/gae-sym prove
	$(BIN)/gae-sym latex gae
	$(BIN)/gae-sym cartpole --variant batched --seed 1 --max-seconds 30 --out runs/demo
	@echo "Start the homework web page: make serve  (then open http://127.0.0.1:8000/; Ctrl-C stops)"

# The homework web page on http://127.0.0.1:8000/ (gae-sym serve --help for the flags).
serve: $(VENV)/.web-installed
	$(BIN)/gae-sym serve

# Headless Chromium for the browser tests (tests/test_web_browser.py): Debian's packages,
# installed only when we are root, apt-get exists and they are missing. Never fails the
# build: without them the browser tests skip with the reason.
browser-deps:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then \
		true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium and chromium-driver (apt-get) for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium chromium-driver) >/dev/null 2>&1 \
			|| echo "could not install chromium: the browser tests will be skipped"; \
	else \
		echo "chromium not found (and not root with apt-get): the browser tests will be skipped"; \
	fi

# TeX for the PDF of the notes (tests/test_notes.py builds it and checks every line fits
# the margin): Debian's packages, on the same terms as Chromium above.
TEX_PACKAGES := texlive-latex-recommended texlive-fonts-recommended texlive-latex-extra \
	latexmk lmodern
tex-deps:
	@if command -v pdflatex >/dev/null 2>&1 && command -v latexmk >/dev/null 2>&1; then \
		true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing TeX (apt-get: $(TEX_PACKAGES)) for the PDF tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $(TEX_PACKAGES)) >/dev/null 2>&1 \
			|| echo "could not install TeX: the PDF tests will be skipped"; \
	else \
		echo "pdflatex not found (and not root with apt-get): the PDF tests will be skipped"; \
	fi

test: $(VENV)/.dev-installed browser-deps tex-deps
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
