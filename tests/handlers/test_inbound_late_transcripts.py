"""A transcript that finishes after its burst was delivered: owed to the chat, posted there once, after the recording.

The completion reaches the inbound function as Transcribe's EventBridge event. Amazon Transcribe developer guide,
"Using Amazon EventBridge with Amazon Transcribe": "When a transcription job changes state, EventBridge automatically
sends an event to an event stream"; the rule example `{"source": ["aws.transcribe"], "detail-type": ["Transcribe Job
State Change"], "detail": {"TranscriptionJobStatus": ["COMPLETED", "FAILED"]}}`; the event's `detail` carries
`TranscriptionJobName` and `TranscriptionJobStatus` (the fake's `state_change_event`). EventBridge delivers to a
Lambda target asynchronously and at least once, so every test here decides the races with the sessions table's
conditional writes, never with timing.
"""

from __future__ import annotations

import pytest
from moto import mock_aws

from tests.fixtures.fakes import LambdaContext
from tests.handlers.test_inbound import MARIA, World, text_burst
from tests.handlers.test_inbound_transcripts import WORDS, chat, transcribing, voice_burst
from whatsapp_buffer.adapters.end_user_messaging import EndUserMessaging
from whatsapp_buffer.adapters.transcript_debts import TranscriptDebtItems
from whatsapp_buffer.entrypoints import inbound
from whatsapp_buffer.errors import TranscriptClaimedElsewhere
from whatsapp_buffer.inbound.burst_transcripts import line_token
from whatsapp_buffer.inbound.late_transcripts import GIVE_UP_SECONDS, SWEEP_AFTER_SECONDS, LateTranscripts
from whatsapp_buffer.settings import TRANSCRIPTS_SWEEP_EVENT
from whatsapp_buffer.storage_keys import job_name, job_prefix

PENDING = "🔊 (the transcript of voice-2.wav is not ready yet; it follows in this chat)"
LATE = f'🔊 voice-2.wav: "{WORDS}"'


def late(world, echo_transcripts=False):
    return LateTranscripts(
        debts=TranscriptDebtItems("sessions", world.dynamodb),
        sessions=world.sessions,
        participant=world.participant,
        transcripts=world.transcripts,
        job_prefix=job_prefix("media-bucket"),
        whatsapp=EndUserMessaging("v20.0", world.fake.social_client),
        echo_transcripts=echo_transcripts,
        now=lambda: world.now,
    )


@pytest.fixture
def make_world():
    def build(wait_seconds=3, turnaround=30, echo_transcripts=False):
        world = World(
            transcripts=transcribing(wait_seconds=wait_seconds),
            echo_transcripts=echo_transcripts,
            late_transcripts=lambda w: late(w, echo_transcripts),
        )
        world.fake.services.transcribe.turnaround_seconds = turnaround
        return world

    with mock_aws():
        yield build
    inbound.installed.reset()


def finish(world, seconds):
    """`seconds` pass; each job that finished meanwhile emits its state change event (what EventBridge delivers)."""
    world.now += seconds
    return world.fake.services.transcribe.events_due(world.now)


def invoke(event):
    return inbound.handler(event, LambdaContext())


def debt_state(world, media_id="5550007"):
    debt = TranscriptDebtItems("sessions", world.dynamodb).get(job_name("media-bucket", media_id))
    return debt.state if debt else None


def test_a_transcript_that_finishes_after_the_flush_is_posted_once_after_its_voice_note_naming_it(make_world):
    # GIVEN a job slower than the burst may wait: the burst goes out saying the transcript follows
    world = make_world(wait_seconds=3, turnaround=30)
    burst = voice_burst(world)
    _, failed = world.deliver(burst)
    assert not failed
    assert chat(world) == [
        (burst.client_token(0), "hello"),
        (burst.client_token(1), "voice-2.wav"),
        (burst.client_token(1, "transcript-pending"), PENDING),
        (burst.client_token(2), "thanks"),
    ]
    # AND the customer writes again before the job is done
    later = text_burst("are you there?")
    world.deliver(later)
    # WHEN the job finishes and its completion event reaches the inbound function
    (event,) = finish(world, 30)
    assert invoke(event) == {"outcome": "posted"}
    # THEN the transcript follows everything already in the chat, once, naming the recording it belongs to
    assert chat(world)[-2:] == [
        (later.client_token(0), "are you there?"),
        (burst.client_token(1, "late-transcript"), LATE),
    ]
    assert debt_state(world) == "paid"


def test_a_completion_event_delivered_twice_posts_the_transcript_once(make_world):
    world = make_world()
    world.deliver(voice_burst(world))
    (event,) = finish(world, 30)
    assert invoke(event) == {"outcome": "posted"}
    # WHEN EventBridge delivers the same event again (at least once)
    assert invoke(event) == {"outcome": "not owed"}
    # THEN the chat shows the transcript once
    assert [content for _, content in chat(world)].count(LATE) == 1


def test_a_job_that_completes_while_the_flush_decides_is_posted_by_the_flush_once_and_after_the_burst(make_world):
    # GIVEN a job that finishes while the burst is being sent, its event handled before the flush records the debt
    world = make_world(wait_seconds=3, turnaround=30)
    burst = voice_burst(world)
    outcomes = []

    def completes_mid_send(call):
        if call.operation == "SendMessage" and call.params.get("Content") == PENDING and not outcomes:
            for event in finish(world, 30):
                outcomes.append(world.late.on_event(event))

    world.fake.services.on_call(completes_mid_send)
    # WHEN the burst is delivered
    _, failed = world.deliver(burst)
    # THEN the early event found nothing owed, and the flush's last look after recording the debt posted it
    assert not failed and outcomes == [{"outcome": "not owed"}]
    assert chat(world)[-2:] == [(burst.client_token(2), "thanks"), (burst.client_token(1, "late-transcript"), LATE)]
    assert debt_state(world) == "paid"
    # AND the job's event, if it comes again, posts nothing more
    assert world.late.settle(job_name("media-bucket", "5550007")) == "not owed"
    assert [content for _, content in chat(world)].count(LATE) == 1


def test_a_burst_redelivered_after_its_debt_was_recorded_keeps_its_line_and_posts_the_transcript_once(make_world):
    # GIVEN a burst delivered without its transcript (the debt recorded), then forgotten by the idempotency store
    # (the first invocation timed out after delivering, so SQS hands the burst over again)
    world = make_world(wait_seconds=3, turnaround=30)
    burst = voice_burst(world)
    world.deliver(burst)
    for item in world.dynamodb.scan(TableName="idempotency")["Items"]:
        world.dynamodb.delete_item(TableName="idempotency", Key={"id": item["id"]})
    finish(world, 30)  # the job is done, its event not delivered yet
    # WHEN the burst is delivered again
    _, failed = world.deliver(burst)
    # THEN the transcript is not put in place (its place already says it follows); it is posted once, after
    assert not failed
    assert chat(world) == [
        (burst.client_token(0), "hello"),
        (burst.client_token(1), "voice-2.wav"),
        (burst.client_token(1, "transcript-pending"), PENDING),
        (burst.client_token(2), "thanks"),
        (burst.client_token(1, "late-transcript"), LATE),
    ]
    assert list(world.fake.services.transcribe.jobs) == [job_name("media-bucket", "5550007")]


def test_a_completion_for_a_transcript_already_placed_in_its_burst_posts_nothing(make_world):
    # GIVEN a job done within the wait: its transcript stands in the burst
    world = make_world(wait_seconds=10, turnaround=4)
    burst = voice_burst(world)
    world.deliver(burst)
    shown = chat(world)
    assert (burst.client_token(1, "transcript"), f'🔊 "{WORDS}"') in shown
    # WHEN its completion event arrives
    (event,) = finish(world, 1)
    # THEN nobody owes it, and the chat is unchanged
    assert invoke(event) == {"outcome": "not owed"}
    assert chat(world) == shown


def test_a_job_that_fails_after_the_flush_posts_the_line_saying_there_is_no_transcript(make_world):
    world = make_world()
    burst = voice_burst(world, words=None)
    world.deliver(burst)
    (event,) = finish(world, 30)
    assert event["detail"]["TranscriptionJobStatus"] == "FAILED"
    assert invoke(event) == {"outcome": "posted"}
    line = "🔊 voice-2.wav: (no transcript: the recording could not be transcribed)"
    assert chat(world)[-1] == (line_token(burst.client_token(1, "late-transcript"), line, None), line)


def test_a_transcript_finishing_after_its_chat_ended_is_not_posted_and_the_debt_is_settled(make_world):
    world = make_world()
    world.deliver(voice_burst(world))
    contact = world.session().contact_id
    world.fake.services.end_chat(contact)
    world.sessions.end(MARIA.key, contact, world.now)
    (event,) = finish(world, 30)
    assert invoke(event) == {"outcome": "chat ended"}
    assert LATE not in [content for _, content in chat(world)]
    assert debt_state(world) == "paid"


def test_renewing_the_connection_to_post_a_late_transcript_keeps_the_customers_newer_message(make_world):
    # GIVEN a transcript owed to a chat whose connection token no longer works when the transcript is posted
    world = make_world(wait_seconds=3, turnaround=30)
    world.deliver(voice_burst(world))
    contact_id = world.session().contact_id
    world.fake.services.inject("SendMessage", "AccessDeniedException", times=1)
    newer = []

    def the_customer_writes_meanwhile(call):
        # After the late transcript read the session, a burst records the customer's newer message (another queue).
        if call.operation == "CreateParticipantConnection" and not newer:
            newer.append(world.sessions.customer_wrote(MARIA.key, contact_id, world.now, "wamid.newer"))

    world.fake.services.on_call(the_customer_writes_meanwhile)
    # WHEN the completion event posts the transcript on a renewed connection
    (event,) = finish(world, 30)
    assert invoke(event) == {"outcome": "posted"}
    # THEN the session still knows the customer's newer message (the 24-hour window counts from it)
    assert newer == [True]
    session = world.session()
    assert (session.customer_wrote_at, session.last_customer_message_id) == (world.now, "wamid.newer")
    assert session.contact_id == contact_id and [content for _, content in chat(world)].count(LATE) == 1


def test_a_completion_of_another_stacks_job_is_ignored(make_world):
    world = make_world()
    event = {
        "source": "aws.transcribe",
        "detail-type": "Transcribe Job State Change",
        "detail": {"TranscriptionJobName": "other-bucket-5550007", "TranscriptionJobStatus": "COMPLETED"},
    }
    assert invoke(event) == {"outcome": "not ours"}
    assert world.calls("GetTranscriptionJob") == []


def test_a_claimant_that_died_before_posting_is_taken_over_by_the_events_retry(make_world):
    # GIVEN a debt whose claimant died between claiming it and posting (no release, no payment)
    world = make_world()
    burst = voice_burst(world)
    world.deliver(burst)
    (event,) = finish(world, 30)
    job = job_name("media-bucket", "5550007")
    assert TranscriptDebtItems("sessions", world.dynamodb).claim(job, world.now, 120) is not None
    # WHEN the completion event comes: the invoke fails, so Lambda retries it
    with pytest.raises(TranscriptClaimedElsewhere):
        invoke(event)
    # THEN the retries 1 and 2 minutes later: the second outlasts the dead claim's lease and posts, once
    world.now += 60
    with pytest.raises(TranscriptClaimedElsewhere):
        invoke(event)
    world.now += 120
    assert invoke(event) == {"outcome": "posted"}
    assert [content for _, content in chat(world)].count(LATE) == 1


# The fallback. EventBridge events reference, "Amazon Transcribe events": "Transcribe Job State Change ... Delivery
# type: Best effort". So every minute a schedule invokes the inbound function with TRANSCRIPTS_SWEEP_EVENT, and the
# debts still open SWEEP_AFTER_SECONDS after they were recorded are settled through the event's own path.


def sweep():
    return invoke(dict(TRANSCRIPTS_SWEEP_EVENT))


def test_a_transcript_whose_completion_event_never_comes_is_posted_once_by_the_sweep(make_world):
    # GIVEN a burst delivered without its transcript, and a job that finishes but whose event is lost
    world = make_world(wait_seconds=3, turnaround=30)
    burst = voice_burst(world)
    world.deliver(burst)
    (event,) = finish(world, 30)  # ... and never delivered
    # WHEN the sweep runs before the event's grace is over, nothing is settled: the event may still come
    assert sweep() == {"settled": 0, "failed": 0}
    assert LATE not in [content for _, content in chat(world)]
    # AND once the debt is older than SWEEP_AFTER_SECONDS, the sweep posts it
    world.now += SWEEP_AFTER_SECONDS
    assert sweep() == {"settled": 1, "failed": 0}
    # THEN the transcript is in the chat once, under its own ClientToken, and the debt is paid
    assert chat(world)[-1] == (burst.client_token(1, "late-transcript"), LATE)
    assert debt_state(world) == "paid"
    # AND later sweeps and a late event post nothing more
    world.now += 60
    assert sweep() == {"settled": 0, "failed": 0}
    assert invoke(event) == {"outcome": "not owed"}
    assert [content for _, content in chat(world)].count(LATE) == 1


def test_a_transcript_the_event_posted_first_is_not_posted_again_by_the_sweep(make_world):
    world = make_world()
    world.deliver(voice_burst(world))
    (event,) = finish(world, 30)
    assert invoke(event) == {"outcome": "posted"}
    world.now += GIVE_UP_SECONDS
    assert sweep() == {"settled": 0, "failed": 0}
    assert [content for _, content in chat(world)].count(LATE) == 1


def test_a_job_still_running_fifteen_minutes_after_its_burst_is_settled_with_the_line_saying_there_is_none(make_world):
    # GIVEN a job stuck IN_PROGRESS (its turnaround far beyond any voice note's)
    world = make_world(wait_seconds=3, turnaround=4 * 3600)
    burst = voice_burst(world)
    world.deliver(burst)
    # WHEN sweeps run while it is merely slow, the agent keeps the "follows" promise
    world.now += SWEEP_AFTER_SECONDS
    assert sweep() == {"settled": 0, "failed": 0}
    assert debt_state(world) == "owed"
    # AND once it has run GIVE_UP_SECONDS, the sweep tells the agent there will be no transcript
    world.now += GIVE_UP_SECONDS - SWEEP_AFTER_SECONDS
    assert sweep() == {"settled": 1, "failed": 0}
    line = "🔊 voice-2.wav: (no transcript: the recording was not transcribed within 15 minutes)"
    token = line_token(burst.client_token(1, "late-transcript"), line, None)
    assert chat(world)[-1] == (token, line)
    # THEN the job's completion, if it ever comes, posts nothing more
    (event,) = finish(world, 4 * 3600)
    assert invoke(event) == {"outcome": "not owed"}
    assert len([c for c, _ in chat(world) if c.startswith(burst.client_token(1, "late-transcript"))]) == 1


def test_a_sweep_whose_post_is_throttled_leaves_the_debt_to_the_next_sweep(make_world):
    world = make_world()
    burst = voice_burst(world)
    world.deliver(burst)
    finish(world, 30)
    world.now += SWEEP_AFTER_SECONDS
    world.fake.services.inject("SendMessage", "ThrottlingException", times=1)
    assert sweep() == {"settled": 0, "failed": 1}
    assert debt_state(world) == "owed"
    world.now += 60
    assert sweep() == {"settled": 1, "failed": 0}
    assert [content for _, content in chat(world)].count(LATE) == 1


# echoTranscripts: the AWS sample replies to a transcribed voice note with `message.text_reply(f"🔊_{...}_")`; a
# transcript posted late goes back to the customer too, once, as a reply to the recording.


def test_with_echo_on_a_late_transcript_goes_back_to_the_customer_once_as_a_reply_to_their_voice_note(make_world):
    world = make_world(echo_transcripts=True)
    burst = voice_burst(world)
    world.deliver(burst)
    assert world.fake.whatsapp_sent() == []  # nothing to echo yet: the burst went without its transcript
    (event,) = finish(world, 30)
    assert invoke(event) == {"outcome": "posted"}
    assert invoke(event) == {"outcome": "not owed"}  # the event again
    world.now += GIVE_UP_SECONDS
    assert sweep() == {"settled": 0, "failed": 0}
    (echo,) = world.fake.whatsapp_sent()
    assert echo["type"] == "text" and echo["text"] == {"body": f"🔊_{WORDS}_", "preview_url": False}
    assert echo["context"] == {"message_id": "wamid.v"} and echo["to"] == burst.conversation.customer


def test_with_echo_on_a_late_no_transcript_line_sends_nothing_back(make_world):
    world = make_world(echo_transcripts=True)
    world.deliver(voice_burst(world, words=None))
    (event,) = finish(world, 30)
    assert invoke(event) == {"outcome": "posted"}
    assert world.fake.whatsapp_sent() == []


def test_a_refused_late_echo_leaves_the_transcript_posted_and_paid(make_world):
    world = make_world(echo_transcripts=True)
    world.deliver(voice_burst(world))
    world.fake.services.inject("SendWhatsAppMessage", "ValidationException")
    (event,) = finish(world, 30)
    assert invoke(event) == {"outcome": "posted"}
    assert debt_state(world) == "paid"
    assert [content for _, content in chat(world)].count(LATE) == 1


def test_with_echo_off_a_late_transcript_is_not_sent_to_the_customer(make_world):
    world = make_world()
    world.deliver(voice_burst(world))
    (event,) = finish(world, 30)
    assert invoke(event) == {"outcome": "posted"}
    assert world.fake.whatsapp_sent() == []
