# pyrl_mini: set-up and everyday commands. Everything lives in a local virtualenv.
#
#   make lab     set up, then open JupyterLab on notebooks/
#   make test    set up, then run tests/ and execute every notebook (nbmake)
#   make site    set up, run every notebook, write the static HTML edition to _site/
#   make editions  write the student and instructor editions of the notebooks to _editions/
#   make wheel   build the wheel a student installs with pip alone (dist/; `pyrl-mini lab`)
#   make data    rebuild the precomputed data in data/
#   make bench   run the benchmarks
#   make lint    ruff
#   make clean   remove caches and build files (make distclean also removes the venv)

PYTHON ?= python3
VENV ?= .venv
PY = $(VENV)/bin/python
PIP = $(PY) -m pip
STAMP = $(VENV)/.installed

# torch goes in first, pinned: an unpinned or open-ended torch makes pip fetch the newest,
# multi-GB CUDA build. 2.13.0 is the CPU build used for development and CI; pyproject's
# range (>=2.3,<2.14) then accepts it and pip installs nothing more for torch.
TORCH_SPEC ?= torch==2.13.0
# Where pip looks for torch, e.g. https://download.pytorch.org/whl/cpu (PyTorch's CPU-only
# builds) on a Linux machine whose default index would give the CUDA build. Empty: pip's
# default index and configuration.
TORCH_INDEX_URL ?=
PIP_FLAGS ?= --progress-bar off
NB_TIMEOUT ?= 120
PYTEST_ARGS ?=
EDITIONS_ARGS ?=
LAB_ARGS ?=

# JupyterLab refuses to start as root unless told.
ifeq ($(shell id -u),0)
LAB_ROOT_FLAG = --allow-root
endif

SITE_DIR ?= _site
EDITIONS_DIR ?= _editions
# JupyterLab for readers: the paired notebooks/NN_*.py sources hidden from the file browser
# (each notebook listed once; jupytext still pairs them), no update check, and no news
# pop-up (a settings default in the venv's overrides.d, which a user setting can change).
LAB_CONFIG = $(CURDIR)/tools/jupyterlab/jupyter_lab_config.json
LAB_OVERRIDES = $(VENV)/share/jupyter/lab/settings/overrides.d/pyrl_mini.json

.PHONY: all setup lab test site editions wheel data bench lint clean distclean help

all: help

help:
	@sed -n '3,12p' Makefile | sed 's/^#//'

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install $(PIP_FLAGS) $(if $(TORCH_INDEX_URL),--index-url '$(TORCH_INDEX_URL)') '$(TORCH_SPEC)'
	$(PIP) install $(PIP_FLAGS) -e '.[dev]'
	@# the trainer's C++ recurrence, built once (30-60 s; without a compiler, training uses
	@# the plain path and this says why)
	$(PY) -m pyrl_mini.fast
	touch $@

setup: $(STAMP)

$(LAB_OVERRIDES): tools/jupyterlab/overrides.json | $(STAMP)
	mkdir -p $(dir $@)
	cp $< $@

lab: $(STAMP) $(LAB_OVERRIDES)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --config='$(LAB_CONFIG)' \
	  $(LAB_ROOT_FLAG) $(LAB_ARGS)

# The static HTML edition: executes every notebook (tools/build_site.py), then open
# $(SITE_DIR)/index.html. NB_TIMEOUT bounds each cell, as in `make test`.
site: $(STAMP)
	$(PY) tools/build_site.py --out $(SITE_DIR) --timeout $(NB_TIMEOUT)

# The student edition (no solutions, no Think! answers; exercises keep their scaffold) and the
# instructor edition (solutions in the exercise cells, answers shown) of every notebook, made
# from notebooks/NN_*.ipynb by tools/editions.py; --execute (EDITIONS_ARGS) also runs them.
editions: $(STAMP)
	$(PY) tools/editions.py --out $(EDITIONS_DIR) $(EDITIONS_ARGS)

# The wheel carries the notebooks and data/ (setup.py), so `pip install dist/pyrl_mini-*.whl`
# then `pyrl-mini lab` needs neither this checkout nor make.
wheel: $(STAMP)
	$(PIP) wheel $(PIP_FLAGS) --no-deps -w dist .

# One pytest run: tests/ plus every notebooks/*.ipynb under nbmake (when any exist).
# Progress: a line per test file (and per notebook, shown while it runs), a line per browser
# test as it starts (tests/conftest.py).
# pytest's exit code 5 ("no tests collected") is reported but not treated as a failure.
test: $(STAMP)
	@set -u; \
	args="tests"; \
	if ls notebooks/*.ipynb >/dev/null 2>&1; then \
	  args="$$args $$(ls notebooks/*.ipynb | tr '\n' ' ') --nbmake --nbmake-timeout=$(NB_TIMEOUT)"; \
	else \
	  echo "make test: no notebooks/*.ipynb, skipping nbmake"; \
	fi; \
	echo "$(PY) -m pytest $$args $(PYTEST_ARGS)"; \
	rc=0; $(PY) -m pytest $$args $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then \
	  echo "make test: pytest collected no tests (exit 5); treated as success"; rc=0; \
	fi; \
	exit $$rc

data: $(STAMP)
	$(PY) -m pyrl_mini.data build

bench: $(STAMP)
	$(PY) benchmarks/run.py

lint: $(STAMP)
	$(PY) -m ruff check pyrl_mini tests benchmarks tools

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache $(SITE_DIR) $(EDITIONS_DIR)
	find . -path ./$(VENV) -prune -o \
	  \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -print0 | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV)
