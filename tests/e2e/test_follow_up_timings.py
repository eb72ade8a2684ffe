"""How customers type, end to end: a replay's ingest reports each message's follow-up gap as the trace has it (capped
at maxWaitSeconds), and `python -m bench timings` reads the same gaps back from the sandbox stack's raw table as a
trace, message times only."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
from collections import defaultdict
from pathlib import Path

import pytest

from bench import advise, timings
from sandbox import trace
from sandbox.replay import Replay

ANA, BEN = "15550001111", "15550002222"
SALES = "107000000000001"
TRACE = [
    {"at": 0.0, "type": "whatsapp", "from": ANA, "id": "wamid.a1", "text": "Hello"},
    {"at": 1.5, "type": "whatsapp", "from": ANA, "id": "wamid.a2", "text": "my order"},
    {"at": 2.0, "type": "whatsapp", "from": BEN, "id": "wamid.b1", "text": "hi"},
    {"at": 3.0, "type": "whatsapp", "from": ANA, "id": "wamid.s1", "text": "sales?", "phone_number_id": SALES},
    {"at": 4.0, "type": "whatsapp", "from": ANA, "id": "wamid.a3", "text": "4471"},
    {"at": 5.0, "type": "whatsapp", "from": ANA, "id": "wamid.a3", "text": "4471"},  # redelivered
    {"at": 9.25, "type": "whatsapp", "from": BEN, "id": "wamid.b2", "kind": "image", "caption": "this one"},
    {"at": 30.0, "type": "whatsapp", "from": ANA, "id": "wamid.a4", "text": "still there?"},
    {"at": 200.0, "type": "whatsapp", "from": ANA, "id": "wamid.a5", "text": "hello??"},
]


class ReadingReplay(Replay):
    """A replay that runs `python -m bench timings` against its own raw table before the services stop."""

    out: Path
    monkeypatch: pytest.MonkeyPatch
    advice: io.StringIO

    def transcript(self):
        region = self.wiring.account.region
        for name, value in {
            "AWS_ENDPOINT_URL": self.services.moto_url,
            "AWS_ACCESS_KEY_ID": "sandbox",
            "AWS_SECRET_ACCESS_KEY": "sandbox",
            "AWS_DEFAULT_REGION": region,
        }.items():
            self.monkeypatch.setenv(name, value)
        table = self.wiring.stack_outputs["rawTableName"]
        self.exit_code = timings.main(["--table", table, "--out", str(self.out)])
        self.advice = io.StringIO()
        with contextlib.redirect_stdout(self.advice):
            self.advise_exit_code = advise.main(["--table", table])
        return super().transcript()


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("timings")
    path = folder / "trace.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in TRACE), encoding="utf-8")
    with pytest.MonkeyPatch.context() as monkeypatch:
        replay = ReadingReplay(trace.read_trace(path))
        replay.out, replay.monkeypatch = folder / "read.jsonl", monkeypatch
        transcript = replay.run()
    return replay, transcript


def gaps_by_conversation(lines: list[dict]) -> dict[tuple[str, str], list[float]]:
    """(customer, business number) -> the seconds between its consecutive messages, a redelivered id counted once."""
    arrivals: dict[tuple[str, str], list[float]] = defaultdict(list)
    seen: set[str] = set()
    for line in sorted(lines, key=lambda line: line["at"]):
        if "id" in line:
            if line["id"] in seen:
                continue
            seen.add(line["id"])
        arrivals[(line["from"], line.get("phone_number_id", trace.DEFAULT_PHONE_NUMBER_ID))].append(line["at"])
    return {key: [round(b - a, 3) for a, b in itertools.pairwise(ats)] for key, ats in arrivals.items()}


def emitted_gaps(replay: Replay) -> list[float]:
    values: list[float] = []
    for line in replay.pipeline.logs["ingest"]:
        if '"_aws"' in line and "FollowUpGap" in (document := json.loads(line)):
            value = document["FollowUpGap"]
            values.extend(value if isinstance(value, list) else [value])
    return values


def test_ingest_reports_the_traces_follow_up_gaps_capped_at_max_wait(replayed):
    replay, transcript = replayed
    cap = float(replay.wiring.functions["ingest"].env["MAX_WAIT_SECONDS"])
    expected = sorted(min(gap, cap) for gaps in gaps_by_conversation(TRACE).values() for gap in gaps)

    assert transcript["stats"]["duplicates_dropped"] == 1
    assert expected == [1.5, 2.5, 7.25, 26.0, 60.0]  # Ana's 170 s pause capped at the default maxWaitSeconds
    assert sorted(emitted_gaps(replay)) == pytest.approx(expected, abs=1e-3)


def test_bench_timings_reads_the_same_gaps_back_from_the_stacks_raw_table(replayed):
    replay, _ = replayed
    read = [json.loads(line) for line in replay.out.read_text(encoding="utf-8").splitlines()]

    assert replay.exit_code == 0
    # One line per message stored (the redelivery stored once), each only a time, a pseudonym and a business number
    assert len(read) == len({line["id"] for line in TRACE})
    assert {tuple(sorted(line)) for line in read} == {("at", "from", "phone_number_id", "type")}
    assert read[0]["at"] == 0.0
    # The same gaps, uncapped: the table keeps real arrival times
    original = gaps_by_conversation(TRACE)
    pseudonym = {line["from"]: read_line["from"] for line, read_line in zip(TRACE[:3], read[:3], strict=True)}
    assert gaps_by_conversation(read) == {
        (pseudonym[customer], number): gaps for (customer, number), gaps in original.items()
    }
    # No customer's number leaves the table; one customer writing to two numbers is one pseudonym
    text = replay.out.read_text(encoding="utf-8")
    assert ANA not in text and BEN not in text
    assert len({line["from"] for line in read}) == 2


def test_the_trace_bench_timings_writes_is_one_the_sandbox_replays(replayed):
    replay, _ = replayed

    events = trace.read_trace(replay.out)

    assert [e.at for e in events] == sorted(e.at for e in events)
    assert {e.data["type"] for e in events} == {"whatsapp"}


def test_bench_advise_reads_the_stacks_raw_table_and_says_when_its_customers_are_too_few_to_choose(replayed):
    replay, _ = replayed
    advice = replay.advice.getvalue()

    assert replay.advise_exit_code == 0
    # 8 stored messages of 3 conversations (Ana to two numbers), read as times only
    assert advice.startswith("8 messages from 3 customers (0 with words)")
    assert "too few to choose from; keep the defaults" in advice
    assert "timing-only trace" in advice
    assert ANA not in advice and BEN not in advice
