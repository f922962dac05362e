# Montage AI: `make demo` and `make test` set everything up on a fresh Debian/Ubuntu or macOS.
# The newest Python 3.10+ on PATH (macOS ships 3.9 as python3; Homebrew adds python3.1x).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3.10 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null && { echo $$p; break; }; done)
VENV   ?= .venv
PY     := $(VENV)/bin/python
EXTRAS ?= ui,dask,dev
STAMP  := $(VENV)/.installed-$(EXTRAS)
DEMO_OUT ?= demo-out

.PHONY: demo test setup system-deps bench clean

system-deps:
	@bash installers/system_deps.sh

$(PY):
	@test -n "$(PYTHON)" || { echo "Montage AI needs Python 3.10 or newer (Debian/Ubuntu: apt-get install python3; macOS: brew install python)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $@

setup: system-deps $(STAMP)

test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q < /dev/null

demo: setup
	$(VENV)/bin/montage-ai demo --out $(DEMO_OUT)

bench: setup
	$(PY) bench/analysis.py
	$(PY) bench/beats.py
	$(PY) bench/cache.py
	$(PY) bench/roughcut.py
	$(PY) bench/hwdecode.py
	$(PY) bench/interchange.py
	$(PY) bench/proxies.py
	$(PY) bench/dask_analysis.py
	$(PY) bench/selects.py
	$(PY) bench/resolve_bridge.py
	$(PY) bench/panel_latency.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) build *.egg-info .pytest_cache
