# dxval developer commands. Two virtual environments, each created on first use:
#   .venv      dxval and its runtime dependencies only: what `make demo` and users run
#   .venv-dev  the same plus the dev extras (pytest, mypy, ruff, torch, ...): `make test`
# Both install the versions recorded in the SOUP list (qms/soup.yaml) as pip
# constraints, so a fresh install is the configuration `dxval self-validate
# --strict-versions` qualifies. `make test` is what CI runs (.ci/run).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEV    := .venv-dev
DEVBIN := $(DEV)/bin

DEMO_DATA := demo-data
DEMO_EVIDENCE := evidence/DEMO-NODULE-001

# name==version of every SOUP item (a local version label such as +cpu dropped,
# so the same pin resolves from PyPI or a vendor index).
SOUP_PINS = awk -F'"' '/^  - name: /{name=$$2} /^    version: /{sub(/\+.*/, "", $$2); print name "==" $$2}' qms/soup.yaml

# Debian's python3 cannot create a venv without python3-venv (ensurepip).
HAVE_VENV = $(PYTHON) -c 'import ensurepip' 2>/dev/null || .ci/debian-deps python3-venv

.PHONY: install install-dev deps deps-runtime test lint typecheck pytest bench demo demo-gate demo-pccp demo-monitor demo-segmentation demo-detection demo-segmentation-model demo-robustness demo-precision clean

$(BIN)/python: | deps-runtime
	$(HAVE_VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(DEVBIN)/python: | deps-runtime
	$(HAVE_VENV)
	$(PYTHON) -m venv $(DEV)
	$(DEVBIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.dxval-installed: pyproject.toml qms/soup.yaml | $(BIN)/python
	$(SOUP_PINS) > $(VENV)/soup-constraints.txt
	$(BIN)/python -m pip install --quiet -c $(VENV)/soup-constraints.txt -e .
	touch $@

$(DEV)/.dxval-installed: pyproject.toml qms/soup.yaml | $(DEVBIN)/python
	$(SOUP_PINS) > $(DEV)/soup-constraints.txt
	$(DEVBIN)/python -m pip install --quiet -c $(DEV)/soup-constraints.txt -e '.[dev,segmentation]'
	touch $@

install: $(VENV)/.dxval-installed

install-dev: $(DEV)/.dxval-installed

# The Debian packages of .ci/debian-packages (deps: all, what the tests need;
# deps-runtime: what running dxval needs): installed when missing and run as
# root; otherwise the exact command to run is printed.
deps:
	.ci/debian-deps

deps-runtime:
	.ci/debian-deps --runtime

lint: $(DEV)/.dxval-installed
	$(DEVBIN)/ruff check src tests benchmarks
	$(DEVBIN)/ruff format --check src tests benchmarks

typecheck: $(DEV)/.dxval-installed
	$(DEVBIN)/mypy

# junit.xml: the test results that `dxval trace --self --junit junit.xml` reads.
pytest: deps $(DEV)/.dxval-installed
	$(DEVBIN)/python -m pytest --junitxml=junit.xml

test: deps lint typecheck pytest

# The out-of-the-box demo: synthetic 3-site DICOM test sets (byte-identical for
# the seed pinned in protocols/demo.yaml), validated by the bundled ONNX model,
# with the runtime install only.
demo: deps-runtime $(VENV)/.dxval-installed
	$(BIN)/dxval demo generate --out $(DEMO_DATA) --if-needed --protocol protocols/demo.yaml
	$(BIN)/validate protocols/demo.yaml --out evidence
	@bundle=$$(ls -1d $(DEMO_EVIDENCE)/*/ | sort | tail -n 1); bundle=$${bundle%/}; \
	echo; \
	echo "Done. dxval is installed in $(VENV) (runtime only): run it as $(BIN)/dxval, or"; \
	echo "activate the environment first (. $(BIN)/activate) and type dxval. Next:"; \
	echo "  $(BIN)/dxval verify $$bundle"; \
	echo "  xdg-open $$bundle/report.pdf"; \
	echo "  $(BIN)/dxval trace PERF-001 --evidence evidence"; \
	echo "  make demo-gate    # the stricter release gate blocks the release (exit 1)"; \
	echo "  make test         # installs the dev tools into $(DEV); ruff, mypy, pytest"

# The stricter release gate that the demo model fails at the shifted site (exit 1).
demo-gate: $(VENV)/.dxval-installed
	test -d $(DEMO_DATA) || $(BIN)/dxval demo generate --out $(DEMO_DATA)
	$(BIN)/validate protocols/demo-release-gate.yaml --out evidence --no-report; \
	code=$$?; echo "validate exit code $$code (1: criteria not met, the release is blocked)"; \
	test $$code -eq 1

# A PCCP release gate: a modified demo model (models/demo/demo-nodule-v2.onnx, fine-tuned
# on Sites A and B) against the shipped one; non-inferior at Sites A and B, not at Site C, so the
# modification is not to be implemented (exit 1).
demo-pccp: $(VENV)/.dxval-installed
	test -d $(DEMO_DATA) || $(BIN)/dxval demo generate --out $(DEMO_DATA)
	$(BIN)/validate protocols/demo-pccp.yaml --out evidence; \
	code=$$?; echo "validate exit code $$code (1: modification not to be implemented)"; \
	test $$code -eq 1

# The robustness study of the demo model (issue 19): every case re-scored under
# noise, rotation ±10° and contrast changes, paired with the unperturbed run.
# Exit 1 is the expected finding: the demo model's decisions flip under contrast
# changes (ROB-003) and it loses AUC rotated by -10° (ROB-002).
demo-robustness: deps-runtime $(VENV)/.dxval-installed
	$(BIN)/dxval demo generate --out $(DEMO_DATA) --if-needed --protocol protocols/demo-robustness.yaml
	$(BIN)/validate protocols/demo-robustness.yaml --out evidence; \
	code=$$?; echo "validate exit code $$code (1: some robustness criteria not met, see the report's robustness section)"; \
	test $$code -le 1

# The precision study of the demo model (issue 19): the first 20 patients of each
# site acquired twice more (new noise, small positioning change), in their own
# folder (make demo's data and pins are unchanged). The criteria were fixed before
# the first run: ICC(3,1) passes; decision agreement (PREC-002) does not, exit 1.
demo-precision: deps-runtime $(VENV)/.dxval-installed
	$(BIN)/dxval demo generate --repeats 20 --out demo-data-precision --if-needed --protocol protocols/demo-precision.yaml
	$(BIN)/validate protocols/demo-precision.yaml --out evidence; \
	code=$$?; echo "validate exit code $$code (1: some precision criteria not met, see the report's precision section)"; \
	test $$code -le 1

# Post-market monitoring: 12 simulated production weeks of the demo model with a
# scanner change at Site A in week 8, against the newest demo bundle (validated
# here first when there is none); exit 1 = alerts raised, as expected.
demo-monitor: deps-runtime $(VENV)/.dxval-installed
	test -d $(DEMO_DATA) || $(BIN)/dxval demo generate --out $(DEMO_DATA)
	@bundle=$$(ls -1d $(DEMO_EVIDENCE)/*/ 2>/dev/null | sort | tail -n 1); \
	if [ -z "$$bundle" ]; then \
	  $(BIN)/validate protocols/demo.yaml --out evidence --no-report || exit 1; \
	  bundle=$$(ls -1d $(DEMO_EVIDENCE)/*/ | sort | tail -n 1); \
	fi; \
	$(BIN)/dxval demo production --out $(DEMO_DATA)/production.csv && \
	$(BIN)/dxval monitor $$bundle $(DEMO_DATA)/production.csv --out evidence; \
	code=$$?; echo "monitor exit code $$code (1: alerts raised, the week-8 scanner change is caught)"; \
	test $$code -eq 1

# Detection and segmentation demos (issue 16): small synthetic 3-site sets with truth
# and bundled predictions (bit-reproducible: the protocols pin them), then validate.
# Not part of `make demo`.
demo-segmentation: $(VENV)/.dxval-installed
	$(BIN)/dxval demo generate --task segmentation --out demo-data-segmentation
	$(BIN)/validate protocols/demo-segmentation.yaml --out evidence

demo-detection: $(VENV)/.dxval-installed
	$(BIN)/dxval demo generate --task detection --out demo-data-detection
	$(BIN)/validate protocols/demo-detection.yaml --out evidence

# A frozen segmentation model (a tiny ONNX threshold model the generator writes) run by
# the locked harness on synthetic CT series (issue 16 item 5). Not part of `make demo`.
demo-segmentation-model: $(VENV)/.dxval-installed
	$(BIN)/dxval demo generate --task segmentation-model --out demo-data-segmentation-model
	$(BIN)/validate protocols/demo-segmentation-model.yaml --out evidence

bench: $(DEV)/.dxval-installed
	.ci/debian-deps r-base-core r-cran-proc   # pROC: the baseline of benchmarks/bench_cli.py
	$(DEVBIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(DEV) build dist .pytest_cache .mypy_cache .ruff_cache src/*.egg-info \
	  $(DEMO_DATA) junit.xml
