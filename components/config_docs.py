"""Pulumi.yaml's `config:` block and the README's configuration table, rendered from the settings declaration.

`python -m components.config_docs --write` rewrites both from runtime/whatsapp_buffer/settings.py; without
`--write` it prints them. tests/infra/test_settings_declaration.py checks the committed files say the same (type,
default, description), so a declaration change that is not written back fails the tests.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import yaml

from components.settings import REQUIRED, SETTINGS, Boolean, Integer, OneOf, Setting

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT_FILE = PROJECT_DIR / "Pulumi.yaml"
README = PROJECT_DIR / "README.md"
README_SECTION = "## Configuration"
README_HEADER = "| key | type | default | meaning |\n|---|---|---|---|\n"
CONFIG_COMMENT = (
    "  # Generated from runtime/whatsapp_buffer/settings.py (python -m components.config_docs --write). Validated by\n"
    "  # components/settings.py: a bad value stops `pulumi preview` naming key, value and allowed range.\n"
)


def pulumi_type(setting: Setting) -> str:
    rule = setting.rule
    if isinstance(rule, Integer) or (isinstance(rule, OneOf) and isinstance(rule.allowed[0], int)):
        return "integer"
    return "boolean" if isinstance(rule, Boolean) else "string"


def pulumi_default(setting: Setting) -> Any:
    """What Pulumi.yaml declares: the fixed default, before any clamping into a range relative to another key."""
    if setting.default is None or setting.default == ():
        return ""
    return setting.default


def pulumi_description(setting: Setting) -> str:
    allowed = "" if isinstance(setting.rule, Boolean) else f" Allowed: {setting.rule.label}."
    return f"{setting.description}{allowed}{' Required.' if setting.default is REQUIRED else ''}"


def pulumi_schema(setting: Setting) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": pulumi_type(setting)}
    if setting.default is not REQUIRED:
        schema["default"] = pulumi_default(setting)
    schema["description"] = pulumi_description(setting)
    return schema


def readme_row(setting: Setting) -> tuple[str, str, str, str]:
    """(key, type, default, meaning) as the README's table shows them."""
    if setting.default is REQUIRED:
        default = "required"
    elif pulumi_default(setting) == "":
        default = "empty"
    elif isinstance(setting.default, bool):
        default = str(setting.default).lower()
    else:
        default = str(setting.default)
    return f"`{setting.key}`", setting.rule.label, default, setting.description


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    text = str(value)
    if isinstance(value, str) and not _reads_back(text):
        return json.dumps(value, ensure_ascii=False)
    return text


def _reads_back(text: str) -> bool:
    """Whether `text` written plain after `key: ` is read back as this string."""
    try:
        return yaml.safe_load(f"k: {text}") == {"k": text}
    except yaml.YAMLError:
        return False


def render_config_block() -> str:
    lines = ["config:\n", CONFIG_COMMENT]
    for setting in SETTINGS:
        lines.append(f"  {setting.key}:\n")
        lines.extend(f"    {name}: {_scalar(value)}\n" for name, value in pulumi_schema(setting).items())
    return "".join(lines)


def render_readme_table() -> str:
    return README_HEADER + "".join("| " + " | ".join(readme_row(s)) + " |\n" for s in SETTINGS)


def write() -> None:
    project = PROJECT_FILE.read_text()
    block = re.compile(r"^config:\n(?:[ #].*\n|\n)*", flags=re.MULTILINE).search(project)
    if block is None:
        raise ValueError("Pulumi.yaml has no config: block")
    PROJECT_FILE.write_text(project[: block.start()] + render_config_block() + project[block.end() :])
    readme = README.read_text()
    section = readme.index(f"\n{README_SECTION}\n")
    table = re.compile(r"^\|.*\|\n(?:\|.*\|\n)*", flags=re.MULTILINE).search(readme, section)
    if table is None:
        raise ValueError(f"README.md has no table under {README_SECTION}")
    README.write_text(readme[: table.start()] + render_readme_table() + readme[table.end() :])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite Pulumi.yaml's config block and README's table")
    if parser.parse_args(argv).write:
        write()
    else:
        print(render_config_block())
        print(render_readme_table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
