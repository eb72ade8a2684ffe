"""Reading a TRACE.jsonl: a line that is not JSON stops the replay with a TraceError naming the line."""

from __future__ import annotations

import pytest

from sandbox import trace

FIRST = '{"at": 0, "type": "whatsapp", "from": "15550100001", "text": "hi"}\n'


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", r"line 2: not JSON \(Expecting property name"),
        # json.loads parses it but int() refuses over 4,300 digits with a plain ValueError (no JSONDecodeError.msg).
        ('{"at": ' + "9" * 5000 + "}", r"line 2: not JSON \(Exceeds the limit \(4300 digits\)"),
    ],
)
def test_a_line_that_is_not_json_is_a_trace_error_naming_the_line(tmp_path, line, reason):
    # GIVEN a trace whose second line cannot be read as JSON
    path = tmp_path / "trace.jsonl"
    path.write_text(FIRST + line + "\n")
    # WHEN the sandbox reads it, THEN it refuses it with the line number and the parser's reason
    with pytest.raises(trace.TraceError, match=reason):
        trace.read_trace(str(path))
