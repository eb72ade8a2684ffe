"""endOfTurn through the handlers on moto: ingest files each message's cue on the control item, and the aggregator's
decision waits less after a message that looks finished (cues) than after every message alike (fixed)."""

import dataclasses

import boto3
import pytest

from tests.fixtures import eum
from tests.handlers.conftest import POLICY, T0, TABLE, Window, drain_bursts
from tests.handlers.test_aggregator import arrive, run_windows, texts
from whatsapp_buffer.adapters.bursts_queue import BurstsFifoQueue
from whatsapp_buffer.adapters.raw_control import control_key
from whatsapp_buffer.entrypoints import aggregator as aggregator_module
from whatsapp_buffer.environment import AggregatorSettings
from whatsapp_buffer.model import Conversation

CONV = Conversation(eum.PHONE_NUMBER_ID, eum.CUSTOMER)


def test_ingest_files_each_messages_cue_and_the_arrival_before_it(ingest, store, virtual_clock):
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "I ordered a lamp,"))
    control = store.read_control(CONV)
    assert (control.cue, control.previous_arrival) == ("open", T0 + 1)
    arrive(virtual_clock, T0 + 4, eum.message("wamid.2", "does it ship to Canada?", sent_at=T0 + 4))
    control = store.read_control(CONV)
    assert (control.cue, control.previous_arrival, control.last_arrival) == ("done", T0 + 1, T0 + 4)
    item = store.client.get_item(TableName=TABLE, Key=control_key(CONV), ConsistentRead=True)["Item"]
    assert not any("Canada" in str(value) or "lamp" in str(value) for value in item.values())


@pytest.fixture(params=["fixed", "cues"])
def policy_window(request, store, queue_url, stream, virtual_clock):
    policy = dataclasses.replace(POLICY, end_of_turn=request.param)
    settings = AggregatorSettings(raw_table_name=TABLE, bursts_queue_url=queue_url, policy=policy)
    aggregator_module.build(settings, store=store, queue=BurstsFifoQueue(queue_url, boto3.client("sqs")))
    yield request.param, Window(stream, virtual_clock)
    aggregator_module.installed.reset()


def test_a_question_leaves_at_the_first_window_end_after_0_3_of_the_quiet_period_under_cues(
    ingest, policy_window, virtual_clock, queue_url
):
    mode, window = policy_window
    # GIVEN bufferSeconds 20 and 10 s windows: a question at T0 + 1
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "does it ship to Canada?"))
    # WHEN the window ending at T0 + 10 closes (quiet 9 s: past 0.3 x 20 = 6 s, short of 20 s)
    run_windows(window, T0 + 10)
    sent = texts(drain_bursts(queue_url))
    # THEN cues sent it, fixed still waits until the window end after 20 s of quiet
    if mode == "cues":
        assert sent == [["does it ship to Canada?"]]
    else:
        assert sent == []
        run_windows(window, T0 + 30)
        assert texts(drain_bursts(queue_url)) == [["does it ship to Canada?"]]


def test_a_trailing_comma_holds_the_burst_a_window_longer_under_cues(ingest, policy_window, virtual_clock, queue_url):
    mode, window = policy_window
    # GIVEN a message ending in a comma at T0 + 9: fixed is due at T0 + 29, cues at T0 + 9 + 1.25 x 20 = T0 + 34
    arrive(virtual_clock, T0 + 9, eum.message("wamid.1", "my lamp arrived broken,"))
    run_windows(window, T0 + 30)
    at_30 = texts(drain_bursts(queue_url))
    run_windows(window, T0 + 40)
    at_40 = texts(drain_bursts(queue_url))
    # THEN fixed sends it at the window end T0 + 30, cues one window later
    expected = ([["my lamp arrived broken,"]], []) if mode == "fixed" else ([], [["my lamp arrived broken,"]])
    assert (at_30, at_40) == expected
