"""What the function workers' fork server loads once: the SDK's models, shared between sessions without changing what a
client sees, and the runtime modules that read no environment variable, never one that does."""

import json
import os
import subprocess
import sys
from pathlib import Path

import botocore.session
import pytest

from sandbox import sdk_models, worker_preload
from sandbox.lambdas import FunctionProcess

ROOT = Path(__file__).resolve().parents[2]


def _client(data_path: str | None = None):
    session = botocore.session.get_session()
    if data_path is not None:
        session.set_config_variable("data_path", data_path)
    return session.create_client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def test_clients_of_two_sessions_read_one_parsed_model_of_their_service():
    sdk_models.install()
    first, second = _client(), _client()
    assert first.meta.service_model is not second.meta.service_model  # each client its own model object …
    assert first.meta.service_model.operation_names == second.meta.service_model.operation_names
    # … built from the one description the process parsed
    assert first.meta.service_model._service_description is second.meta.service_model._service_description


def test_a_session_with_its_own_data_path_reads_the_models_there(tmp_path):
    """botocore reads AWS_DATA_PATH's models before its own ("data_path" config variable): the old-SDK fault relies
    on it, so the shared loader is one per data path."""
    sdk_models.install()
    default = _client()
    version = default.meta.service_model.api_version
    description = json.loads(json.dumps(default.meta.service_model._service_description))
    del description["operations"]["DescribeEndpoints"]
    model_dir = tmp_path / "dynamodb" / version
    model_dir.mkdir(parents=True)
    (model_dir / "service-2.json").write_text(json.dumps(description))

    trimmed = _client(str(tmp_path))

    assert "DescribeEndpoints" in default.meta.service_model.operation_names
    assert "DescribeEndpoints" not in trimmed.meta.service_model.operation_names
    assert "DescribeEndpoints" in _client().meta.service_model.operation_names


def test_what_reads_the_function_environment_at_import_is_left_to_each_worker():
    _, runtime = worker_preload.preloadable()
    assert worker_preload.READS_ENVIRONMENT not in runtime
    functions = ("ingest", "aggregator", "sweeper", "inbound", "outbound", "outreach")
    assert not {f"whatsapp_buffer.entrypoints.{function}" for function in functions} & set(runtime)
    # A module only the handler modules import is reached from them, and loaded once for all workers.
    assert "whatsapp_buffer.entrypoints.recognise" in runtime
    assert {"whatsapp_buffer.model", "whatsapp_buffer.settings", "whatsapp_buffer.adapters.raw_table"} <= set(runtime)
    # Loading every preloaded module in a fresh interpreter loads nothing that reads the environment.
    probe = (
        "import importlib, json, sys\n"
        f"sys.path.insert(0, {str(ROOT / 'runtime')!r})\n"
        f"for name in {runtime!r}: importlib.import_module(name)\n"
        f"print(json.dumps({worker_preload.READS_ENVIRONMENT!r} in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout) is False


def test_a_function_that_sets_a_variable_read_while_preloading_to_another_value_is_refused_naming_it():
    # Powertools reads POWERTOOLS_DEBUG when it is imported (its package logger); the fork server has this process's
    # environment.
    other = "false" if os.environ.get("POWERTOOLS_DEBUG") == "true" else "true"
    worker = FunctionProcess(
        function_name="probe",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:probe",
        handler="operator.is_not",
        env={"POWERTOOLS_DEBUG": other},
        memory_mb=128,
        timeout_s=3,
    )
    worker.start(now=0.0)
    try:
        with pytest.raises(RuntimeError, match="POWERTOOLS_DEBUG differently from the fork server"):
            worker.wait_ready()
    finally:
        worker.stop()


def test_the_refusal_names_each_variable_whose_value_differs(monkeypatch):
    monkeypatch.setattr(worker_preload, "read_at_preload", {"AWS_EXECUTION_ENV": None, "POWERTOOLS_DEBUG": "false"})
    worker_preload.check_environment({"POWERTOOLS_DEBUG": "false"})
    with pytest.raises(RuntimeError, match="sets AWS_EXECUTION_ENV, POWERTOOLS_DEBUG differently"):
        worker_preload.check_environment({"AWS_EXECUTION_ENV": "AWS_Lambda_python3.13"})


def test_a_function_that_leaves_those_variables_alone_starts_and_answers():
    worker = FunctionProcess(
        function_name="probe",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:probe",
        handler="operator.is_not",
        env={"POWERTOOLS_SERVICE_NAME": "probe", "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO")},
        memory_mb=128,
        timeout_s=3,
    )
    worker.start(now=0.0)
    try:
        worker.wait_ready()
        answer = worker.invoke({}, now=1.0)
    finally:
        worker.stop()
    assert answer.ok and answer.result is True
