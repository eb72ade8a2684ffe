"""A transcript object that is not there when the inbound function reads it (the bucket's lifecycle rule removed it,
or Transcribe wrote it elsewhere), as S3 answers the inbound role, which may list only `inbound/` and `prepared/`:
403 AccessDenied, not 404 (the sandbox's sandbox.s3_missing_objects, applied by its worker hooks)."""

from __future__ import annotations

import boto3
import botocore.session
import pytest
from moto import mock_aws

from sandbox.iam_check import RolePolicy
from sandbox.s3_missing_objects import ListingRole
from sandbox.sdk_events import SdkHooks, WorkerFaults
from tests.fixtures.fakes import NO_RETRIES
from tests.handlers.test_inbound import World
from tests.handlers.test_inbound_transcripts import chat, voice_burst
from whatsapp_buffer.adapters.media_bucket import MediaBucket
from whatsapp_buffer.adapters.transcribe import TranscribeJobs
from whatsapp_buffer.entrypoints import inbound
from whatsapp_buffer.inbound.burst_transcripts import Transcripts
from whatsapp_buffer.storage_keys import INBOUND_PREFIX, PREPARED_PREFIX, TRANSCRIPTS_PREFIX

BUCKET = "media-bucket"
INBOUND_ROLE = ListingRole(
    RolePolicy(
        "inbound-role",
        [
            {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": [f"arn:aws:s3:::{BUCKET}/*"]},
            {
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{BUCKET}"],
                "Condition": {"StringLike": {"s3:prefix": [f"{INBOUND_PREFIX}*", f"{PREPARED_PREFIX}*"]}},
            },
        ],
    )
)
"""The inbound role's S3 statements as chat_policies declares them on a stack that transcribes (StageMedia,
FindMediaCopiedUnderAPrefix): objects read anywhere in the bucket, listed under the media prefixes only."""


@pytest.fixture
def world():
    with mock_aws():
        hooks = SdkHooks(WorkerFaults([], "test"), role=INBOUND_ROLE)
        with hooks.installed():
            # A session made after the hooks: its S3 answers are the ones the inbound role gets.
            s3 = boto3.session.Session().client("s3", region_name="us-east-1", config=NO_RETRIES)

            def transcribing(world):
                return Transcripts(
                    transcriber=TranscribeJobs(BUCKET, world.fake.transcribe_client),
                    media=MediaBucket(BUCKET, s3),
                    languages=("en-US",),
                    wait_seconds=10,
                    sleep=lambda seconds: setattr(world, "now", world.now + seconds),
                )

            built = World(transcripts=transcribing)
            built.role_s3 = s3
            yield built
    inbound.installed.reset()


def transcripts_removed_before_read(world):
    """Each transcript object removed right before the inbound function reads it."""

    def remove(params, **_):
        if params["Key"].startswith(TRANSCRIPTS_PREFIX):
            world.s3.delete_object(Bucket=params["Bucket"], Key=params["Key"])

    world.role_s3.meta.events.register("provide-client-params.s3.GetObject", remove)


def test_a_transcript_gone_before_it_is_read_is_a_line_saying_so_and_the_burst_is_delivered(world):
    """botocore s3 GetObject: "If you don’t have the s3:ListBucket permission, Amazon S3 returns an HTTP status code
    403 Forbidden error", the S3 error code list: "AccessDenied | Access Denied | 403 Forbidden"."""
    doc = str(botocore.session.get_session().get_service_model("s3").operation_model("GetObject").documentation)
    assert "If you don’t have the <code>s3:ListBucket</code> permission, Amazon S3 returns an HTTP status code" in doc
    # GIVEN a voice note whose transcript object is gone when the inbound function reads it
    burst = voice_burst(world)
    transcripts_removed_before_read(world)
    # WHEN its burst is delivered
    _, failed = world.deliver(burst)
    # THEN it is delivered, with the line saying there is no transcript in the transcript's place
    assert not failed
    assert [content for _, content in chat(world)] == [
        "hello",
        "voice-2.wav",
        "🔊 (no transcript: the recording could not be transcribed)",
        "thanks",
    ]
