"""docs/deploy.md's first deploy ends with `make doctor` and what it cannot check; its policy has the doctor's shape."""

from __future__ import annotations

import json
import re

from doc_pages import DOCS

from components.doctor import Stack
from components.doctor_policy import doctor_policy

DEPLOY = (DOCS / "deploy.md").read_text()


def _section(title: str) -> str:
    return DEPLOY.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_first_deploy_ends_with_make_doctor_and_what_it_cannot_check():
    steps = _section("Step by step")
    last_step = re.split(r"\n\d+\. ", steps)[-1]

    assert last_step.startswith("Check what `pulumi up` cannot: `make doctor`")
    assert "What it cannot check:" in last_step


def test_the_documented_policy_has_the_statements_and_actions_the_doctor_prints():
    block = _section("The doctor's IAM policy").split("```json\n", 1)[1].split("```", 1)[0]
    documented = {s["Sid"]: sorted(s["Action"]) for s in json.loads(block)["Statement"]}
    outputs = {
        "inTopicArn": "arn:aws:sns:eu-west-1:123456789012:in",
        **{
            key: f"https://sqs.eu-west-1.amazonaws.com/123456789012/{key}"
            for key in (
                "ingestDeadLetterQueueUrl",
                "burstsDeadLetterQueueUrl",
                "outboundDeadLetterQueueUrl",
                "aggregatorFailuresQueueUrl",
            )
        },
    }
    stack = Stack(outputs, "i", ("f",), ("phone-number-id-1",), "arn:aws:sns:eu-west-1:123456789012:alarms")

    printed = {s["Sid"]: sorted(s["Action"]) for s in doctor_policy(stack)["Statement"]}

    assert documented == printed
    assert all(
        "*" not in r for s in doctor_policy(stack)["Statement"] if s["Sid"] != "WhatsAppAccounts" for r in s["Resource"]
    )
