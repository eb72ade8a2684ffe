"""Pulumi.yaml's `config:` block, the README's configuration table, the WhatsAppBuffer component's typed inputs
(components/whatsapp_buffer_args.py) and the program's typed settings (components/stack_settings.py), rendered from
the settings declaration.

`python -m components.config_docs --write` rewrites its part of all four (of the two modules, their class's body below
the docstring) from runtime/whatsapp_buffer/settings.py; without `--write` it prints them.
tests/infra/test_settings_declaration.py and test_whatsapp_buffer.py check the committed files say the same (type,
default, description), so a declaration change that is not written back fails the tests. The inputs module is
generated rather than built at run time because Pulumi's schema analyzer reads each input's description from the
source text under it; it carries types and descriptions only, the rules stay in the declaration.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import yaml

from components.stack_config import KEY_IN_TEXT, declared_field

# The declaration itself, as components.stack_config loads it (runtime/ on sys.path): what this module renders.
from whatsapp_buffer.settings import REQUIRED, SETTINGS, Boolean, IdMap, Integer, OneOf, Ref, Setting, TextList

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT_FILE = PROJECT_DIR / "Pulumi.yaml"
README = PROJECT_DIR / "README.md"
ARGS_MODULE = Path(__file__).resolve().parent / "whatsapp_buffer_args.py"
SETTINGS_MODULE = Path(__file__).resolve().parent / "stack_settings.py"
README_SECTION = "## Configuration"
README_HEADER = "| key | type | default | meaning |\n|---|---|---|---|\n"
CONFIG_COMMENT = (
    "  # Generated from runtime/whatsapp_buffer/settings.py (python -m components.config_docs --write). Validated by\n"
    "  # components/stack_config.py: a bad value stops `pulumi preview` naming key, value and allowed range.\n"
)


def pulumi_type(setting: Setting) -> str | None:
    """The key's `type` in Pulumi.yaml; None for an IdMap, which is declared untyped: the CLI checks only typed keys
    (pulumi/pulumi sdk/go/common/workspace/config.go, `IsExplicitlyTyped`), and `string` would refuse a map written in
    the stack file (`ValidateConfigValue`: `value.(string)`) while `object` would refuse the same map set as JSON
    text, so untyped takes both and components/stack_config.py validates it."""
    rule = setting.rule
    if isinstance(rule, IdMap):
        return None
    if isinstance(rule, Integer) or (isinstance(rule, OneOf) and isinstance(rule.allowed[0], int)):
        return "integer"
    return "boolean" if isinstance(rule, Boolean) else "string"


def pulumi_default(setting: Setting) -> Any:
    """What Pulumi.yaml declares: the fixed default, or the rule's `derived` value for a default derived from another
    key (the CLI passes Pulumi.yaml's default on as if the stack had set it)."""
    if setting.default is None or setting.default == ():
        return ""
    if isinstance(setting.rule, Integer) and setting.rule.derived is not None:
        return setting.rule.derived
    return setting.default


def pulumi_description(setting: Setting) -> str:
    allowed = "" if isinstance(setting.rule, Boolean) else f" Allowed: {setting.rule.label}."
    return f"{setting.description}{allowed}{' Required.' if setting.default is REQUIRED else ''}"


def pulumi_schema(setting: Setting) -> dict[str, Any]:
    kind = pulumi_type(setting)
    schema: dict[str, Any] = {} if kind is None else {"type": kind}
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
    elif isinstance(setting.rule, Integer) and isinstance(setting.rule.low, Ref):
        default = f"{setting.default}, at least {setting.rule.low.key}"
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


def arg_type(setting: Setting) -> str:
    """The input's annotation in WhatsAppBufferArgs (plain values: they shape resources, so they must be known)."""
    if isinstance(setting.rule, IdMap):
        kind = "dict[str, str]"
    else:
        kind = {"integer": "int", "boolean": "bool", "string": "str"}[pulumi_type(setting) or "string"]
        kind = "list[str]" if isinstance(setting.rule, TextList) else kind
    return kind if setting.default is REQUIRED else f"NotRequired[{kind}]"


def arg_description(setting: Setting) -> str:
    """The input's docstring: the declaration's description, what is allowed and the default."""
    default = readme_row(setting)[2]
    shown = "" if setting.default is REQUIRED else f" Default: {'empty' if default == 'empty' else default}."
    # The component's inputs are snake_case: "Allowed: buffer_seconds–900", not the config key.
    return KEY_IN_TEXT.sub(lambda match: declared_field(match[1]), pulumi_description(setting) + shown)


def _with_body(module: Path, class_line: str, body: list[str]) -> str:
    """`module` with what follows its class's docstring replaced by `body`: the head (module docstring, imports, the
    class line and docstring) is written by hand, as Pulumi.yaml and the README are around what this module writes."""
    text = module.read_text()
    head = re.compile(rf'^{re.escape(class_line)}\n    """.*?"""\n\n', flags=re.MULTILINE | re.DOTALL).search(text)
    if head is None:
        raise ValueError(f"{module.name} has no {class_line} with a docstring")
    return text[: head.end()] + "".join(body)


def render_args_module() -> str:
    lines: list[str] = []
    for setting in SETTINGS:
        description = arg_description(setting)
        if '"""' in description or "\\" in description:
            raise ValueError(f"{setting.key}: the description cannot be written as a docstring")
        lines.append(f"    {setting.field}: {arg_type(setting)}\n")
        lines.append(f'    """{description}"""\n')
    return _with_body(ARGS_MODULE, "class WhatsAppBufferArgs(TypedDict):", lines)


def settings_type(setting: Setting) -> str:
    """The field's annotation in StackSettings: what `parse_settings` returns for the key."""
    rule = setting.rule
    if isinstance(rule, Integer):
        return "int"
    if isinstance(rule, Boolean):
        return "bool"
    if isinstance(rule, OneOf):
        return type(rule.allowed[0]).__name__
    if isinstance(rule, TextList):
        return "tuple[str, ...]"
    if isinstance(rule, IdMap):
        return "tuple[tuple[str, str], ...]"
    return "str | None" if setting.default is None else "str"


def _literal(value: Any) -> str:
    """`value` as Python source in ruff's format (double quotes, `("a",)` for a one-item tuple)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal(item) for item in value) + ("," if len(value) == 1 else "") + ")"
    if value is None or isinstance(value, bool | int):
        return repr(value)
    raise ValueError(f"{value!r} cannot be written as a default")


def _as_arg(setting: Setting) -> str:
    """The field as the component's input: a map for an IdMap's pairs, a list for a TextList's tuple."""
    value = f"self.{setting.field}"
    if isinstance(setting.rule, IdMap):
        return f"dict({value})"
    return f"list({value})" if isinstance(setting.rule, TextList) else value


def render_settings_module() -> str:
    """StackSettings as a frozen dataclass: required keys first (a dataclass needs them before the defaulted ones);
    `as_args` hands the values on as WhatsAppBuffer's typed inputs, an unset optional text left out."""
    lines: list[str] = []
    for setting in sorted(SETTINGS, key=lambda s: s.default is not REQUIRED):
        default = "" if setting.default is REQUIRED else f" = {_literal(setting.default)}"
        lines.append(f"    {setting.field}: {settings_type(setting)}{default}\n")
    lines.append(
        "\n    def as_args(self) -> WhatsAppBufferArgs:\n"
        '        """These settings as a WhatsAppBuffer\'s inputs, the same types (`settings_from_args` takes them back)."""\n'
        "        args = WhatsAppBufferArgs(\n"
    )
    unset = [s for s in SETTINGS if s.default is None]
    lines.extend(f"            {s.field}={_as_arg(s)},\n" for s in SETTINGS if s not in unset)
    lines.append("        )\n")
    for setting in unset:
        lines.append(f"        if self.{setting.field} is not None:\n")
        lines.append(f'            args["{setting.field}"] = self.{setting.field}\n')
    lines.append("        return args\n")
    return _with_body(SETTINGS_MODULE, "class StackSettings:", lines)


def write() -> None:
    ARGS_MODULE.write_text(render_args_module())
    SETTINGS_MODULE.write_text(render_settings_module())
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
    parser.add_argument(
        "--write",
        action="store_true",
        help="rewrite Pulumi.yaml's config block, README's table, the component's inputs and the typed settings",
    )
    if parser.parse_args(argv).write:
        write()
    else:
        print(render_config_block())
        print(render_readme_table())
        print(render_args_module())
        print(render_settings_module())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
