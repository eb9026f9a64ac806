# dxval developer commands. Every target creates .venv and installs what it
# needs on a fresh machine; `make test` is what CI runs (.ci/run).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.dxval-installed

DEMO_DATA := demo-data

.PHONY: install test lint typecheck pytest bench demo demo-gate demo-monitor clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest

test: lint typecheck pytest

# The out-of-the-box demo: synthetic 3-site DICOM test sets (byte-identical for
# the seed pinned in protocols/demo.yaml), validated by the bundled model.
demo: $(STAMP)
	$(BIN)/dxval demo generate --out $(DEMO_DATA)
	$(BIN)/validate protocols/demo.yaml --out evidence
	@echo
	@echo "Done. Read the report above (report: ...), verify the bundle with"
	@echo "  $(BIN)/dxval verify <evidence folder>"
	@echo "and see a blocked release with"
	@echo "  make demo-gate"

# The stricter release gate that the demo model fails at the shifted site (exit 1).
demo-gate: $(STAMP)
	test -d $(DEMO_DATA) || $(BIN)/dxval demo generate --out $(DEMO_DATA)
	$(BIN)/validate protocols/demo-release-gate.yaml --out evidence --no-report; \
	code=$$?; echo "validate exit code $$code (1: criteria not met, the release is blocked)"; \
	test $$code -eq 1

# Post-market monitoring: 12 simulated production weeks of the demo model with a
# scanner change at Site A in week 8, against the newest demo bundle (validated
# here first when there is none); exit 1 = alerts raised, as expected.
demo-monitor: $(STAMP)
	test -d $(DEMO_DATA) || $(BIN)/dxval demo generate --out $(DEMO_DATA)
	@bundle=$$(ls -d evidence/DEMO-NODULE-001/*/ 2>/dev/null | tail -n 1); \
	if [ -z "$$bundle" ]; then \
	  $(BIN)/validate protocols/demo.yaml --out evidence --no-report || exit 1; \
	  bundle=$$(ls -d evidence/DEMO-NODULE-001/*/ | tail -n 1); \
	fi; \
	$(BIN)/dxval demo production --out $(DEMO_DATA)/production.csv && \
	$(BIN)/dxval monitor $$bundle $(DEMO_DATA)/production.csv --out evidence; \
	code=$$?; echo "monitor exit code $$code (1: alerts raised, the week-8 scanner change is caught)"; \
	test $$code -eq 1

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache src/*.egg-info $(DEMO_DATA)
