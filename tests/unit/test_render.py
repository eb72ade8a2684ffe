"""render: what the agent reads for content Connect cannot show natively."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whatsapp_buffer import render
from whatsapp_buffer.model import CONNECT_TEXT_LIMIT


@pytest.mark.parametrize(
    ("kind", "content", "expected_parts"),
    [
        (
            "location",
            {"latitude": 52.52, "longitude": 13.405, "name": "Shop", "address": "Main St 1"},
            ["[Location] 52.52, 13.405", "Shop, Main St 1", "https://maps.google.com/?q=52.52,13.405"],
        ),
        ("location", {"latitude": 1.5, "longitude": -2.25}, ["[Location] 1.5, -2.25"]),
        (
            "contacts",
            {
                "contacts": [
                    {"name": {"formatted_name": "Bob"}, "phones": [{"phone": "+1 555"}], "emails": [{"email": "b@x"}]}
                ]
            },
            ["[Shared contact]", "- Bob: +1 555, b@x"],
        ),
        (
            "contacts",
            {"contacts": [{"name": {"formatted_name": "A"}}, {"name": {}}]},
            ["[Shared contacts: 2]", "- A", "- (no name)"],
        ),
        ("interactive", {"title": "Track my order", "id": "track"}, ["[Selected] Track my order"]),
        ("button", {"title": "Yes", "payload": "YES"}, ["[Selected] Yes"]),
        ("reaction", {"emoji": "👍", "reacted_to": "wamid.1"}, ["[Reacted 👍 to an earlier message]"]),
        ("reaction", {"emoji": "", "reacted_to": "wamid.1"}, ["[Removed a reaction]"]),
        (
            "order",
            {
                "product_items": [
                    {"product_retailer_id": "sku-1", "quantity": 2, "item_price": 9.5, "currency": "EUR"}
                ],
                "text": "asap",
            },
            ["[Order: 1 item]", "- 2 x sku-1 at 9.5 EUR", "asap"],
        ),
        ("unsupported", {"original_type": "poll"}, ["type 'poll'"]),
        ("something_new", {}, ["type 'unknown'"]),
    ],
)
def test_non_text_items_become_readable_text(kind, content, expected_parts):
    # GIVEN an item Connect cannot show natively WHEN rendered
    text = render.item_text(kind, content)
    # THEN every expected fragment is there
    for part in expected_parts:
        assert part in text


def test_a_huge_contact_list_is_clipped_to_the_connect_limit():
    contacts = {"contacts": [{"name": {"formatted_name": "x" * 50}, "phones": [{"phone": "1" * 15}]}] * 100}
    text = render.item_text("contacts", contacts)
    assert len(text) == CONNECT_TEXT_LIMIT
    assert text.endswith("…")


@given(st.text(max_size=3000))
def test_clip_never_exceeds_the_limit_and_keeps_short_text(text):
    clipped = render.clip(text)
    assert len(clipped) <= CONNECT_TEXT_LIMIT
    if len(text) <= CONNECT_TEXT_LIMIT:
        assert clipped == text
    else:
        assert clipped[:-1] == text[: CONNECT_TEXT_LIMIT - 1]


@pytest.mark.parametrize(
    ("kind", "content", "index", "expected"),
    [
        ("document", {"filename": "invoice.pdf", "mime_type": "application/pdf"}, 0, "invoice.pdf"),
        ("image", {"mime_type": "image/jpeg"}, 0, "image-1.jpg"),
        ("voice", {"mime_type": "audio/ogg; codecs=opus"}, 2, "voice-3.ogg"),
        ("sticker", {"mime_type": "image/webp"}, 1, "sticker-2.webp"),
        ("video", {}, 0, "video-1.bin"),
    ],
)
def test_attachment_names_prefer_the_customers_file_name(kind, content, index, expected):
    assert render.attachment_name(kind, content, index) == expected


@pytest.mark.parametrize(
    ("mime", "expected"),
    [
        ("audio/ogg; codecs=opus", "audio/ogg"),
        ("IMAGE/JPEG", "image/jpeg"),
        ("", "application/octet-stream"),
        (None, "application/octet-stream"),
    ],
)
def test_content_type_parameters_are_dropped(mime, expected):
    assert render.bare_content_type(mime) == expected


def test_media_notice_names_the_kind_the_file_and_the_reason():
    rejected = render.media_notice("video", render.REJECTED, "clip.mp4")
    unavailable = render.media_notice("voice", render.UNAVAILABLE)
    assert "a video (clip.mp4)" in rejected and "not accepted" in rejected
    assert "a voice note" in unavailable and "could not be downloaded" in unavailable


@pytest.mark.parametrize(
    ("kind", "content", "expected"),
    [
        ("text", {"text": "hi"}, ""),
        ("text", {"context": {"forwarded": True, "frequently_forwarded": True}}, "[Forwarded many times]"),
        ("image", {"context": {"id": "wamid.1"}}, "[Replying to an earlier message]"),
        ("interactive", {"context": {"id": "wamid.1"}}, ""),
        ("button", {"context": {"id": "wamid.1", "forwarded": True}}, "[Forwarded]"),
        ("text", {"referral": {"source_type": "post", "source_url": "https://fb.me/p"}},
         "[The customer came from a post: https://fb.me/p]"),
        ("text", {"referral": {"source_type": "<b>", "ctwa_clid": "c"}}, "[The customer came from an ad]"),
        ("location", {"referral": {"headline": "H"}, "context": {"forwarded": True}},
         '[The customer came from an ad: "H"]\n[Forwarded]'),
    ],
)  # fmt: skip
def test_the_preface_names_what_whatsapp_says_about_a_message(kind, content, expected):
    assert render.preface(kind, content) == expected


def test_a_non_text_item_reads_its_preface_first():
    text = render.item_text("location", {"latitude": 1.5, "longitude": 2.5, "context": {"forwarded": True}})
    assert text.startswith("[Forwarded]\n[Location] 1.5, 2.5")


def test_a_long_form_is_cut_between_answers_within_the_connect_limit():
    response = {f"question_{index}": "an answer of some length " * 3 for index in range(60)}
    text = render.item_text(
        "interactive",
        {"title": "Sent", "interactive_type": "nfm_reply", "response": response, "referral": {"headline": "x" * 500}},
    )
    assert len(text) <= CONNECT_TEXT_LIMIT
    assert text.splitlines()[-1].endswith("more answers not shown]")
    assert all(": " in line for line in text.splitlines()[2:-1])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"interactive_type": "nfm_reply", "title": "Sent"}, "[Form sent] Sent"),
        ({"interactive_type": "nfm_reply", "response": {}}, "[Form sent with no answers]"),
        ({"interactive_type": "nfm_reply", "response_text": "raw"}, "[Form answers]\nraw"),
        ({"response": {"note": "two\nlines", "empty": "", "none": None, "list": []}},
         "[Form answers]\nnote: two lines\nempty: (empty)\nnone: (empty)\nlist: (none)"),
    ],
)  # fmt: skip
def test_flow_answers_of_every_shape_read_as_lines(content, expected):
    assert render.item_text("interactive", content) == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"system_type": "user_changed_number"}, "[WhatsApp notice: the customer changed their phone number.]"),
        ({"system_type": "user_changed_number", "new_wa_id": "12195555358"},
         "[WhatsApp notice: the customer changed their phone number to *******5358.]"),
        ({"system_type": "user_changed_user_id"}, "[WhatsApp notice: the customer's WhatsApp user id (BSUID) changed.]"),
        ({}, "[WhatsApp notice (unknown)]"),
    ],
)  # fmt: skip
def test_whatsapp_notices_never_show_a_full_number(content, expected):
    assert render.item_text("system", content) == expected


@pytest.mark.parametrize(
    ("kind", "content", "expected"),
    [
        # Shapes an earlier ingest let through (a fuzzer's finds): the list a field should be is a number.
        ("contacts", {"contacts": [{"name": {"formatted_name": "Bob"}, "phones": 5}]}, "[Shared contact]\n- Bob"),
        (
            "contacts",
            {"contacts": [{"name": {"formatted_name": "Bob"}, "phones": [{"phone": "+1 555"}], "emails": 7}]},
            "[Shared contact]\n- Bob: +1 555",
        ),
        ("order", {"product_items": 1.5, "text": "asap"}, "[Order: 0 items]\nasap"),
        ("contacts", {"contacts": "Bob"}, "[Shared contacts: 0]"),
    ],
)
def test_a_stored_field_of_the_wrong_type_renders_as_what_can_be_read_never_raising(kind, content, expected):
    """A burst stored by an older ingest is delivered as it is: a field of the wrong type is read as empty, the rest
    of the item still reaches the agent (a raise would fail the whole burst on every delivery, then the DLQ)."""
    assert render.item_text(kind, content) == expected


_WRONG_TYPES = (None, 0, -1, 1.5, True, "", "x", [], {}, [None], {"x": 1}, float("nan"))
"""What a fuzzer put in place of each field of Meta's payloads (tools that found the contact and order crashes)."""
_GOOD = {
    "contacts": {
        "contacts": [
            {"name": {"formatted_name": "Bob"}, "phones": [{"phone": "+1 555", "wa_id": "1555"}], "emails": [{"email": "b@x"}]}
        ]
    },
    "order": {"product_items": [{"product_retailer_id": "s", "quantity": 2, "item_price": 9.5, "currency": "EUR"}], "text": "t"},
    "location": {"latitude": 1.5, "longitude": 2.5, "name": "Shop", "address": "Main St", "url": "https://x"},
    "interactive": {"title": "T", "id": "i", "response": {"a": {"b": [1, "c"]}}, "interactive_type": "nfm_reply"},
    "button": {"title": "Yes", "payload": "YES"},
    "reaction": {"emoji": "x", "reacted_to": "wamid.1"},
    "system": {"system_type": "customer_changed_number", "previous_wa_id": "1555", "new_wa_id": "1666", "body": "b"},
    "edit": {"text": "now", "quote": "before"},
    "revoke": {"quote": "before"},
    "unsupported": {"original_type": "poll", "error": "131051: Unsupported", "error_details": "d"},
    "text": {
        "text": "hi",
        "edit_of": "wamid.0",
        "quote": "q",
        "context": {"id": "wamid.1", "forwarded": True, "quote": {"text": "q", "by": "agent"}},
        "referral": {"headline": "h", "source_url": "https://ad", "source_type": "ad"},
    },
}  # fmt: skip


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _paths(inner, (*path, index))


def _replaced(value, path, new):
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


@pytest.mark.parametrize("kind", sorted(_GOOD))
def test_any_field_of_a_stored_item_of_any_type_renders_as_text(kind):
    """Whatever an older ingest stored (each field, at any depth, replaced by each wrong type), the agent gets text,
    never an error."""
    good = _GOOD[kind]
    failures = []
    for path in _paths(good):
        for wrong in _WRONG_TYPES:
            content = _replaced(good, path, wrong) if path else {"whole": wrong}
            try:
                assert isinstance(render.item_text(kind, content), str)
            except Exception as error:  # noqa: BLE001 - every failure is reported, with its path
                failures.append((path, wrong, type(error).__name__))
    assert failures == []
