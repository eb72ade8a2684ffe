"""The CloudWatch metric names the Lambda code emits, read from its source (no import, no AWS).

A metric is emitted by a call to Powertools' `add_metric(name=...)` or `single_metric(name=...)`, or by a call to a
function of the runtime that passes one of its own parameters on as that name (`observability.count(name)`). The name
argument of every such call is resolved to the strings it can be: a literal, either branch of `a if c else b`, or the
loop variable of a `for name, value in ((literal, ...), ...)`. A name argument this cannot resolve is an error, so a
new way of emitting metrics fails the docs test instead of leaving a metric out of the list.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

POWERTOOLS_EMITTERS = {"add_metric": 0, "single_metric": 0}
"""Powertools' calls that emit a metric, with the position of `name` (also accepted as a keyword)."""


class UnresolvedMetricName(ValueError):
    """A metric call whose name this reader cannot turn into strings."""


def emitted_metric_names(package: Path) -> set[str]:
    """Every metric name the modules under `package` emit."""
    modules = {path: ast.parse(path.read_text(), filename=str(path)) for path in sorted(package.rglob("*.py"))}
    emitters = _emitters(modules, package)
    names: set[str] = set()
    for path, tree in modules.items():
        local = _visible_emitters(tree, emitters, path, package)
        for call, scope in _calls(tree):
            position = _emitter_position(call, local)
            if position is None:
                continue
            argument = _name_argument(call, position)
            if argument is None:
                continue
            if _is_forwarded_parameter(argument, scope):
                continue
            names |= _strings(argument, scope, f"{path}:{call.lineno}")
    return names


def _emitters(modules: dict[Path, ast.Module], package: Path) -> dict[tuple[Path, str], int]:
    """(module, function name) -> position of its metric-name parameter, for every function that passes a parameter
    on as the name of an emitting call (to a fixed point: a wrapper of a wrapper counts too, in whichever module)."""
    found: dict[tuple[Path, str], int] = {}
    changed = True
    while changed:
        changed = False
        for path, tree in modules.items():
            local = _visible_emitters(tree, found, path, package)
            for function in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
                if (path, function.name) in found:
                    continue
                parameters = [a.arg for a in function.args.args]
                for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                    position = _emitter_position(call, local)
                    argument = None if position is None else _name_argument(call, position)
                    if isinstance(argument, ast.Name) and argument.id in parameters:
                        found[(path, function.name)] = parameters.index(argument.id)
                        changed = True
                        break
    return found


def _visible_emitters(
    tree: ast.Module, emitters: dict[tuple[Path, str], int], path: Path, package: Path
) -> dict[str, int]:
    """The emitting functions a module can call by name: Powertools', its own, and those it imports from the
    package (`from whatsapp_buffer.observability import count`)."""
    visible = {**POWERTOOLS_EMITTERS, **{name: pos for (where, name), pos in emitters.items() if where == path}}
    for node in (n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module):
        parts = node.module.split(".")
        source = package.joinpath(*parts[1:]).with_suffix(".py") if parts[0] == package.name else None
        for alias in node.names:
            if source is not None and (source, alias.name) in emitters:
                visible[alias.asname or alias.name] = emitters[(source, alias.name)]
    return visible


def _calls(tree: ast.Module) -> Iterator[tuple[ast.Call, list[ast.AST]]]:
    """Every call with the chain of nodes enclosing it (outermost first), for resolving names."""

    def walk(node: ast.AST, scope: list[ast.AST]) -> Iterator[tuple[ast.Call, list[ast.AST]]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Call):
                yield child, scope
            yield from walk(child, [*scope, child])

    return walk(tree, [tree])


def _emitter_position(call: ast.Call, emitters: dict[str, int]) -> int | None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if isinstance(func, ast.Attribute) and name not in POWERTOOLS_EMITTERS:
        return None  # `x.count(...)` of something else (a list, a str) is no metric
    return emitters.get(name) if name is not None else None


def _name_argument(call: ast.Call, position: int) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == "name":
            return keyword.value
    return call.args[position] if len(call.args) > position else None


def _is_forwarded_parameter(argument: ast.expr, scope: list[ast.AST]) -> bool:
    """The call sits in an emitting wrapper and passes its parameter on: the wrapper's callers name the metric."""
    function = next((n for n in reversed(scope) if isinstance(n, ast.FunctionDef)), None)
    return (
        isinstance(argument, ast.Name)
        and function is not None
        and argument.id in [a.arg for a in function.args.args]
        and not _loop_binding(argument.id, scope)
    )


def _loop_binding(name: str, scope: list[ast.AST]) -> tuple[ast.For, int | None] | None:
    """The innermost `for` that binds `name` around the call, and its place in a tuple target (None: the target)."""
    for node in reversed(scope):
        if not isinstance(node, ast.For):
            continue
        if isinstance(node.target, ast.Name) and node.target.id == name:
            return node, None
        if isinstance(node.target, ast.Tuple):
            for index, element in enumerate(node.target.elts):
                if isinstance(element, ast.Name) and element.id == name:
                    return node, index
    return None


def _strings(expression: ast.expr, scope: list[ast.AST], where: str) -> set[str]:
    if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
        return {expression.value}
    if isinstance(expression, ast.IfExp):
        return _strings(expression.body, scope, where) | _strings(expression.orelse, scope, where)
    if isinstance(expression, ast.Name) and (binding := _loop_binding(expression.id, scope)) is not None:
        loop, index = binding
        if isinstance(loop.iter, (ast.Tuple, ast.List)):
            names: set[str] = set()
            for element in loop.iter.elts:
                item = element if index is None else _element(element, index, where)
                names |= _strings(item, scope, where)
            return names
    raise UnresolvedMetricName(f"{where}: cannot tell which metric name {ast.unparse(expression)!r} is")


def _element(node: ast.expr, index: int, where: str) -> ast.expr:
    if isinstance(node, (ast.Tuple, ast.List)) and len(node.elts) > index:
        return node.elts[index]
    raise UnresolvedMetricName(f"{where}: cannot read {ast.unparse(node)!r} as a tuple")
