"""Real payloads from other WhatsApp libraries' test fixtures, end to end through `sandbox replay` as `raw` lines (the
SNS message End User Messaging publishes, built around the sandbox's own envelope): a media message carrying
WhatsApp's error shows the agent WhatsApp's title; a location's `url` (the place's page) reaches the agent.

Shapes quoted in tests/unit/test_identity_and_media_payloads.py (the BSUID change: tests/e2e/test_user_id_change.py).
"""

from __future__ import annotations

import json

import pytest

from sandbox import trace
from sandbox.replay import ACCOUNT_ID, START_EPOCH
from tests.e2e.conftest import replay_lines

CUSTOMER = "15550007777"


def raw_line(at: float, message: dict) -> dict:
    """A `raw` trace line delivering `message` (a Meta `messages[]` element) from CUSTOMER."""
    event = trace.TraceEvent(0, at, "whatsapp", {"from": CUSTOMER, "text": "-"})
    envelope = json.loads(trace.eum_message(event, message["id"], start_epoch=START_EPOCH, region="us-east-1",
                                            account_id=ACCOUNT_ID)[0])  # fmt: skip
    entry = json.loads(envelope["whatsAppWebhookEntry"])
    entry["changes"][0]["value"]["messages"] = [{"from": CUSTOMER, "timestamp": str(int(START_EPOCH + at)), **message}]
    envelope["whatsAppWebhookEntry"] = json.dumps(entry)
    return {"at": at, "type": "raw", "message": json.dumps(envelope)}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    lines = [
        raw_line(0, {"id": "wamid.OTHERLIB1", "type": "image", "image": {"id": "I1", "mime_type": "image/jpeg"},
                     "errors": [{"code": 131052, "title": "Media download error"}]}),
        raw_line(2, {"id": "wamid.OTHERLIB2", "type": "location",
                     "location": {"latitude": 37.483307, "longitude": -122.148981, "name": "Meta Headquarters",
                                  "address": "1 Hacker Way, Menlo Park, CA 94025", "url": "https://www.facebook.com"}}),
    ]  # fmt: skip
    return replay_lines(tmp_path_factory, "other_libraries", lines)


def test_media_carrying_whatsapps_error_shows_the_agent_whatsapps_title(run):
    _, transcript, _ = run
    (notice,) = [m for m in transcript["connect"] if m["message_ids"] == ["wamid.OTHERLIB1"]]
    assert notice["content"] == (
        "[The customer sent an image (image-1.jpg) that cannot be shown here: WhatsApp says: Media download error.]"
    )
    assert transcript["rejected"] == []


def test_a_locations_url_reaches_the_agent(run):
    _, transcript, _ = run
    (location,) = [m for m in transcript["connect"] if "wamid.OTHERLIB2" in m["message_ids"]]
    assert location["content"].splitlines()[-1] == "https://www.facebook.com"
