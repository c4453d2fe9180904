# The two commands: `make run` and `make test` (both set up .venv first). `make bench` for figures.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The seed's Keras recipe, the bench's speed reference, in a venv of its own (TensorFlow stays out of .venv).
KERAS_STAMP := .venv-keras/.installed

.PHONY: run test bench install fonts lint format clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,tune,serve,dask]'
	touch $(STAMP)

install: $(STAMP)

# A font for Chinese, Japanese and Korean column names in the report's figures; never fails (see the script).
fonts:
	@bash tests/setup_fonts.sh

$(KERAS_STAMP): bench/keras-requirements.txt
	$(PYTHON) -m venv .venv-keras
	.venv-keras/bin/python -m pip install --quiet --upgrade pip
	.venv-keras/bin/python -m pip install --quiet -r bench/keras-requirements.txt
	touch $(KERAS_STAMP)

run: $(STAMP) fonts
	$(BIN)/hotleads run --out out

test: $(STAMP) fonts lint
	bash tests/setup_chromium.sh  # the report's browser test; skipped when chromium cannot be installed
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The formatter and the linter (configured in pyproject.toml); `make format` applies both.
lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(STAMP) $(KERAS_STAMP)
	$(BIN)/python bench/run_bench.py

clean:
	rm -rf $(VENV) .venv-keras out .pytest_cache
