# classit: `make reproduce` runs the study (demo profile by default), `make test` runs the tests.
# Both set up the virtual environment first, so each works alone on a fresh machine.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PROFILE ?= demo
ONLY ?=
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU wheel of this torch lies on the CI machine's disk; on a GPU machine the same pin fetches
# the CUDA build from PyPI. Override (e.g. TORCH_SPEC='torch==2.13.0+cu128') to pick another.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.setup-stamp
CLASSIT_DATA ?= $(abspath ../shared/data)
export CLASSIT_DATA

.PHONY: help setup data reproduce status figures test lab clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'
	@echo "  PROFILE=demo|small|rehearsal|paper (default demo); ONLY=<stage ...> runs only those; CLASSIT_DATA=$(CLASSIT_DATA)"

setup: $(STAMP)  ## create .venv and install classit_utils with its dev extras (quick when nothing changed)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

data: setup  ## fetch, verify and install the data PROFILE needs into CLASSIT_DATA (check: classit-data check)
	$(VENV)/bin/classit-data fetch --profile $(PROFILE) --dest "$(CLASSIT_DATA)"

reproduce: setup  ## run the notebooks of PROFILE in order with papermill (stages already done are skipped)
	$(PY) -m classit_utils.pipeline run --profile $(PROFILE) $(if $(ONLY),--only $(ONLY))

status: setup  ## say which stages of PROFILE are done, stale (and why) or missing; runs nothing
	$(PY) -m classit_utils.pipeline status --profile $(PROFILE)

figures:  ## copy PROFILE's generated figures (runs/PROFILE/figures) to figures/PROFILE, the ones the README shows
	@test -d runs/$(PROFILE)/figures || { echo "no runs/$(PROFILE)/figures: run make reproduce PROFILE=$(PROFILE) first" >&2; exit 2; }
	mkdir -p figures/$(PROFILE)
	cp runs/$(PROFILE)/figures/*.png runs/$(PROFILE)/figures/*.pdf figures/$(PROFILE)/

test: setup  ## run the test suite (tiny models, data subsets, one papermill smoke run)
	$(PY) -m pytest -q

# jupyter refuses to start as root (containers) unless told; a normal user needs nothing
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: setup  ## open JupyterLab on the notebooks (as root too, e.g. in a container)
	$(PY) -m pip install -q -e ".[dev,lab]"
	$(VENV)/bin/jupyter lab $(LAB_ROOT) notebooks

clean:  ## remove generated runs (keeps .venv and figures)
	rm -rf runs
