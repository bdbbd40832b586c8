# The two commands of the README, and what they stand on. Recipes call Python tools; see tools/.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INVENTORY ?= inventories/local
SANITY := .cache/ansible-test
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: setup test-setup engine lab up down lint test bench clean

## setup: .venv with ansible-playbook and every collection the playbooks need (no Galaxy needed)
setup: $(VENV)/.setup .collections/.setup

$(VENV)/.setup: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt
	touch $@

.collections/.setup: requirements.yml tools/install_collections.py $(VENV)/.setup
	$(BIN)/python tools/install_collections.py
	touch $@

test-setup: setup $(VENV)/.test-setup $(SANITY)/.setup

$(VENV)/.test-setup: requirements-test.txt requirements.txt
	$(BIN)/pip install -q -r requirements-test.txt
	touch $@

# ansible-test's own environment for each sanity test, with the packages it pins (from PyPI): see tools/sanity.py.
$(SANITY)/.setup: $(VENV)/.setup .collections/.setup tools/sanity.py
	$(BIN)/python tools/sanity.py --prime
	touch $@

## engine: a running Docker engine on this machine (installs Debian's docker.io when missing)
engine:
	$(PYTHON) tools/docker_engine.py

## lab: the gds stand-in and lab-host test images (rebuilt only when their recipe changed) and the lab SSH key
lab: engine
	$(PYTHON) tools/prepare_lab.py

## up: a Dask cluster on this machine (or INVENTORY=...); builds a Dask image here when no registry answers
up: setup engine
	$(BIN)/python tools/up.py -i $(INVENTORY)

## down: remove that cluster's containers
down: setup
	$(BIN)/ansible-playbook playbooks/down.yml -i $(INVENTORY)

## lint: yamllint, ansible-lint (production profile), ansible-test sanity and the docs generated from the argument specs
lint: test-setup
	$(BIN)/pytest tests/test_lint.py tests/test_sanity.py

## test: everything CI runs: lint, input validation, every Molecule scenario (two at a time: see tests/conftest.py)
test: test-setup lab
	$(BIN)/pytest -n 2 --dist loadgroup --no-loadscope-reorder tests

## bench: the benchmarks of bench/ (several minutes each; results in bench/results/)
bench: test-setup lab $(VENV)/.bench-setup
	$(BIN)/python bench/up_down.py
	$(BIN)/python bench/image_distribution.py

$(VENV)/.bench-setup: requirements-bench.txt requirements-test.txt
	$(BIN)/pip install -q -r requirements-bench.txt
	touch $@

clean:
	rm -rf $(VENV) .collections .cache .dask
