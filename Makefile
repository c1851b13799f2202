# `make run` runs the baseline year; `make test` runs the test suite.
# `make dashboard` starts the what-if dashboard on 127.0.0.1 (PORT=8765 by default).
# All create (or reuse) .venv with a Python >= 3.12 found on this machine; set PYTHON=... to choose.
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench calibrate dashboard clean

$(STAMP): pyproject.toml
	@py="$$(PYTHON="$(PYTHON)" sh tools/find_python.sh)" || exit 1; \
	if [ ! -x $(VPY) ] || ! $(VPY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
		rm -rf $(VENV); echo "creating $(VENV) with $$py"; "$$py" -m venv $(VENV) || exit 1; fi
	@echo "installing the project and its dependencies into $(VENV) (log: $(VENV)/install.log)"
	@# the build backend's notices (e.g. "Editable installation") are not errors: kept in the log,
	@# shown only if the installation fails
	@{ $(VPY) -m pip install -q --upgrade pip && $(VPY) -m pip install -q -e '.[test,dashboard]'; } \
		> $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

run: $(STAMP)
	$(VPY) run.py

test: $(STAMP)
	$(VPY) -m ruff check .
	$(VPY) -m pytest

PORT ?= 8765
dashboard: $(STAMP)
	$(VPY) run.py dashboard --port $(PORT)

bench: $(STAMP)
	$(VPY) benchmarks/bench_year.py
	$(VPY) benchmarks/bench_sweep.py

calibrate: $(STAMP)
	$(VPY) run.py calibrate --write

clean:
	rm -rf $(VENV) results
