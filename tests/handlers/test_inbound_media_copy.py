"""A customer's file copied from WhatsApp when the pre-signed URL would be longer than GetWhatsAppMessageMedia takes
(a long session token in the function's credentials): under its own key prefix (`destinationS3File`), then found by
listing that prefix, in the same world as test_inbound (moto S3, the project's one fake of End User Messaging)."""

from __future__ import annotations

import pytest
from moto import mock_aws

from sandbox.media_samples import sample
from tests.handlers.test_inbound import World, make_burst
from tests.handlers.test_inbound_transcripts import chat, prepare, stream_event, transcribing, voice_burst
from whatsapp_buffer.adapters.media_bucket import MediaBucket
from whatsapp_buffer.entrypoints import inbound
from whatsapp_buffer.model import OutgoingItem
from whatsapp_buffer.storage_keys import copy_prefix, inbound_key

LONG_SESSION_TOKEN = "IQoJb3JpZ2luX2VjE" + "A" * 1883
"""1,900 characters: with it even the short key of a prepared recording makes a pre-signed URL over the model's 2,000
(tests/adapters/test_media_bucket.py)."""


@pytest.fixture
def world(monkeypatch):
    """The inbound function's credentials carry a long session token (its S3 client is built with them)."""
    for name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):  # botocore reads either (tests/conftest.py sets both)
        monkeypatch.setenv(name, LONG_SESSION_TOKEN)
    with mock_aws():
        yield World()
    inbound.installed.reset()


def keys(world):
    return sorted(o["Key"] for o in world.s3.list_objects_v2(Bucket="media-bucket").get("Contents", []))


def jpeg_burst(world):
    world.fake.services.register_media("5550001", b"\xff\xd8jpeg", "image/jpeg")
    content = {"media_id": "5550001", "mime_type": "image/jpeg"}
    return make_burst([OutgoingItem(kind="image", message_ids=("wamid.m",), content=content)])


def test_a_file_whose_presigned_url_is_too_long_is_copied_under_its_own_prefix_and_attached(world):
    # GIVEN a JPEG, and a pre-signed URL for its key that would be over 2,000 characters
    burst = jpeg_burst(world)
    key = inbound_key(burst.burst_id, 0, "5550001")
    assert len(MediaBucket("media-bucket", world.s3).upload_url(key)) > 2000
    # WHEN the burst is delivered
    _, failed = world.deliver(burst)
    # THEN End User Messaging copied it under the file's own prefix, and the agent got it
    assert not failed
    info, fetch = world.calls("GetWhatsAppMessageMedia")
    assert info["metadataOnly"] is True
    assert "destinationS3PresignedUrl" not in fetch
    assert fetch["destinationS3File"] == {"bucketName": "media-bucket", "key": copy_prefix(key)}
    assert keys(world) == [f"{key}/5550001.jpeg"]
    (attachment,) = world.fake.items(world.session().contact_id)
    assert (attachment.attachment_name, attachment.content_type) == ("image-1.jpg", "image/jpeg")
    assert world.fake.services.attachment_data(attachment.attachment_id) == b"\xff\xd8jpeg"


def test_a_voice_note_copied_under_a_prefix_is_converted_to_the_usual_key_outside_that_prefix(world):
    # GIVEN a real voice note whose pre-signed URL would be too long
    world.fake.services.register_media("5550002", sample("voice", "audio/ogg"), "audio/ogg; codecs=opus")
    content = {"media_id": "5550002", "mime_type": "audio/ogg; codecs=opus"}
    burst = make_burst([OutgoingItem(kind="voice", message_ids=("wamid.v",), content=content)])
    key = inbound_key(burst.burst_id, 0, "5550002")
    # WHEN it is delivered
    _, failed = world.deliver(burst)
    # THEN the WAV is where it always is, so a redelivery's listing still finds the one original under the prefix
    assert not failed
    assert keys(world) == [f"{key}.wav", f"{key}/5550002.ogg"]
    (attachment,) = world.fake.items(world.session().contact_id)
    assert (attachment.attachment_name, attachment.content_type) == ("voice-1.wav", "audio/wav")


def test_a_second_object_under_the_prefix_is_refused_and_the_agent_gets_a_line_instead(world, caplog):
    # GIVEN another object already under the file's prefix (say End User Messaging once named it differently)
    burst = jpeg_burst(world)
    prefix = copy_prefix(inbound_key(burst.burst_id, 0, "5550001"))
    world.s3.put_object(Bucket="media-bucket", Key=f"{prefix}5550001.jpg", Body=b"older")
    # WHEN the burst is delivered
    _, failed = world.deliver(burst)
    # THEN which object is the file cannot be told: nothing is attached, a line names the file, the burst goes on
    assert not failed
    assert keys(world) == [f"{prefix}5550001.jpeg", f"{prefix}5550001.jpg"]
    (line,) = world.fake.items(world.session().contact_id)
    assert line.kind == "text" and "image-1.jpg" in line.content
    # AND the log says why, naming the prefix and what is under it
    (refusal,) = [r for r in caplog.records if r.getMessage() == "media copy not found"]
    assert refusal.levelname == "ERROR"
    assert refusal.error == (
        f"expected exactly one object under s3://media-bucket/{prefix}, found more than one: "
        f"{prefix}5550001.jpeg, {prefix}5550001.jpg"
    )


def test_a_voice_note_prepared_early_is_copied_under_its_prepared_prefix_and_its_wav_reused(monkeypatch):
    """The early preparation of a stack that transcribes copies the same way, under `prepared/<media id>/`."""
    for name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.setenv(name, LONG_SESSION_TOKEN)
    with mock_aws():
        # GIVEN a transcribing stack whose voice note is handed over by the stream as soon as it is stored
        world = World(transcripts=transcribing())
        burst = voice_burst(world)
        # WHEN it is prepared, then its burst flushes
        assert prepare(world, stream_event(world, burst)) == {"prepared": 1}
        world.now += 20
        _, failed = world.deliver(burst)
        # THEN the recording was copied once, under its prepared prefix, converted beside it, and that WAV attached
        assert not failed
        (copy,) = [c for c in world.calls("GetWhatsAppMessageMedia") if not c.get("metadataOnly")]
        assert copy["destinationS3File"] == {"bucketName": "media-bucket", "key": "prepared/5550007/"}
        assert keys(world) == [
            "prepared/5550007.wav",
            "prepared/5550007/5550007.ogg",
            "transcripts/media-bucket-5550007.json",
        ]
        assert "voice-2.wav" in [content for _, content in chat(world)]
    inbound.installed.reset()
