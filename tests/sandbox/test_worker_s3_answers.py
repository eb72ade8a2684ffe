"""A function's worker gets S3's answer for its role when it reads a missing object (sandbox.s3_missing_objects: 403
unless the role may list the bucket, where moto alone answers 404), and the replay gives each worker its role."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from sandbox.delivery import functions
from sandbox.delivery.scheduler import VirtualClock
from sandbox.faults import FaultPlan
from sandbox.iam_check import Account, RolePolicy
from sandbox.lambdas import FunctionProcess
from sandbox.s3_missing_objects import ListingRole

NOW = 1_750_000_000.0


def _bucket(moto_endpoint: str) -> str:
    """A bucket on the moto server holding `there`."""
    name = f"media-{uuid.uuid4().hex[:12]}"
    s3 = boto3.session.Session().client(
        "s3", endpoint_url=moto_endpoint, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="there", Body=b"x")
    return name


def _worker(moto_endpoint: str, bucket: str, *actions: str) -> Iterator[FunctionProcess]:
    """A warm worker of the `s3_reader` handler whose role allows `actions` on the bucket and its objects."""
    statements = [
        {"Effect": "Allow", "Action": list(actions), "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}
    ]
    worker = FunctionProcess(
        function_name="reader",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:reader",
        handler="tests.fixtures.s3_reader.handler",
        env={
            "AWS_ENDPOINT_URL": moto_endpoint,
            "AWS_ACCESS_KEY_ID": "sandbox",
            "AWS_SECRET_ACCESS_KEY": "sandbox",
            "AWS_SESSION_TOKEN": "sandbox",
            "AWS_SECURITY_TOKEN": "sandbox",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
        memory_mb=128,
        timeout_s=30,
        role=ListingRole(RolePolicy("reader-role", statements)),
    )
    worker.start(NOW)
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


def _read(worker: FunctionProcess, bucket: str, operation: str, key: str) -> tuple[int, str | None]:
    invocation = worker.invoke({"operation": operation, "bucket": bucket, "key": key}, NOW)
    assert invocation.ok, invocation.error_message
    return invocation.result["status"], invocation.result["code"]


@pytest.fixture
def bucket(moto_endpoint: str) -> str:
    return _bucket(moto_endpoint)


def test_a_worker_whose_role_may_not_list_is_refused_a_missing_object_and_reads_an_existing_one(moto_endpoint, bucket):
    """botocore s3 GetObject/HeadObject: "If you don’t have the s3:ListBucket permission, Amazon S3 returns an HTTP
    status code 403" (HeadObject's answer has no body: botocore names it "403"); an existing object needs s3:GetObject
    only."""
    for worker in _worker(moto_endpoint, bucket, "s3:GetObject"):
        assert _read(worker, bucket, "get_object", "missing") == (403, "AccessDenied")
        assert _read(worker, bucket, "head_object", "missing") == (403, "403")
        assert _read(worker, bucket, "get_object", "there") == (200, None)
        assert _read(worker, bucket, "head_object", "there") == (200, None)


def test_a_worker_whose_role_may_list_the_bucket_is_told_the_object_is_missing(moto_endpoint, bucket):
    """botocore s3 GetObject/HeadObject: "If you have the s3:ListBucket permission on the bucket, Amazon S3 returns an
    HTTP status code 404 Not Found error"."""
    for worker in _worker(moto_endpoint, bucket, "s3:GetObject", "s3:ListBucket"):
        assert _read(worker, bucket, "get_object", "missing") == (404, "NoSuchKey")
        assert _read(worker, bucket, "head_object", "missing") == (404, "404")


def test_the_replay_starts_each_worker_with_its_function_s_role(monkeypatch):
    started: list[dict[str, Any]] = []

    class Recorded:
        def __init__(self, **kwargs: Any) -> None:
            started.append(kwargs)
            self.init_calls: list[Any] = []
            self.init_output: list[str] = []

        def start(self, now: float) -> None: ...

        def wait_ready(self) -> None: ...

    monkeypatch.setattr(functions, "FunctionProcess", Recorded)
    policy = RolePolicy("inbound-role", [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}])
    spec = SimpleNamespace(
        key="inbound", name="inbound", arn="arn", handler="h", env={}, memory_mb=128, timeout_s=30, policy=policy
    )
    wiring = SimpleNamespace(functions={"inbound": spec}, account=Account("us-east-1", "123456789012", "aws-cn"))
    roles = SimpleNamespace(calls=lambda key, calls: None)
    functions.Functions(wiring, VirtualClock(NOW), roles, FaultPlan(), endpoints={}).start()
    assert [kwargs["role"] for kwargs in started] == [ListingRole(policy, "aws-cn")]
