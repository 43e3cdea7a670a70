# rewardgate: `make run` (install, train the default model if the store is empty, serve) and
# `make test` (install, run the suite) are the two commands a new user needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# CPU build by default; set TORCH_SPEC="torch" (or a CUDA index) on a GPU machine.
TORCH_SPEC ?= torch==2.13.0
CONFIG ?= training/configs/default.toml
ARGS ?=
STORE := $(or $(REWARDGATE_STORE),model_store/models)
MODEL := $(or $(REWARDGATE_MODEL),default)

.PHONY: install run serve train eval test lint bench bench-quick bench-store soak docker stack-test clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first, so nothing below can pull a multi-GB CUDA build in its place
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[train,s3,dev]"
	touch $@

install: $(VENV)/.installed

run: install
	@# `current` exits 1 when the store has no model, 2 when the store itself cannot be read
	@rc=0; $(PY) -m model_store --store "$(STORE)" --name "$(MODEL)" current >/dev/null 2>&1 || rc=$$?; \
	if [ $$rc -eq 1 ]; then \
	  echo "no model in $(STORE): training the default model first (a few minutes on 2 cores)"; \
	  $(PY) -m training --config $(CONFIG) --store "$(STORE)" $(ARGS) || exit $$?; \
	elif [ $$rc -ne 0 ]; then \
	  $(PY) -m model_store --store "$(STORE)" --name "$(MODEL)" current; exit $$rc; \
	fi
	HOST=$(HOST) PORT=$(PORT) $(PY) -m app

serve: install
	HOST=$(HOST) PORT=$(PORT) $(PY) -m app

train: install
	$(PY) -m training --config $(CONFIG) $(ARGS)

eval: install
	$(PY) -m training evaluate $(ARGS)

# Debian's chromium for the browser test of /docs; best effort: without it (not root, no apt),
# that test skips and says why.
$(VENV)/.system-test-deps: | $(VENV)/.installed
	@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium (headless browser test of /docs)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  (apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || \
	   (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1)) || \
	  echo "could not install chromium: the browser test will skip"; \
	fi
	touch $@

test: install $(VENV)/.system-test-deps
	$(PY) -m pytest -q $(ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

$(VENV)/.bench-installed: $(VENV)/.installed
	# TRL and datasets are only for the benchmark's RewardTrainer baseline; onnxruntime for its
	# ONNX Runtime rows (bench/runtimes.py)
	$(PY) -m pip install -q -e ".[bench,cpu-int8]"
	touch $@

bench: install $(VENV)/.bench-installed
	$(PY) -m bench $(ARGS)

bench-store: install
	$(PY) -m bench.store $(ARGS)

bench-quick: install
	$(PY) -m bench --quick $(ARGS)

soak: install
	$(PY) -m bench.soak $(ARGS)

docker:
	docker build -t rewardgate:latest .

# The real stack, really run: image built with a real engine, trained and served in containers,
# Prometheus scraping it, every dashboard query checked. Not in .ci/run (about 15 minutes).
stack-test: install
	$(PY) -m deploy.stack_test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
