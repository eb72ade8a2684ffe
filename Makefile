# Every target creates or refreshes .venv from requirements-dev.txt first (the program's requirements.txt, the Lambda
# runtime's pins, the test and benchmark tools), so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements.stamp

.PHONY: venv demo test lint plan policy chat bench faults doctor clean

UV := uv==0.13.8

# uv (pinned above) resolves requirements-dev.txt in one pass and installs on every core; pip, upgraded in the same
# pass, downloads the layers' wheels. Bytecode is written by the first process that imports a module (`make test` keeps
# it), so set-up does not compile the thousands of modules (most of pulumi_aws) nothing here imports.
$(STAMP): requirements.txt requirements-dev.txt runtime/requirements.txt runtime/media-requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check $(UV) 2>&1 | grep -v "is ignored: it is neither" || true
	@$(PY) -m uv pip install --quiet --python $(PY) --upgrade-package pip pip -r requirements-dev.txt
	@$(PY) -c "import pulumi, pulumi_aws, boto3, aws_lambda_powertools, moto, pytest, mypy"
	@# The SDK and media layers' wheels for arm64/python3.13, so building the layers (tests, pulumi up) needs no network.
	@$(PY) -m components.layer_wheels
	@touch $(STAMP)

# Only .venv (and the layers' wheels): what `pulumi up` runs the program with, without running the suite.
venv: $(STAMP)

# Also draws the stack's CloudWatch dashboard from the replay's metrics: demo-dashboard.png.
demo: $(STAMP)
	$(PY) -m sandbox demo --dashboard demo-dashboard.png

# One work unit per module (tests/conftest.py: pytest_xdist_make_scheduler), the replays first, on half again as many
# workers as cores (pytest_xdist_auto_num_workers). The run keeps bytecode (ignored __pycache__ folders) even where
# PYTHONDONTWRITEBYTECODE is set: each replay starts six function workers, and pytest rewrites every test module's
# asserts in each process, which would otherwise compile the same sources hundreds of times.
test: lint
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -n auto --dist loadfile --no-loadscope-reorder

# The type check reads its files and flags from pyproject.toml ([tool.mypy]); .pre-commit-config.yaml runs the same.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

plan: $(STAMP)
	$(PY) -m sandbox plan

# The policy pack's mandatory policies on the program under mocks (offline; in CI: pulumi preview --policy-pack policy).
policy: $(STAMP)
	$(PY) policy/offline.py

chat: $(STAMP)
	$(PY) -m sandbox chat

bench: $(STAMP)
	$(PY) -m bench

faults: $(STAMP)
	$(PY) -m bench.faults

# Read-only checks of a deployed stack (STACK=name, default the selected one): one line per check, ✓ or ✗ and its fix.
# SANDBOX=1 runs them against the sandbox's stand-ins instead (no AWS).
doctor: $(STAMP)
	$(if $(SANDBOX),$(PY) -m sandbox doctor,$(PY) -m components.doctor $(if $(STACK),--stack $(STACK)))

clean:
	rm -rf $(VENV) .build .pytest_cache .ruff_cache .mypy_cache
