# Two commands do all set-up on a fresh machine:
#   make run   install, pull the default model, ingest the bundled corpus if the store is empty, open the UI
#   make test  install, pull the 135M test model, run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
MODEL  ?= qwen2.5-coder-1.5b
TEST_MODEL ?= smollm2-135m
# llama-cpp-python compiles llama.cpp from source; skip the parts we never use.
export CMAKE_ARGS ?= -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF
# llama.cpp builds for the CPU it is built on (-march=native), AMX included where the CPU lists it;
# on a virtual machine that lists AMX but does not enable it (seen here: a Sapphire Rapids guest),
# the first matrix product dies at `ldtilecfg` (a general protection fault, every model). Without
# it llama.cpp uses its AVX-512/AVX2 kernels. pip caches the built wheel whatever these flags were:
# after changing them, `pip cache remove llama_cpp_python` before reinstalling.
export CFLAGS   += -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
export CXXFLAGS += -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: install run test browser bench clean-store help

help:
	@echo "make run    - install, pull $(MODEL), ingest the bundled corpus, open http://127.0.0.1:7860"
	@echo "make test   - install, pull $(TEST_MODEL), run every test"
	@echo "make bench  - run every benchmark and evaluation, refresh the README and docs/ tables (hours)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "Installing (the first build of llama-cpp-python compiles llama.cpp: ~7 minutes on 2 cores)..."
	$(BIN)/python -m pip install --progress-bar off -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/vjassistant models pull $(MODEL)
	$(BIN)/vjassistant ingest --bundled --if-empty
	$(BIN)/vjassistant --model $(MODEL) serve

# Debian's Chromium for the browser test (test tools must not download their own browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "could not install chromium: the browser test will be skipped"; \
	  else echo "chromium missing: sudo apt-get install chromium (the browser test will be skipped)"; fi; }

test: install browser
	$(BIN)/vjassistant models pull $(TEST_MODEL)
	$(BIN)/python -m pytest

# Every benchmark and evaluation table in the README and docs/, regenerated (several hours on 2 cores).
bench: install
	$(BIN)/python -m pip install --progress-bar off -e '.[test,bench]'
	for m in $(TEST_MODEL) qwen2.5-coder-0.5b $(MODEL); do $(BIN)/vjassistant models pull $$m || exit 1; done
	cd benchmarks && for s in quality citation_check prompt_cost retrieval ingestion; do \
	  ../$(BIN)/python $$s.py --update-readme || exit 1; done
	cd benchmarks && ../$(BIN)/python startup.py --preset $(MODEL) --update-readme
	cd benchmarks && ../$(BIN)/python startup.py --preset $(MODEL) --mode collection --update-readme
	cd benchmarks && for s in chat_quality decline_rules cross_retrieval generation collection_budget speculative peer; do \
	  ../$(BIN)/python $$s.py --update-docs || exit 1; done

clean-store:
	rm -rf vectorstore/*
