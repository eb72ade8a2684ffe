"""DynamoDB adapter for the raw table (docs/architecture.md): `RawStore`, the one object the functions hold.

pk = `CONV#<phone_number_id>#<wa_id>` for every item of a conversation; the sort key says what the item is. Each kind
of item has its module, which alone knows its layout:

* `raw_messages`: the message items (`MSG#...`) and the seen markers (`SEEN#...`): stored by ingest, claimed and
  marked sent by the flush;
* `raw_control`: the control item (`CONTROL`), the aggregator's tick items (`TICK`...) and the sparse
  `pending-since` index over the control items;
* `raw_outbound`: what the bridge sent (`SAID#...`) and WhatsApp's refusals of it (`REFUSED#...`);
* `raw_common`: what they share (partition key, number encoding, the client and its error translation).

The states and their transitions are `aggregator.lifecycle`'s; these modules only persist them, each transition a
conditional write (claim only what is pending, mark sent only what the burst claimed, settle only at the version read).
"""

from __future__ import annotations

from whatsapp_buffer.adapters.raw_control import ControlItems
from whatsapp_buffer.adapters.raw_messages import MessageItems
from whatsapp_buffer.adapters.raw_outbound import OutboundItems


class RawStore(MessageItems, ControlItems, OutboundItems):
    """The raw table, every item kind on one client. Built once per cold start; tests hand in a client of a
    moto-backed table."""
