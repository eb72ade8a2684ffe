"""The sandbox's uses of moto internals run only on the moto they were written for (sandbox.moto_internals)."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest

from sandbox import moto_internals

ROOT = Path(__file__).resolve().parents[2]
MOTO_IMPORT = re.compile(r"^\s*(from moto[ .]|import moto\b)", re.MULTILINE)


def test_the_installed_moto_is_the_one_the_internals_were_written_for():
    assert metadata.version("moto") == moto_internals.WRITTEN_FOR


def test_requirements_pin_the_version_the_internals_were_written_for():
    pins = [
        line.split("==")[1].split()[0]
        for line in (ROOT / "requirements-dev.txt").read_text().splitlines()
        if line.startswith("moto[")
    ]
    assert pins == [moto_internals.WRITTEN_FOR]


def test_another_moto_fails_with_a_message_that_says_what_to_do():
    with pytest.raises(moto_internals.MotoVersionError) as raised:
        moto_internals.require_written_version("5.3.0")
    message = str(raised.value)
    assert "5.3.0" in message and moto_internals.WRITTEN_FOR in message and "sandbox/moto_internals.py" in message


def test_no_other_sandbox_module_imports_moto():
    """Every use of moto beyond its public API lives in sandbox/moto_internals.py (sandbox/fakes excepted: its own)."""
    offenders = []
    for path in sorted((ROOT / "sandbox").glob("*.py")) + sorted((ROOT / "sandbox" / "delivery").glob("*.py")):
        if path.name == "moto_internals.py":
            continue
        if MOTO_IMPORT.search(path.read_text()):
            offenders.append(path.name)
    assert offenders == []
