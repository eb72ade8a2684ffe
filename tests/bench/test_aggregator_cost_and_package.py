"""Window state size and deployment package contents (no timings asserted)."""

from __future__ import annotations

import json
import zipfile
from dataclasses import fields

from bench import aggregator_cost, coldstart


def test_window_state_size_is_the_json_of_the_keys_and_their_control_images_and_grows_linearly():
    small, large = aggregator_cost.state_size(1_000), aggregator_cost.state_size(10_000)
    from whatsapp_buffer.aggregator.window import window_state

    keys = [aggregator_cost._conversation(i).key for i in range(1_000)]
    assert small["bytes"] == len(json.dumps(window_state(keys, aggregator_cost.state_views(keys))).encode())
    assert 9.9 < large["bytes"] / small["bytes"] < 10.1


def test_the_window_state_is_sized_with_every_field_the_runtimes_control_image_carries():
    """The state holds `ControlView.as_view()` per conversation: an image with fewer fields understates the size.
    A field marked `in_view: False` is one only a read of the control item gives, never in a view."""
    from whatsapp_buffer.aggregator.debounce import ControlView

    (view,) = aggregator_cost.state_views(["CONV#1#2"]).values()
    assert len(view) == len([f for f in fields(ControlView) if f.metadata.get("in_view", True)])
    assert ControlView.from_view(view).as_view() == view


def test_pure_throughput_flushes_every_due_conversation():
    result = aggregator_cost.pure_throughput(conversations=50)
    assert result["bursts"] == 50 and result["records"] >= 50


def test_package_holds_the_runtime_sources_and_no_bytecode(monkeypatch, tmp_path):
    # GIVEN a runtime tree with a bytecode cache WHEN packaged THEN sources only, paths relative to runtime/
    (tmp_path / "whatsapp_buffer" / "__pycache__").mkdir(parents=True)
    (tmp_path / "whatsapp_buffer" / "model.py").write_text("X = 1\n")
    (tmp_path / "whatsapp_buffer" / "__pycache__" / "model.cpython-311.pyc").write_bytes(b"\0")
    monkeypatch.setattr(coldstart, "RUNTIME_DIR", tmp_path)
    captured = {}
    real_zip = zipfile.ZipFile

    def spy(*args, **kwargs):
        archive = real_zip(*args, **kwargs)
        captured["archive"] = archive
        return archive

    monkeypatch.setattr(zipfile, "ZipFile", spy)
    result = coldstart.package()
    assert result["files"] == 1 and result["uncompressed_bytes"] == 6
    assert captured["archive"].namelist() == ["whatsapp_buffer/model.py"]


def test_a_tick_leaving_a_thousand_conversations_waiting_is_one_item_priced_far_below_a_write_each():
    """docs/architecture.md: a window end that leaves conversations waiting writes one tick PutItem (1 WRU per started
    KB) instead of one UpdateItem per waiting conversation; the bench prices the item write_tick really builds."""
    tick = aggregator_cost.tick_write_units(1_000)

    assert tick["items"] == 1
    assert 10 < tick["conversations_per_wru"] < 30
