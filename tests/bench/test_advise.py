"""`python -m bench advise TRACE.jsonl`: the frontier for a trace's customers and the settings it would choose."""

import json

from bench import advise, gitter
from bench.__main__ import main


def write(path, lines):
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return str(path)


def gitter_trace(tmp_path, rooms, words):
    messages = gitter.load(rooms=rooms).messages
    t0 = min(m.at for m in messages)
    lines = [
        {"type": "whatsapp", "at": round(m.at - t0, 3), "from": m.customer, **({"text": m.text} if words else {})}
        for m in messages
    ]
    return write(tmp_path / "trace.jsonl", lines)


def test_a_timing_only_trace_gets_a_frontier_and_a_choice_within_the_windows_latency(tmp_path, capsys):
    path = gitter_trace(tmp_path, ["docker", "nodejs"], words=False)

    assert main(["advise", path]) == 0

    out = capsys.readouterr().out
    assert "suggested: pulumi config set bufferSeconds" in out
    assert "timing-only trace" in out
    result = advise.advise(path)
    chosen, seed = result["chosen"], result["seed"]
    assert result["with_words"] == 0 and result["enough_bursts"]
    assert chosen["latency_mean_s"] <= seed["latency_mean_s"] + 1
    assert chosen["latency_p95_s"] <= seed["latency_p95_s"]
    assert chosen["split_pct"] < seed["split_pct"]


def test_words_let_the_advice_choose_cues_where_they_split_fewer_bursts(tmp_path):
    timing_only = advise.advise(gitter_trace(tmp_path, ["docker", "nodejs"], words=False))["chosen"]
    with_words = advise.advise(gitter_trace(tmp_path, ["docker", "nodejs"], words=True))["chosen"]
    assert with_words["split_pct"] < timing_only["split_pct"]
    assert with_words["end_of_turn"] == "cues"


def test_an_agents_answer_ends_the_customers_burst(tmp_path):
    path = write(
        tmp_path / "t.jsonl",
        [
            {"type": "whatsapp", "at": 0, "from": "15550001111"},
            {"type": "agent", "at": 3, "to": "15550001111", "text": "hi"},
            {"type": "whatsapp", "at": 5, "from": "15550001111"},
            {"type": "whatsapp", "at": 9, "from": "15550001111"},
        ],
    )
    messages = advise.messages_of(path)
    assert [m.burst for m in messages][0] != messages[1].burst == messages[2].burst


def test_a_handful_of_bursts_is_too_few_to_choose_from(tmp_path, capsys):
    path = write(tmp_path / "t.jsonl", [{"type": "whatsapp", "at": t, "from": "15550001111"} for t in (0, 4, 60)])
    assert main(["advise", path]) == 0
    assert "too few to choose from; keep the defaults" in capsys.readouterr().out


def test_an_unreadable_trace_is_refused_with_one_line(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"type": "whatsapp", "at": -1, "from": "1"}\n', encoding="utf-8")
    assert main(["advise", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bench advise: line 1:") and "\n" not in err
