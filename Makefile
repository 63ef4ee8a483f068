# Everything a fresh machine with Python 3.11+ and make needs: `make report`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATASET ?= data/demo/broken
REPO ?= data/demo/repo
# the demo is rendered again from its source before the report: the whole chain runs
RENDERED ?= build/$(notdir $(DATASET))

.PHONY: install test lint report bench docs notebooks lab clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	# kustomize in-process (bundles kustomize API v0.21.3); its metadata asks for Python 3.14,
	# but it runs on 3.11, so it is pinned and installed without that check
	$(BIN)/python -m pip install --quiet --ignore-requires-python pykustomize==0.1.4
	# Helm in-process (helm-python-sdk bundles the Helm v4.2.3 Go library): render uses it when no
	# helm binary is on PATH; pinned in constraints.txt (also a dependency in pyproject.toml)
	$(BIN)/python -m pip install --quiet -c constraints.txt helm-python-sdk
	touch $(STAMP)

install: $(STAMP)

test: lint
	$(BIN)/python -m pytest -q

# ruff and mypy, configured in pyproject.toml: the package stays clean
lint: $(STAMP)
	$(BIN)/ruff check gitops_analysis
	$(BIN)/mypy gitops_analysis

# the terminal gets a line a step: render's line per app goes to build/render-NAME.txt, the
# findings to reports/check.txt (written by report, which prints their summary line)
report: $(STAMP)
	@mkdir -p build
	$(BIN)/gitops-analysis render $(REPO) --apps $(DATASET)/apps --out $(RENDERED) \
		> build/render-$(notdir $(DATASET)).txt || [ $$? -eq 1 ]
	$(BIN)/gitops-analysis report $(RENDERED) --out reports --repo $(REPO)

bench: $(STAMP)
	$(BIN)/python bench/run.py

notebooks: $(STAMP)
	$(BIN)/python tools/pin_notebooks.py

# make lab LAB_PORT=9999; LAB_ARGS=--no-browser on a machine without a browser
LAB_PORT ?= 8888
LAB_ARGS ?=
lab: $(STAMP)
	$(BIN)/jupyter lab gitops_analysis/notebooks/ --port $(LAB_PORT) \
		$(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

docs: $(STAMP)
	$(BIN)/gitops-analysis docs --out docs

clean:
	rm -rf $(VENV) reports build .pytest_cache
