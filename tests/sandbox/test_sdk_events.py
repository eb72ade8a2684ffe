"""A worker's SDK calls, recorded and fault-injected through botocore's events (sandbox.sdk_events), against moto."""

from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.faults import WorkerFault
from sandbox.sdk_events import InjectedCrash, SdkHooks, WorkerFaults

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def _hooks(*rules: WorkerFault) -> SdkHooks:
    return SdkHooks(WorkerFaults([rule.__dict__ for rule in rules], seed="test"))


def _client(service: str, endpoint: str, *, config: Config = NO_RETRIES):
    """A client from its own session, as Powertools builds one (not boto3's default session)."""
    session = boto3.session.Session(
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
        region_name="us-east-1",  # noqa: S106 - moto
    )
    return session.client(service, endpoint_url=endpoint, config=config)


def test_every_call_is_recorded_with_the_parameters_the_caller_passed(moto_endpoint):
    with _hooks().installed() as hooks:
        sqs = _client("sqs", moto_endpoint)
        url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex}")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="hello")
    calls = hooks.take()
    assert [(c.service, c.operation) for c in calls] == [("sqs", "CreateQueue"), ("sqs", "SendMessage")]
    assert calls[1].params == {"QueueUrl": url, "MessageBody": "hello"}
    assert all(c.error is None for c in calls)
    assert hooks.take() == []


def test_a_presigned_url_is_no_call_but_is_recorded_apart_as_the_request_it_signs(moto_endpoint):
    """Amazon S3 User Guide, "Download and upload objects with presigned URLs": "The credentials used by the presigned
    URL are those of the AWS Identity and Access Management (IAM) principal who generated the URL"."""
    with _hooks().installed() as hooks:
        s3 = _client("s3", moto_endpoint)
        s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
        s3.generate_presigned_url("put_object", Params={"Bucket": "b", "Key": "inbound/x"}, ExpiresIn=300)
    assert hooks.take() == []
    signed = hooks.take_signed()
    assert [(c.service, c.operation, c.params) for c in signed] == [
        ("s3", "GetObject", {"Bucket": "b", "Key": "k"}),
        ("s3", "PutObject", {"Bucket": "b", "Key": "inbound/x"}),
    ]
    assert hooks.take_signed() == []


def test_the_service_is_named_by_its_iam_prefix(moto_endpoint):
    with _hooks().installed() as hooks:
        with pytest.raises(ClientError):  # moto serves neither: the calls are recorded all the same
            _client("socialmessaging", moto_endpoint).list_linked_whatsapp_business_accounts()
        with pytest.raises(ClientError):
            _client("connectparticipant", moto_endpoint).get_transcript(ConnectionToken="t")
    assert [(c.service, c.operation) for c in hooks.take()] == [
        ("social-messaging", "ListLinkedWhatsAppBusinessAccounts"),
        ("execute-api", "GetTranscript"),
    ]


def test_a_failed_call_keeps_the_service_error_code(moto_endpoint):
    with _hooks().installed() as hooks:
        sqs = _client("sqs", moto_endpoint)
        with pytest.raises(ClientError):
            sqs.get_queue_url(QueueName=f"missing-{uuid.uuid4().hex}")
    (call,) = hooks.take()
    assert call.error == "AWS.SimpleQueueService.NonExistentQueue"


@pytest.mark.parametrize(
    ("service", "operation", "code", "status"),
    [
        ("dynamodb", "ListTables", "ProvisionedThroughputExceededException", 400),  # JSON protocol
        ("s3", "ListBuckets", "SlowDown", 503),  # REST-XML protocol
    ],
)
def test_an_injected_error_reaches_the_caller_as_the_service_would_send_it(
    moto_endpoint, service, operation, code, status
):
    with _hooks(WorkerFault("error", 1.0, service, operation, code, status)).installed() as hooks:
        client = _client(service, moto_endpoint)
        with pytest.raises(ClientError) as raised:
            getattr(client, "list_tables" if service == "dynamodb" else "list_buckets")()
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    (call,) = hooks.take()
    assert call.error == code
    assert hooks.faults.injected == 1


def test_the_sdk_retries_an_injected_throttle_as_it_retries_the_service(moto_endpoint):
    rule = WorkerFault("error", 0.5, "dynamodb", "ListTables", "ProvisionedThroughputExceededException", 400)
    with _hooks(rule).installed() as hooks:
        client = _client("dynamodb", moto_endpoint, config=Config(retries={"max_attempts": 20, "mode": "standard"}))
        for _ in range(5):
            client.list_tables()
    calls = hooks.take()
    assert len(calls) == 5 and all(c.error is None for c in calls)
    assert hooks.faults.injected > 0  # each one answered on an SDK retry, inside the same API call


def test_the_sdks_back_off_between_retries_passes_in_virtual_time_not_wall_time(moto_endpoint, monkeypatch):
    # botocore.endpoint.Endpoint._needs_retry: "Request needs to be retried, and we need to sleep for the specified
    # number of times." -- then time.sleep(handler_response). In a worker that wait goes to the virtual clock.
    slept: list[float] = []
    monkeypatch.setattr("time.sleep", lambda seconds: slept.append(seconds))
    waited: list[float] = []
    rule = WorkerFault("error", 1.0, "dynamodb", "ListTables", "ProvisionedThroughputExceededException", 400)
    hooks = SdkHooks(WorkerFaults([rule.__dict__], seed="test"), on_backoff=waited.append)
    with hooks.installed():
        client = _client(
            "dynamodb", moto_endpoint, config=Config(retries={"total_max_attempts": 3, "mode": "standard"})
        )
        with pytest.raises(ClientError):
            client.list_tables()
    assert len(waited) == 2 and all(w > 0 for w in waited)  # three attempts, two waits, each handed on
    assert hooks.take_backoffs() == waited
    assert slept == []  # the wall clock did not wait
    import botocore.endpoint

    assert botocore.endpoint.time is __import__("time")  # uninstalled: the SDK sleeps for real again


def test_a_crash_after_a_call_comes_once_the_call_succeeded(moto_endpoint):
    with _hooks(WorkerFault("crash_after", 1.0, "sqs", "CreateQueue")).installed() as hooks:
        sqs = _client("sqs", moto_endpoint)
        name = f"q-{uuid.uuid4().hex}"
        with pytest.raises(InjectedCrash):
            sqs.create_queue(QueueName=name)
        assert sqs.get_queue_url(QueueName=name)["QueueUrl"]  # the call itself went through
    assert [c.operation for c in hooks.take()] == ["CreateQueue", "GetQueueUrl"]


def test_a_timeout_ends_the_invocation_before_the_call_it_falls_on(moto_endpoint):
    hooks = _hooks(WorkerFault("timeout", 1.0))
    with hooks.installed():
        sqs = _client("sqs", moto_endpoint)
        hooks.faults.start_invocation()
        hooks.faults.timeout_at = 1
        sqs.list_queues()
        with pytest.raises(InjectedCrash, match="timed out"):
            sqs.list_queues()
    assert [c.operation for c in hooks.take()] == ["ListQueues"]


def test_the_default_session_behind_boto3_client_is_hooked_too(moto_endpoint, monkeypatch):
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with _hooks().installed() as hooks:
        client = boto3.client(
            "sqs",
            endpoint_url=moto_endpoint,
            region_name="us-east-1",
            aws_access_key_id="sandbox",
            aws_secret_access_key="sandbox",
            config=NO_RETRIES,  # noqa: S106 - moto
        )
        client.list_queues()
    assert [c.operation for c in hooks.take()] == ["ListQueues"]


def test_sessions_created_after_uninstall_are_not_hooked(moto_endpoint):
    hooks = _hooks()
    with hooks.installed():
        pass
    _client("sqs", moto_endpoint).list_queues()
    assert hooks.take() == []
