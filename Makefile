# Two commands do all the set-up on a fresh machine:
#   make run    install nagui into .venv and start the app (http://localhost:8501)
#   make test   install nagui + test tools (and Chromium for the browser tests), run every test
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
# torch is installed first and pinned: 2.13.0 resolves to the CPU build here (a bare
# `torch` would pull a multi-GB CUDA build).
TORCH  ?= torch==2.13.0

.PHONY: run test install install-test browser bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Chromium from the distribution (Playwright drives it; it never downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; }

run: install
	$(VENV)/bin/nagui app --port $(PORT)

test: install-test browser
	$(PY) -m pytest -q

bench: install
	$(VENV)/bin/nagui bench flops
	$(VENV)/bin/nagui bench latency

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
