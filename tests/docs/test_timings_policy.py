"""docs/operations.md shows the IAM policy `python -m bench timings` needs as the code builds it (bench/timings.py
`read_policy`), so an operator granting what the page says grants what the reader asks for, and no more."""

from __future__ import annotations

import json
import re

from doc_pages import DOCS, section

from bench import timings

DOCUMENTED_ARN = "arn:aws:dynamodb:REGION:ACCOUNT:table/RAW_TABLE"


def test_the_documented_reader_policy_is_the_one_the_code_builds():
    text = section(DOCS / "operations.md", "## How your customers type")
    (block,) = re.findall(r"```json\n(.*?)```", text, flags=re.DOTALL)

    assert json.loads(block) == timings.read_policy(DOCUMENTED_ARN)


def test_the_page_names_the_attributes_the_scan_projects():
    text = section(DOCS / "operations.md", "## How your customers type")

    for attribute in timings.ATTRIBUTES:
        assert f"`{attribute}`" in text
