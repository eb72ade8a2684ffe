"""DynamoDB adapter for the raw table: `RawTable`, the one object the functions hold.

pk = `CONV#<phone_number_id>#<wa_id or BSUID>` for every item of a conversation; the sort key says what the item is.
Each kind of item has its module, which alone knows its layout: `raw_messages` (messages and seen markers),
`raw_control` (the control item, the aggregator's ticks, the `pending-since` index), `raw_outbound` (what the bridge
sent and WhatsApp's refusals of it) and `raw_common` (what they share). The states and their transitions are
`aggregator.lifecycle`'s; these modules only persist them, each transition a conditional write. Layout:
docs/architecture.md#raw-table.
"""

from __future__ import annotations

from whatsapp_buffer.adapters.raw_control import ControlItems
from whatsapp_buffer.adapters.raw_messages import MessageItems
from whatsapp_buffer.adapters.raw_outbound import OutboundItems


class RawTable(MessageItems, ControlItems, OutboundItems):
    """The raw table, every item kind on one client. Built once per cold start; tests hand in a client of a
    moto-backed table."""
