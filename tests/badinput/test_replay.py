"""Poison inputs through the whole sandbox: raw in-topic bodies from the corpus between ordinary customer messages.

One replay serves every test (each costs ~3 s). The promise checked: each poison lands in `rejected` with a reason
that quotes no body or number, every good message -- typed ones and the good neighbours inside poison entries --
reaches Connect exactly once, and nothing is left stuck (no stream or queue dead letters, nothing pending).
"""

from __future__ import annotations

import json

import pytest

from tests import corpus

TYPIST = "15550004444"
POISON = {
    1.0: "truncated_envelope.txt",
    2.0: "another_business_number.txt",
    3.0: "s3_event_notification.txt",
    4.0: "hostile_ids.txt",
    5.0: "lone_surrogates.txt",
}
HARMLESS = {6.0: "unknown_message_kind.txt", 6.5: "unknown_fields.txt", 7.0: "noncharacters.txt"}
GOOD_NEIGHBOURS = {
    "wamid.CORPUS.ab.good",
    "wamid.CORPUS.hi.good",
    "wamid.CORPUS.ls.text",
    "wamid.CORPUS.uk.good",
    "wamid.CORPUS.uk.hologram",
    "wamid.CORPUS.uk.errors",
    "wamid.CORPUS.nc.1",
    "wamid.CORPUS.nc.2",
}
TYPED = {"wamid.E2E.1", "wamid.E2E.2", "wamid.E2E.3"}


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    from sandbox import trace
    from sandbox.replay import Replay

    bodies = corpus.files("eum")
    lines = [{"at": at, "type": "raw", "message": bodies[name]} for at, name in {**POISON, **HARMLESS}.items()]
    lines += [
        {"at": at, "type": "whatsapp", "from": TYPIST, "id": f"wamid.E2E.{n}", "text": f"typed {n}"}
        for n, at in ((1, 0.0), (2, 2.5), (3, 5.5))
    ]
    path = tmp_path_factory.mktemp("badinput") / "poison.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    rep = Replay(trace.read_trace(path))
    leftovers: dict[str, object] = {}
    transcript = rep.transcript

    def read_leftovers_then_transcript():
        # The replay stops its moto server right after the transcript: look at the queues and the table first.
        from sandbox.pipeline import local_client

        pipeline = rep.pipeline
        leftovers["dlq_depths"] = {
            n: pipeline.dead_letter_depth(q) for n, q in rep.wiring.queues.items() if "dlq" in n.lower()
        }
        ddb = local_client("dynamodb", rep.services.moto_url, rep.wiring.account.region)
        items = ddb.scan(TableName=rep.wiring.stack_outputs["rawTableName"])["Items"]
        leftovers["pending"] = [int(i["pending"]["N"]) for i in items if i["sk"]["S"] == "CONTROL"]
        return transcript()

    rep.transcript = read_leftovers_then_transcript
    return rep.run(), rep, leftovers


def delivered_ids(transcript) -> list[str]:
    return [mid for m in transcript["connect"] if m["kind"] == "text" for mid in m["message_ids"]]


def test_each_poison_is_rejected_once_with_a_reason_naming_the_problem(replay):
    transcript, _, _ = replay
    reasons = {r["at"]: r["reason"] for r in transcript["rejected"]}
    assert sorted(reasons) == sorted(POISON)
    assert "SNS message is not JSON" in reasons[1.0]
    assert "business number 109999999999999 is not among" in reasons[2.0]
    assert "UnsupportedEvent" in reasons[3.0]
    assert "message from is not a short printable id" in reasons[4.0]
    assert "message id is not printable ASCII" in reasons[5.0]
    assert {r["function"] for r in transcript["rejected"]} == {"ingest"}


def test_rejection_reasons_and_logs_quote_no_body_and_no_full_number(replay):
    transcript, rep, _ = replay
    captured = json.dumps(transcript["rejected"]) + "".join(
        line for lines in rep.pipeline.logs.values() for line in lines
    )
    assert "*******4444" in captured  # the logs were captured, and name customers by their last four digits
    for secret in (corpus.POISON_TEXT, corpus.BAD_CUSTOMER, corpus.GOOD_CUSTOMER, TYPIST, "typed 1"):
        assert secret not in captured


def test_every_good_message_next_to_the_poison_reaches_connect_exactly_once(replay):
    transcript, _, _ = replay
    ids = delivered_ids(transcript)
    assert sorted(ids) == sorted(GOOD_NEIGHBOURS | TYPED)
    typist = [m["content"] for m in transcript["connect"] if m["customer"] == TYPIST]
    assert typist == ["typed 1\ntyped 2\ntyped 3"]


def test_unknown_kinds_reach_the_agent_as_readable_notices(replay):
    transcript, _, _ = replay
    by_id = {m["message_ids"][0]: m["content"] for m in transcript["connect"] if len(m["message_ids"]) == 1}
    assert by_id["wamid.CORPUS.uk.hologram"] and by_id["wamid.CORPUS.uk.errors"]


def test_nothing_is_stuck_after_the_poison(replay):
    transcript, rep, leftovers = replay
    # Only the deliberate poison is dead-lettered: no stream batch, no burst and no agent reply failed for good.
    assert {(d.function, d.source) for d in rep.pipeline.dead_letters} == {("ingest", "sns")}
    assert transcript["stats"]["rejected"] == len(POISON)
    assert sum(leftovers["dlq_depths"].values()) == len(POISON), leftovers["dlq_depths"]
    # Every stored message left the pending state: no conversation waits for a flush that will not come.
    assert leftovers["pending"] and set(leftovers["pending"]) == {0}
