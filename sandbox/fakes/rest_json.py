"""The AWS rest-json wire protocol, server side, driven by botocore's service models.

Routes, request parsing and response shaping come from the same models the real clients are generated from, so an
unmodified botocore client pointed at the fake sends exactly what it would send to AWS and the fake reads it the
way AWS would: method + `requestUri`, members located in the URI, query string or headers (`X-Amz-Bearer`), the
rest in a JSON body with blobs base64-encoded.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

from sandbox.fakes.constraints import dialect, summary, violations

_LABEL = re.compile(r"\{([^}]+?)(\+?)\}")


def model_error_status(model: ServiceModel, code: str) -> int:
    """The HTTP status `model` gives error `code` (`error.httpStatusCode`; 400 when the model does not know it)."""
    try:
        shape = model.shape_for(code)
    except Exception:
        return 400
    return int(shape.metadata.get("error", {}).get("httpStatusCode", 400))


def validation_error(operation: OperationModel, codes: tuple[str, ...]) -> str:
    """The first of `codes` (a service's names for invalid input, preferred first) that `operation`'s model lists
    among its errors (the first when it lists none of them)."""
    listed = {shape.name for shape in operation.error_shapes}
    return next((code for code in codes if code in listed), codes[0])


class ApiError(Exception):
    """A rest-json error answer: HTTP status, `x-amzn-ErrorType` header and a JSON body with `message`."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class Headers(Protocol):
    """A request's headers: a mapping, or the `email.message.Message` http.server parses them into, whose `get`
    ignores the name's case as HTTP does."""

    def get(self, name: str, /) -> str | None: ...

    def items(self) -> Iterable[tuple[str, str]]: ...


@dataclass(frozen=True)
class Route:
    service: str
    operation: OperationModel
    method: str
    pattern: re.Pattern[str]
    labels: tuple[str, ...]
    required_query: tuple[tuple[str, str], ...]
    literal_chars: int
    """How much of the URI is fixed text: the more specific route wins when several match."""


@dataclass(frozen=True)
class Request:
    service: str
    operation: OperationModel
    params: dict[str, Any]


def _compile(service: str, operation: OperationModel) -> Route:
    path, _, query = operation.http["requestUri"].partition("?")
    labels: list[str] = []
    regex = ""
    last = 0
    for match in _LABEL.finditer(path):
        regex += re.escape(path[last : match.start()])
        labels.append(match.group(1))
        regex += "(.+)" if match.group(2) else "([^/]+)"
        last = match.end()
    regex += re.escape(path[last:])
    required_query = tuple(
        (name, value[0] if value else "") for name, value in parse_qs(query, keep_blank_values=True).items()
    )
    return Route(
        service=service,
        operation=operation,
        method=operation.http["method"].upper(),
        pattern=re.compile(f"^{regex}/?$"),
        labels=tuple(labels),
        required_query=required_query,
        literal_chars=len(_LABEL.sub("", path)) + len(query),
    )


def _first_segment(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0]


@functools.cache
def _routing(services: tuple[str, ...]) -> tuple[dict[str, ServiceModel], dict[str, list[Route]]]:
    """The services' models and their routes by first path segment, built once per process from botocore's models
    (they do not change while it runs; each fake the tests start would otherwise parse them again)."""
    session = botocore.session.get_session()
    models = {name: session.get_service_model(name) for name in services}
    routes: dict[str, list[Route]] = {}
    owner: dict[str, str] = {}
    for name, model in models.items():
        for operation_name in model.operation_names:
            route = _compile(name, model.operation_model(operation_name))
            segment = _first_segment(route.operation.http["requestUri"].partition("?")[0])
            if "{" in segment or owner.setdefault(segment, name) != name:
                raise ValueError(
                    f"{name}.{operation_name} cannot share an endpoint: /{segment} is also used by {owner[segment]}"
                )
            routes.setdefault(segment, []).append(route)
    for listed in routes.values():
        listed.sort(key=lambda r: -r.literal_chars)
    return models, routes


class RestJsonRouter:
    """Every operation of the given services, routed as botocore sends them, on one HTTP endpoint.

    Several services share one port only when their URIs cannot be confused: each first path segment must belong
    to one service. The constructor checks that and raises `ValueError` naming the clash.
    """

    def __init__(self, services: Iterable[str]) -> None:
        self.models, self._routes = _routing(tuple(services))

    def operation(self, service: str, name: str) -> OperationModel:
        return self.models[service].operation_model(name)

    def error_status(self, service: str, code: str) -> int:
        """The HTTP status the service's model gives error `code` (400 when the model does not know it)."""
        return model_error_status(self.models[service], code)

    def find_service(self, operation_name: str) -> str:
        matches = [name for name, model in self.models.items() if operation_name in model.operation_names]
        if len(matches) != 1:
            raise ValueError(f"operation {operation_name!r} is in {matches or 'no service'}; say service:Operation")
        return matches[0]

    def match(self, method: str, target: str) -> tuple[Route, dict[str, str], dict[str, list[str]]] | None:
        split = urlsplit(target)
        query = parse_qs(split.query, keep_blank_values=True)
        for route in self._routes.get(_first_segment(split.path), []):
            if route.method != method.upper():
                continue
            found = route.pattern.match(split.path)
            if not found:
                continue
            if any(query.get(name, [None])[0] != value for name, value in route.required_query if value):
                continue
            if any(name not in query for name, _ in route.required_query):
                continue
            labels = {label: unquote(value) for label, value in zip(route.labels, found.groups(), strict=True)}
            return route, labels, query
        return None

    def parse(
        self,
        route: Route,
        labels: Mapping[str, str],
        query: Mapping[str, list[str]],
        headers: Headers,
        body: bytes,
        stand_in: Callable[[str], str] | None = None,
    ) -> dict[str, Any]:
        """The operation's input as botocore's caller wrote it (member names; blobs as bytes, timestamps as datetimes),
        refused (`InvalidInput`) when a required member is missing or a member breaks its shape's constraints.
        `stand_in`: the string AWS would receive for one that only the sandbox sends (its loopback S3's URLs)."""
        shape = route.operation.input_shape
        if shape is None:
            return {}
        params: dict[str, Any] = {}
        payload_member = shape.serialization.get("payload")
        body_members: dict[str, Shape] = {}
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire_name = member.serialization.get("name", name)
            if location == "uri":
                if wire_name in labels:
                    params[name] = _scalar(member, labels[wire_name])
            elif location == "querystring":
                if member.type_name == "map":
                    params[name] = {k: v if member.value.type_name == "list" else v[0] for k, v in query.items()}
                elif wire_name in query:
                    values = query[wire_name]
                    params[name] = (
                        [_scalar(member.member, v) for v in values]
                        if member.type_name == "list"
                        else _scalar(member, values[0])
                    )
            elif location == "header":
                value = headers.get(wire_name)
                if value is not None:
                    params[name] = _scalar(member, value)
            elif location == "headers":
                prefix = wire_name.lower()
                found = {k[len(prefix) :]: v for k, v in headers.items() if k.lower().startswith(prefix)}
                if found:
                    params[name] = found
            elif name == payload_member:
                if member.type_name in ("blob", "string"):
                    params[name] = body if member.type_name == "blob" else body.decode("utf-8")
                elif body:
                    params[name] = _decode(member, _load_json(body))
            else:
                body_members[name] = member
        if body_members and body and not payload_member:
            document = _load_json(body)
            if not isinstance(document, dict):
                raise ApiError("SerializationException", "the request body is not a JSON object")
            for name, member in body_members.items():
                wire_name = member.serialization.get("name", name)
                if wire_name in document and document[wire_name] is not None:
                    params[name] = _decode(member, document[wire_name])
        missing = [name for name in shape.required_members if name not in params]
        if missing:
            raise MissingParameters(missing)
        spoken = dialect(route.operation.service_model.service_name)
        broken = list(violations(shape, params, stand_in=stand_in, dialect=spoken))
        if broken:
            raise ConstraintViolations(broken)
        return params

    def response(self, route: Route, output: Mapping[str, Any]) -> tuple[int, dict[str, str], bytes]:
        operation = route.operation
        status = int(operation.http.get("responseCode", 200))
        shape = operation.output_shape
        headers: dict[str, str] = {"Content-Type": "application/json"}
        if shape is None:
            return status, headers, b"{}"
        document: dict[str, Any] = {}
        payload_member = shape.serialization.get("payload")
        raw_payload: bytes | None = None
        for name, member in shape.members.items():
            if name not in output or output[name] is None:
                continue
            value = output[name]
            location = member.serialization.get("location")
            wire_name = member.serialization.get("name", name)
            if location == "header":
                headers[wire_name] = _header_value(member, value)
            elif location == "statusCode":
                status = int(value)
            elif name == payload_member:
                if member.type_name in ("blob", "string"):
                    raw_payload = value if isinstance(value, bytes) else str(value).encode("utf-8")
                else:
                    raw_payload = json.dumps(_encode(member, value)).encode("utf-8")
            else:
                document[wire_name] = _encode(member, value)
        if raw_payload is not None:
            return status, headers, raw_payload
        return status, headers, json.dumps(document, ensure_ascii=False).encode("utf-8")


def error_response(error: ApiError, status: int) -> tuple[int, dict[str, str], bytes]:
    """How every rest-json service reports an error; botocore reads the code from `x-amzn-ErrorType`."""
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": error.code}
    return status, headers, json.dumps({"message": error.message}).encode("utf-8")


class InvalidInput(ApiError):
    """The input breaks the operation's model; each service names its own validation error, so the caller re-labels
    it."""


class MissingParameters(InvalidInput):
    """Required members are absent."""

    def __init__(self, names: list[str]) -> None:
        super().__init__("ValidationException", f"missing required parameters: {', '.join(names)}")
        self.names = names


class ConstraintViolations(InvalidInput):
    """Members break their shapes' `min`/`max`, `enum` or `pattern` (AWS's wording: "N validation errors detected")."""

    def __init__(self, broken: list[str]) -> None:
        super().__init__("ValidationException", summary(broken))
        self.broken = broken


def _load_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError("SerializationException", f"the request body is not JSON: {exc}") from exc


def _scalar(shape: Shape, raw: str) -> Any:
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(raw)
        if kind in ("float", "double"):
            return float(raw)
        if kind == "boolean":
            return raw.lower() == "true"
        if kind == "timestamp":
            return _timestamp(raw)
        if kind == "blob":
            return base64.b64decode(raw)
    except (ValueError, binascii.Error) as exc:
        raise ApiError("SerializationException", f"{shape.name}: {exc}") from exc
    return raw


def _decode(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise ApiError("SerializationException", f"{shape.name} must be a JSON object")
        result = {}
        for name, member in shape.members.items():
            wire_name = member.serialization.get("name", name)
            if wire_name in value and value[wire_name] is not None:
                result[name] = _decode(member, value[wire_name])
        return result
    if kind == "list":
        return [_decode(shape.member, item) for item in value]
    if kind == "map":
        return {key: _decode(shape.value, item) for key, item in value.items()}
    if kind == "blob":
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, TypeError) as exc:
            raise ApiError("SerializationException", f"{shape.name} is not base64: {exc}") from exc
    if kind == "timestamp":
        return _timestamp(value)
    return value


def _timestamp(value: Any) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    text = str(value)
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _encode(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return {
            member.serialization.get("name", name): _encode(member, value[name])
            for name, member in shape.members.items()
            if value.get(name) is not None
        }
    if kind == "list":
        return [_encode(shape.member, item) for item in value]
    if kind == "map":
        return {key: _encode(shape.value, item) for key, item in value.items()}
    if kind == "blob":
        return base64.b64encode(value).decode("ascii")
    if kind == "timestamp":
        moment = value if isinstance(value, datetime) else datetime.fromtimestamp(float(value), UTC)
        if shape.serialization.get("timestampFormat") == "iso8601":
            return moment.isoformat().replace("+00:00", "Z")
        return moment.timestamp()
    return value


def _header_value(shape: Shape, value: Any) -> str:
    if shape.type_name == "boolean":
        return "true" if value else "false"
    if shape.type_name == "timestamp":
        moment = value if isinstance(value, datetime) else datetime.fromtimestamp(float(value), UTC)
        return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return str(value)
