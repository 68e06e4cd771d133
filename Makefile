# One venv in the repo, the three projects installed editable, everything pinned by constraints.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROJECTS := shared unit_agent leader
PYTEST_ARGS ?=
VENDOR := leader/src/leader/static/vendor
VENDOR_STAMP := $(VENDOR)/.installed

.PHONY: install test lint dist bench clean run

install: $(STAMP) $(VENDOR_STAMP)

# The UI's front-end libraries (package.json, exact versions) copied into the leader package, so the wheel
# carries them and a Pi never needs npm. No lock file is written: it would record download addresses.
$(VENDOR_STAMP): package.json
	npm install --no-audit --no-fund --package-lock=false --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/uplot/dist/uPlot.iife.min.js \
		node_modules/uplot/dist/uPlot.min.css $(VENDOR)/
	@touch $@

$(STAMP): constraints.txt requirements-dev.txt shared/pyproject.toml unit_agent/pyproject.toml leader/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python >= 3.11 is required ($(PYTHON))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt \
		-e ./shared -e ./unit_agent -e ./leader -r requirements-dev.txt
	@touch $(STAMP)

test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

dist: install
	rm -rf dist $(addsuffix /build,$(PROJECTS))  # a stale build/lib would put deleted modules in a wheel
	for p in $(PROJECTS); do $(BIN)/python -m build -q --wheel --no-isolation --outdir dist ./$$p || exit 1; done
	@ls dist

# A demo cluster on loopback until Ctrl-C. Settings: LEADER_PORT, DEMO_UNITS, DEMO_PIO=sim|real, DEMO_SPEED.
run: install
	$(BIN)/python -m devcluster

bench: install
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) dist build node_modules $(VENDOR) $(addsuffix /build,$(PROJECTS)) .run .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
	find . -name '*.egg-info' -prune -exec rm -rf {} +
