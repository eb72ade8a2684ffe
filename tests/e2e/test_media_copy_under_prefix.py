"""The customer's files reach the agent when the inbound function's pre-signed URLs are too long for
GetWhatsAppMessageMedia: the whole pipeline, with the functions' credentials carrying a long session token.

Why a token and not a smaller limit: the token is what makes the URL long in AWS (Lambda's temporary credentials;
STS does not fix their length), and every piece then runs as deployed — the runtime compares the URL it really signed
with the model's 2,000, the fake refuses a longer one as End User Messaging does, writes a `destinationS3File` copy
where the AWS sample reads it, and the IAM check admits the ListObjectsV2 (`s3:ListBucket` on the media bucket)."""

from __future__ import annotations

import json

import pytest

from sandbox import trace
from sandbox.pipeline import local_client
from sandbox.replay import Replay
from tests.e2e.conftest import MEDIA_KINDS_ATTACHMENTS, TRACES
from whatsapp_buffer.environment import InboundSettings

LONG_SESSION_TOKEN = "IQoJb3JpZ2luX2VjE" + "A" * 1783
"""1,800 characters: every pre-signed URL of the sandbox is then over 2,000 (tests/adapters/test_media_bucket.py)."""


@pytest.fixture(scope="module")
def replay_with_long_token():
    listing: list[str] = []

    def list_media(rep: Replay) -> None:
        assert rep.services is not None and rep.wiring is not None
        bucket = InboundSettings.from_env(rep.wiring.functions["inbound"].env).media_bucket_name
        s3 = local_client("s3", rep.services.moto_url, rep.wiring.account.region)
        listing.extend(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))

    rep = Replay(
        trace.read_trace(TRACES / "media_kinds.jsonl"),
        overrides={"chatDurationMinutes": "10080", "ignoreStickers": "false"},
        session_token=LONG_SESSION_TOKEN,
        on_drained=list_media,
    )
    return rep.run(), rep, listing


def test_with_a_long_session_token_every_file_still_reaches_the_agent(replay_with_long_token):
    transcript, _, _ = replay_with_long_token
    attachments = [(m["name"], m["content_type"]) for m in transcript["connect"] if m["kind"] == "attachment"]
    # the same attachments as with short URLs (test_media_and_service_rules.py)
    assert attachments == MEDIA_KINDS_ATTACHMENTS


def test_each_file_was_copied_under_its_own_prefix_and_each_conversion_stored_beside_it(replay_with_long_token):
    _, rep, listing = replay_with_long_token
    originals = [key for key in listing if key.startswith("inbound/") and key.count("/") == 3]
    converted = [key for key in listing if key.startswith("inbound/") and key.count("/") == 2]
    # inbound/<burst>/<i>-<media id>/<media id>.<subtype>: End User Messaging's name under the file's own prefix
    assert len(originals) == 7
    for key in originals:
        prefix, name = key.rsplit("/", 1)
        assert name.split(".", 1)[0] == prefix.rsplit("-", 1)[1]
    # the converted files at inbound/<burst>/<i>-<media id><ext>, outside every prefix
    assert sorted(key.rsplit(".", 1)[1] for key in converted) == ["mp4", "png", "wav", "wav"]
    copied = [json.loads(line) for line in rep.pipeline.logs["inbound"] if "media copied under a key prefix" in line]
    assert len(copied) == 7 and all(entry["url_length"] > 2000 for entry in copied)
    assert not [line for line in rep.pipeline.logs["inbound"] if "media copy not found" in line]
