"""The customer's answer to a bot's or flow's question: a tapped WhatsApp reply button or list row reaches
the chat as Connect's own customer chat widget sends a QuickReply/ListPicker selection, so Lex or the flow matches
it and continues: a plain `text/plain` message holding exactly the chosen option's title, in its place in the burst.

Evidence (amazon-connect-chat-interface, src/utils/helper.js, `createInteractiveMessagePayload`): `const payload =
{ text: selectedElement.title };` for a list picker element; QuickReply.js: `handleSelection({ text: element.title })`.
Only the list picker's action buttons (SHOW_MORE / PREVIOUS_OPTIONS) send
`application/vnd.amazonaws.connect.message.interactive.response` (its docs, InteractiveMessageActionButtonImplementation.md).
The relay sends each option under its own, whole title (`outbound.interactive.as_whatsapp`: buttons or rows only when
every title fits, numbered text otherwise), so WhatsApp's `button_reply.title` / `list_reply.title` is the option's.
"""

from __future__ import annotations

from tests.handlers.test_inbound import make_burst, world  # noqa: F401 - the fixture
from whatsapp_buffer.model import OutgoingItem


def test_a_list_row_the_customer_taps_reaches_the_chat_as_the_options_title_in_its_place_in_the_burst(world):  # noqa: F811
    burst = make_burst(
        [
            OutgoingItem(kind="text", message_ids=("wamid.before",), text="hi"),
            OutgoingItem(
                kind="interactive",
                message_ids=("wamid.choice",),
                content={"title": "Billing question", "id": "option-2", "description": "Invoices, refunds"},
            ),
            OutgoingItem(kind="text", message_ids=("wamid.after",), text="thanks"),
        ]
    )
    world.deliver(burst)
    contact_id = world.session().contact_id
    assert world.fake.contents(contact_id) == ["hi", "Billing question", "thanks"]
    answer = [c for c in world.calls("SendMessage") if c["Content"] == "Billing question"]
    assert [c["ContentType"] for c in answer] == ["text/plain"]


def test_a_flows_answers_are_still_shown_as_readable_lines_not_as_a_choice(world):  # noqa: F811
    burst = make_burst(
        [
            OutgoingItem(
                kind="interactive",
                message_ids=("wamid.flow",),
                content={"title": "Sent", "interactive_type": "nfm_reply", "response": {"size": "M"}},
            )
        ]
    )
    world.deliver(burst)
    (content,) = world.fake.contents(world.session().contact_id)
    assert content != "Sent" and "size" in content


STORES = tuple(f"Store {i}" for i in range(1, 13))


def test_a_bare_number_answering_a_question_sent_as_numbered_text_reaches_the_chat_as_that_options_title(world):  # noqa: F811
    first = make_burst([OutgoingItem(kind="text", message_ids=("wamid.q0",), text="which stores are open?")])
    world.deliver(first)
    session = world.session()
    # the relay sent the bot's 12-option list picker as numbered text and kept its options on the session
    assert world.sessions.set_numbered_options(session.conversation, session.contact_id, STORES)
    world.deliver(make_burst([OutgoingItem(kind="text", message_ids=("wamid.a1",), text=" 2 ")]))
    # answered once: a later "2" is the customer's own words again
    world.deliver(make_burst([OutgoingItem(kind="text", message_ids=("wamid.a2",), text="2")]))
    assert world.fake.contents(session.contact_id) == ["which stores are open?", "Store 2", "2"]
    assert world.session().numbered_options == ()


def test_a_number_outside_the_options_or_words_around_it_pass_as_typed(world):  # noqa: F811
    world.deliver(make_burst([OutgoingItem(kind="text", message_ids=("wamid.q0",), text="hello")]))
    session = world.session()
    world.sessions.set_numbered_options(session.conversation, session.contact_id, STORES)
    world.deliver(make_burst([OutgoingItem(kind="text", message_ids=("wamid.b1",), text="13")]))
    world.deliver(make_burst([OutgoingItem(kind="text", message_ids=("wamid.b2",), text="2 please")]))
    assert world.fake.contents(session.contact_id)[1:] == ["13", "2 please"]
    assert world.session().numbered_options == STORES
