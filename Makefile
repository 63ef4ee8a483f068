# Everything a fresh machine with Python 3.11+ and make needs: `make report`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATASET ?= data/demo/broken
REPO ?= data/demo/repo
# the demo is rendered again from its source before the report: the whole chain runs
RENDERED ?= build/$(notdir $(DATASET))

.PHONY: install test report bench docs notebooks lab clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	# kustomize in-process (bundles kustomize API v0.21.3); its metadata asks for Python 3.14,
	# but it runs on 3.11, so it is pinned and installed without that check
	$(BIN)/python -m pip install --quiet --ignore-requires-python pykustomize==0.1.4
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

report: $(STAMP)
	$(BIN)/gitops-analysis render $(REPO) --apps $(DATASET)/apps --out $(RENDERED) || [ $$? -eq 1 ]
	$(BIN)/gitops-analysis check $(RENDERED) --fail-on never
	$(BIN)/gitops-analysis report $(RENDERED) --out reports --repo $(REPO)

bench: $(STAMP)
	$(BIN)/python bench/run.py

notebooks: $(STAMP)
	$(BIN)/python notebooks/pin_outputs.py

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

docs: $(STAMP)
	$(BIN)/gitops-analysis docs --out docs

clean:
	rm -rf $(VENV) reports build .pytest_cache
