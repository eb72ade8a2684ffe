"""How an entry module tells its trigger's event from nonsense, and the refusal it raises for nonsense.

An event source mapping or a subscription hands Lambda a batch: `Records`, each naming the service it came from
(`eventSource` for SQS and DynamoDB streams, `EventSource` for SNS). A refusal names what the function serves and the
event's top-level keys, never its values (they may hold a customer's number or words).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from aws_lambda_powertools.utilities.data_classes import SNSEvent

from whatsapp_buffer.errors import UnsupportedEvent


def records_from(event_source: str, key: str = "eventSource") -> Callable[[Any], bool]:
    """Whether an event is a non-empty batch of `Records` whose first one came from `event_source`."""

    def recognises(event: Any) -> bool:
        records = event.get("Records") if isinstance(event, dict) else None
        first = records[0] if isinstance(records, list) and records else None
        return isinstance(first, dict) and first.get(key) == event_source

    return recognises


def refusal(function: str, serves: Iterable[str], event: Any) -> UnsupportedEvent:
    """`UnsupportedEvent` saying what `function` serves and the shape (not the content) of the event it was given."""
    shape = f"top-level keys {sorted(map(str, event))[:8]}" if isinstance(event, dict) else type(event).__name__
    return UnsupportedEvent(f"the {function} function serves {'; '.join(serves)}; this event is none of them ({shape})")


_is_sns_notification = records_from("aws:sns", key="EventSource")


def sns_notifications(function: str, serves: str, event: Any) -> SNSEvent:
    """The notifications of the topic `function` is subscribed to (`serves` names it), or the refusal of anything
    else."""
    if not _is_sns_notification(event):
        raise refusal(function, [serves], event)
    return SNSEvent(event)
