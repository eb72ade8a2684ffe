"""Messages the customer sends within one WhatsApp second (its `timestamp` is whole seconds; an album's photos always
share one) reach the agent in the order they were sent, although their ids -- random, as Meta's are -- sort the
other way; the replay audit agrees."""

from sandbox import verify
from tests.e2e.conftest import TRACES, replay


def test_messages_of_one_second_reach_the_agent_as_typed_and_the_audit_finds_them_in_order():
    events, transcript, _ = replay(TRACES / "same_second.jsonl")
    shown = [(c["kind"], c["content"] if c["kind"] == "text" else c["message_ids"]) for c in transcript["connect"]]
    hello, how, front, back = (e.data["id"] for e in events)
    assert shown[0] == ("text", "Hello\nHow are you?")
    attachments = [ids for kind, ids in shown if kind == "attachment"]
    assert attachments == [[front], [back]]
    audit = verify.audit(events, transcript)
    assert audit.clean and audit.messages == 4, audit
    assert sorted([hello, how]) == [how, hello] and sorted([front, back]) == [back, front]
