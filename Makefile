# Two commands set everything up on a fresh machine:
#   make demo   the main job: a short real active-learning experiment (table + plot)
#   make test   the test suite
# Both create .venv when it is missing and install the pinned dependencies (constraints.txt).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA_DIR ?= $(if $(BATCHBALD_DATA_DIR),$(BATCHBALD_DATA_DIR),$(abspath $(wildcard ../shared/datasets)))
DEMO_OUT ?= results/demo

.PHONY: test demo lint format clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test,web]'
	touch $(STAMP)

# The tests that need the real MNIST find it where the demo does (they skip without it).
test: $(STAMP)
	BATCHBALD_DATA_DIR=$(DATA_DIR) $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

# The demo's three methods run side by side (--jobs 3); rerunning resumes or skips finished work.
demo: $(STAMP)
	BATCHBALD_DATA_DIR=$(DATA_DIR) $(BIN)/batchbald run configs/demo.toml --out $(DEMO_OUT) --jobs 3
	$(BIN)/batchbald report $(DEMO_OUT) --thresholds 0.8 0.85 --sizes 60 100 120 \
		--markdown $(DEMO_OUT)/table.md --plot $(DEMO_OUT)/accuracy.png --plots-dir $(DEMO_OUT)/plots \
		--time-reference batchbald_b10

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .ruff_cache
