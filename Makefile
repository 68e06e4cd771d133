# One venv in the repo, the three projects installed editable, everything pinned by constraints.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROJECTS := shared unit_agent leader
PYTEST_ARGS ?=
VENDOR := leader/src/leader/static/vendor
VENDOR_STAMP := $(VENDOR)/.installed

.PHONY: install install-deploy test lint dist wheelhouse deploy-check bench clean run

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
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m 'not deploy' $(PYTEST_ARGS)

# ansible-core and ansible-lint, only for the deploy checks (kept out of `install` so `make test` stays lean).
DEPLOY_STAMP := $(VENV)/.installed-deploy
install-deploy: $(DEPLOY_STAMP)

$(DEPLOY_STAMP): $(STAMP) constraints.txt requirements-deploy.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -r requirements-deploy.txt
	@touch $(DEPLOY_STAMP)

# The deploy tests (tests/deploy, marker `deploy`): units verified and scored, ansible-lint, roles converged
# into temporary roots, the rollout's batches and rollbacks, the broker's ACLs. Needs the wheelhouse.
deploy-check: install-deploy wheelhouse
	$(BIN)/python -m pytest -n 0 -m deploy tests/deploy $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

dist: install
	rm -rf dist $(addsuffix /build,$(PROJECTS))  # a stale build/lib would put deleted modules in a wheel
	for p in $(PROJECTS); do $(BIN)/python -m build -q --wheel --no-isolation --outdir dist ./$$p || exit 1; done
	@ls dist

# dist/wheelhouse: our three wheels and every dependency at its pinned version, so hosts install with
# `pip --no-index`. For Raspberry Pis add e.g. WHEELHOUSE_ARGS='--platform manylinux2014_aarch64
# --only-binary=:all: --python-version 3.11' (see deploy/README.md).
WHEELHOUSE_ARGS ?=
wheelhouse: dist
	$(BIN)/python -m pip download -q --disable-pip-version-check -c constraints.txt -d dist/wheelhouse \
		$(WHEELHOUSE_ARGS) dist/*.whl
	@ls dist/wheelhouse | wc -l

# A demo cluster on loopback until Ctrl-C. Settings: LEADER_PORT, DEMO_UNITS, DEMO_PIO=sim|real, DEMO_SPEED.
run: install
	$(BIN)/python -m devcluster

# Every bench's short run (each prints its figures beside a baseline of the same run; full sizes: the flags
# and variables in each file's docstring, e.g. bench/load.py --full, bench/reads.py --rows 10000000).
BENCH_SHORT := \
	"load.py" \
	"ingest.py" \
	"fanout.py --units 100" \
	"fanout.py --units 1000" \
	"reads.py --rows 200000" \
	"units.py --seconds 10" \
	"agent_dispatch.py --runs 100" \
	"agent_idle_cpu.py --seconds 10" \
	"sse.py" "changes.py" "auth.py" "dashboard.py" "profiles.py" \
	"schedules.py --seconds 20"
bench: install
	@for b in $(BENCH_SHORT); do echo "== bench/$$b"; \
		BENCH_INGEST_N=20000 BENCH_INGEST_TRIALS=1 BENCH_PAGES=100 $(BIN)/python bench/$$b || exit 1; done

clean:
	rm -rf $(VENV) dist build node_modules $(VENDOR) $(addsuffix /build,$(PROJECTS)) .run .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
	find . -name '*.egg-info' -prune -exec rm -rf {} +
