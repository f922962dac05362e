# Montage AI: `make demo` and `make test` set everything up on a fresh Debian/Ubuntu or macOS.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
EXTRAS ?= ui,dask,dev
STAMP  := $(VENV)/.installed-$(EXTRAS)
DEMO_OUT ?= demo-out

.PHONY: demo test setup system-deps bench clean

system-deps:
	@bash installers/system_deps.sh

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $@

setup: system-deps $(STAMP)

test: setup
	$(PY) -m pytest -q

demo: setup
	$(VENV)/bin/montage-ai demo --out $(DEMO_OUT)

bench: setup
	$(PY) bench/analysis.py
	$(PY) bench/beats.py
	$(PY) bench/cache.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) build *.egg-info .pytest_cache
