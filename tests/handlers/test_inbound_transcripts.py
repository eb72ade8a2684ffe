"""Voice notes and audio files transcribed with Amazon Transcribe (the project's fake, in virtual time) and the
transcript placed in the burst at the recording's place, next to its WAV; or one line saying why there is none."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sandbox.media_samples import sample
from tests.fixtures.fakes import LambdaContext
from tests.handlers.test_inbound import World, make_burst
from whatsapp_buffer.adapters.end_user_messaging import EndUserMessaging
from whatsapp_buffer.adapters.media_bucket import MediaBucket
from whatsapp_buffer.adapters.raw_messages import message_item
from whatsapp_buffer.adapters.transcribe import TranscribeJobs
from whatsapp_buffer.entrypoints import inbound
from whatsapp_buffer.inbound.burst_transcripts import Transcripts, line_token
from whatsapp_buffer.inbound.customer_media import CustomerMedia
from whatsapp_buffer.inbound.prepare import Preparation
from whatsapp_buffer.model import InboundMessage, OutgoingItem
from whatsapp_buffer.storage_keys import job_name

VOICE = "audio/ogg; codecs=opus"
WORDS = "my order never arrived"
NOT_READY_LINE = "🔊 (no transcript: the recording not ready in time)"


def transcribing(languages=("en-US",), wait_seconds=10):
    """A World whose inbound function transcribes; its sleeps move the test's clock (and the fake's jobs) on."""

    def build(world):
        def sleep(seconds):
            world.now += seconds
            world.slept += seconds

        world.slept = 0.0
        return Transcripts(
            transcriber=TranscribeJobs("media-bucket", world.fake.transcribe_client),
            media=MediaBucket("media-bucket", world.s3),
            languages=languages,
            wait_seconds=wait_seconds,
            sleep=sleep,
        )

    return build


@pytest.fixture
def make_world():
    def build(echo_transcripts=False, **options):
        return World(transcripts=transcribing(**options), echo_transcripts=echo_transcripts)

    with mock_aws():
        yield build
    inbound.installed.reset()


def voice_burst(world, media_id="5550007", words=WORDS, ids=("wamid.a", "wamid.v", "wamid.b")):
    world.fake.services.register_media(media_id, sample("voice", VOICE), VOICE)
    world.fake.services.transcribe.transcript_for = lambda bucket, key: words
    return make_burst(
        [
            OutgoingItem(kind="text", message_ids=(ids[0],), text="hello"),
            OutgoingItem(kind="voice", message_ids=(ids[1],), content={"media_id": media_id, "mime_type": VOICE}),
            OutgoingItem(kind="text", message_ids=(ids[2],), text="thanks"),
        ]
    )


def chat(world):
    return [
        (i.upload_client_token or i.client_token, i.content or i.attachment_name)
        for i in world.fake.items(world.session().contact_id)
    ]


def test_a_voice_notes_transcript_stands_right_after_its_wav_between_the_texts_around_it(make_world):
    # GIVEN a stack transcribing en-US and a job that takes 4 s
    world = make_world()
    world.fake.services.transcribe.turnaround_seconds = 4
    burst = voice_burst(world)
    # WHEN the burst is delivered
    _, failed = world.deliver(burst)
    # THEN the agent reads the text, hears the WAV, reads its transcript in place, then the next text
    assert not failed
    assert chat(world) == [
        (burst.client_token(0), "hello"),
        (burst.client_token(1), "voice-2.wav"),
        (burst.client_token(1, "transcript"), f'🔊 "{WORDS}"'),
        (burst.client_token(2), "thanks"),
    ]
    # AND the job read the stored WAV in en-US and wrote its transcript into the media bucket
    (start,) = world.calls("StartTranscriptionJob")
    assert start["LanguageCode"] == "en-US" and start["MediaFormat"] == "wav"
    assert start["Media"]["MediaFileUri"].startswith("s3://media-bucket/inbound/") and start["Media"][
        "MediaFileUri"
    ].endswith(".wav")
    assert start["OutputBucketName"] == "media-bucket" and start["OutputKey"].startswith("transcripts/")
    # AND the burst waited only until the transcript was there
    assert world.slept == 4


def test_with_several_languages_transcribe_identifies_which_of_them_is_spoken(make_world):
    world = make_world(languages=("en-US", "es-US", "pt-BR"))
    world.deliver(voice_burst(world))
    (start,) = world.calls("StartTranscriptionJob")
    assert start["IdentifyLanguage"] is True and start["LanguageOptions"] == ["en-US", "es-US", "pt-BR"]
    assert "LanguageCode" not in start


def test_with_transcription_off_the_voice_note_arrives_as_wav_and_transcribe_is_never_called(make_world):
    world = make_world(languages=())
    burst = voice_burst(world)
    world.deliver(burst)
    assert [content for _, content in chat(world)] == ["hello", "voice-2.wav", "thanks"]
    assert world.calls("StartTranscriptionJob") == []


def test_a_transcript_not_ready_within_the_wait_is_a_line_saying_so_and_the_burst_is_delivered_on_time(make_world):
    # GIVEN a job slower than the 3 s the stack lets a burst wait
    world = make_world(wait_seconds=3)
    world.fake.services.transcribe.turnaround_seconds = 30
    burst = voice_burst(world)
    # WHEN the burst is delivered
    _, failed = world.deliver(burst)
    # THEN it waited 3 s, no more, and the transcript's place says it was not ready
    assert not failed and world.slept == 3
    assert chat(world)[1:3] == [
        (burst.client_token(1), "voice-2.wav"),
        (line_token(burst.client_token(1, "transcript"), NOT_READY_LINE, None), NOT_READY_LINE),
    ]


def test_a_failed_transcription_still_delivers_the_voice_note_with_a_line_saying_there_is_no_transcript(make_world):
    world = make_world()
    burst = voice_burst(world, words=None)  # the fake's job FAILS, as for media Transcribe cannot read
    _, failed = world.deliver(burst)
    assert not failed
    assert [content for _, content in chat(world)] == [
        "hello",
        "voice-2.wav",
        "🔊 (no transcript: the recording could not be transcribed)",
        "thanks",
    ]


def test_a_burst_retried_after_a_temporary_transcription_failure_never_posts_two_texts_under_one_token(make_world):
    # GIVEN Transcribe throttles the first start (the line says there is no transcript) and the burst's last text
    # cannot be posted on that first delivery
    world = make_world()
    world.fake.services.inject("transcribe:StartTranscriptionJob", "ThrottlingException", times=1)
    client = world.fake.participant_client
    send = client.send_message
    throttled = []

    def throttle_thanks_once(**request):
        if request.get("Content") == "thanks" and not throttled:
            throttled.append(request)
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "slow down"}, "ResponseMetadata": {}},
                "SendMessage",
            )
        return send(**request)

    client.send_message = throttle_thanks_once
    _, failed = world.deliver(voice_burst(world))
    assert failed and throttled
    # WHEN the queue delivers the burst again and the transcript is there by now
    _, failed = world.retry()
    # THEN each ClientToken carried one text on every call, whatever the second delivery knew better
    assert not failed
    texts: dict[str, set[str]] = {}
    for call in world.calls("SendMessage"):
        texts.setdefault(call["ClientToken"], set()).add(call["Content"])
    assert all(len(contents) == 1 for contents in texts.values()), texts
    assert f'🔊 "{WORDS}"' in [content for _, content in chat(world)]


def test_a_refused_transcription_job_still_delivers_the_voice_note_with_a_line_saying_there_is_no_transcript(
    make_world,
):
    world = make_world()
    world.fake.services.inject("transcribe:StartTranscriptionJob", "BadRequestException")
    _, failed = world.deliver(voice_burst(world))
    assert not failed
    assert [content for _, content in chat(world)][1:3] == [
        "voice-2.wav",
        "🔊 (no transcript: the recording could not be transcribed)",
    ]
    assert world.calls("GetTranscriptionJob") == []


def test_a_redelivered_voice_note_is_transcribed_once_and_its_transcript_read_again(make_world):
    # GIVEN a voice note delivered in one burst, then the same WhatsApp media again in a later burst
    world = make_world()
    first = voice_burst(world)
    world.deliver(first)
    again = voice_burst(world, ids=("wamid.c", "wamid.v2", "wamid.d"))
    # WHEN the second burst is delivered
    _, failed = world.deliver(again)
    # THEN Transcribe ran one job for the recording (the second start was ConflictException) ...
    assert not failed
    assert list(world.fake.services.transcribe.jobs) == [job_name("media-bucket", "5550007")]
    assert len(world.calls("StartTranscriptionJob")) == 2
    # ... and both bursts show the transcript in place
    contents = [content for _, content in chat(world)]
    assert contents.count(f'🔊 "{WORDS}"') == 2


# ---------------------------------------------------------------- early preparation, from the raw table's stream


def stream_event(world, burst):
    """The raw table's stream as Lambda hands it to the inbound function: one INSERT per message of the burst, as
    ingest stored them (NEW_IMAGE)."""
    records = []
    for item in burst.items:
        message = InboundMessage(
            message_id=item.message_ids[0],
            conversation=burst.conversation,
            kind=item.kind,
            sent_at=world.now,
            content=dict(item.content) if item.kind != "text" else {"text": item.text},
            origination_phone_number_id=burst.origination_phone_number_id,
            received_at=world.now,
        )
        records.append(
            {
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "dynamodb": {"NewImage": message_item(message, world.now, 24)},
            }
        )
    return {"Records": records}


def prepare(world, event):
    """What the inbound function does with a stream batch (built as `bootstrap.inbound` builds it on this stack)."""
    whatsapp = EndUserMessaging("v20.0", world.fake.social_client)
    media = MediaBucket("media-bucket", world.s3)
    transcripts = transcribing()(world)
    preparation = Preparation(
        media=CustomerMedia(whatsapp=whatsapp, media=media, participant=None), transcripts=transcripts
    )
    world.install(preparation)
    return inbound.handler(event, LambdaContext())


def test_a_voice_note_prepared_when_stored_is_transcribed_by_the_time_its_burst_flushes_and_fetched_once(make_world):
    # GIVEN a job that takes 10 s and a voice note the stream hands over as soon as ingest stores it
    world = make_world()
    world.fake.services.transcribe.turnaround_seconds = 10
    burst = voice_burst(world)
    assert prepare(world, stream_event(world, burst)) == {"prepared": 1}
    # WHEN the customer has been quiet for bufferSeconds (20 s) and the burst flushes
    world.now += 20
    world.slept = 0.0
    _, failed = world.deliver(burst)
    # THEN the transcript is in place without waiting
    assert not failed and world.slept == 0
    assert [content for _, content in chat(world)] == ["hello", "voice-2.wav", f'🔊 "{WORDS}"', "thanks"]
    # AND the recording was copied from WhatsApp and converted once, at its prepared key, then reused
    copies = [c for c in world.calls("GetWhatsAppMessageMedia") if "destinationS3PresignedUrl" in c]
    assert len(copies) == 1 and "/prepared/5550007" in copies[0]["destinationS3PresignedUrl"]["url"]
    (attachment,) = [i for i in world.fake.items(world.session().contact_id) if i.kind == "attachment"]
    assert world.fake.services.attachment_data(attachment.attachment_id)[:4] == b"RIFF"
    assert len(world.fake.services.transcribe.jobs) == 1


def test_a_preparation_that_fails_leaves_the_flush_to_fetch_convert_and_transcribe_the_recording(make_world):
    # GIVEN End User Messaging refusing the early copy once
    world = make_world()
    world.fake.services.transcribe.turnaround_seconds = 4
    burst = voice_burst(world)
    world.fake.services.inject("GetWhatsAppMessageMedia", "ValidationException", times=1)
    # WHEN the stream batch is prepared, then the burst flushes
    assert prepare(world, stream_event(world, burst)) == {"prepared": 0}
    world.now += 20
    _, failed = world.deliver(burst)
    # THEN the voice note and its transcript still arrive, in place
    assert not failed
    assert [content for _, content in chat(world)] == ["hello", "voice-2.wav", f'🔊 "{WORDS}"', "thanks"]


def test_a_stream_batch_prepares_only_voice_notes_and_audio_and_a_repeat_starts_nothing_new(make_world):
    world = make_world()
    burst = voice_burst(world)
    event = stream_event(world, burst)
    assert prepare(world, event) == {"prepared": 1}
    assert prepare(world, event) == {"prepared": 1}  # Lambda retried the batch: same WAV key, same job
    assert len(world.fake.services.transcribe.jobs) == 1
    copies = [c for c in world.calls("GetWhatsAppMessageMedia") if "destinationS3PresignedUrl" in c]
    assert len(copies) == 1


# ---------------------------------------------------------------- echoTranscripts


def test_with_echo_on_the_customer_gets_the_transcript_back_as_a_reply_to_their_voice_note(make_world):
    """The AWS sample: `message.text_reply(f"🔊_{message.transcription}_")`, a text with `context.message_id` of the
    voice note and `preview_url` False."""
    world = make_world(echo_transcripts=True)
    burst = voice_burst(world)
    world.deliver(burst)
    (echo,) = world.fake.whatsapp_sent()
    assert echo["type"] == "text" and echo["text"] == {"body": f"🔊_{WORDS}_", "preview_url": False}
    assert echo["context"] == {"message_id": "wamid.v"} and echo["to"] == burst.conversation.customer


def test_with_echo_on_a_recording_without_a_transcript_sends_nothing_back(make_world):
    world = make_world(echo_transcripts=True)
    world.deliver(voice_burst(world, words=None))
    assert world.fake.whatsapp_sent() == []


def test_with_echo_off_nothing_goes_back_to_the_customer(make_world):
    world = make_world()
    world.deliver(voice_burst(world))
    assert world.fake.whatsapp_sent() == []


def test_a_refused_echo_does_not_fail_the_delivered_burst(make_world):
    world = make_world(echo_transcripts=True)
    world.fake.services.inject("SendWhatsAppMessage", "ValidationException")
    burst = voice_burst(world)
    _, failed = world.deliver(burst)
    assert not failed and len(world.fake.items(world.session().contact_id)) == 4
