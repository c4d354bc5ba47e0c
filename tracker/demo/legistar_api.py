"""A Legistar Web API on the loopback server: recorded records, answered the way Legistar answers.

Mounted on a `ReplayServer` (`server.mount("/v1", api)`), it serves `/{client}/events` with real
OData `$filter` / `$orderby` / `$top` / `$skip` evaluation (the subset Legistar clients send:
comparisons of fields with `datetime'...'`, numbers, strings and null, joined by and / or /
parentheses), `/events/{id}`, `/events/{id}/eventitems`, `/matters/{id}`, `/matters/{id}/histories`.
A filter it cannot read is a 400 with a message, as Legistar gives. JSON is sent only to requests
that ask for it (Legistar sends XML otherwise). Tests and benchmarks change the records between
crawls to make later states; whatever they derive is theirs to label.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tracker.demo.replay import Headers, prefers_json

MAX_TOP = 1000
_TOKEN = re.compile(r"\s*(\(|\)|datetime'[^']*'|'(?:[^']|'')*'|-?\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*)")
_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}


class ODataError(ValueError):
    pass


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise ODataError(f"Syntax error at position {pos} in '{text}'.")
        out.append(match.group(1))
        pos = match.end()
    return out


def _value(token: str) -> Any:
    if token.startswith("datetime'"):
        try:
            return datetime.fromisoformat(token[9:-1])
        except ValueError:
            raise ODataError(f"Unrecognized 'Edm.DateTime' literal '{token}'.") from None
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    if token == "null":
        return None
    try:
        return float(token) if "." in token else int(token)
    except ValueError:
        raise ODataError(f"Unknown literal '{token}'.") from None


def _field(record: dict[str, Any], name: str) -> Any:
    if name not in record:
        raise ODataError(f"Could not find a property named '{name}'.")
    value = record[name]
    if isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d", value):
        return datetime.fromisoformat(value[:19])
    return value


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if left is None or right is None:
        return False  # OData: ordering against null is false
    try:
        return {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[op]
    except TypeError:
        return False  # a record whose field is not of the compared type (a broken record) does not match


def compile_filter(text: str) -> Any:
    """A predicate over one record for an OData `$filter` string (raises ODataError)."""
    tokens = _tokens(text)
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise ODataError(f"Expression expected at the end of '{text}'.")
        pos += 1
        return tokens[pos - 1]

    def expr() -> Any:
        parts = [term()]
        while peek() == "or":
            take()
            parts.append(term())
        return lambda r: any(p(r) for p in parts)

    def term() -> Any:
        parts = [factor()]
        while peek() == "and":
            take()
            parts.append(factor())
        return lambda r: all(p(r) for p in parts)

    def factor() -> Any:
        if peek() == "(":
            take()
            inner = expr()
            if take() != ")":
                raise ODataError(f"')' expected in '{text}'.")
            return inner
        name, op, literal = take(), take(), take()
        if op not in _OPS:
            raise ODataError(f"Unknown operator '{op}' in '{text}'.")
        right = _value(literal)
        return lambda r: _compare(_field(r, name), op, right)

    predicate = expr()
    if pos != len(tokens):
        raise ODataError(f"Syntax error at '{tokens[pos]}' in '{text}'.")
    return predicate


@dataclass
class LegistarClient:
    """One Legistar client's records, as the tests or the benchmark set them."""

    events: dict[int, dict[str, Any]] = field(default_factory=dict)
    eventitems: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    matters: dict[int, dict[str, Any]] = field(default_factory=dict)
    histories: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    officerecords: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # by body id
    persons: dict[int, dict[str, Any]] = field(default_factory=dict)  # a person not here answers 404
    no_members: set[int] = field(default_factory=set)  # bodies whose officerecords answer 404
    token: str | None = None  # when set, requests without ?token= are refused

    def add_events(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self.events[int(event["EventId"])] = event


class LegistarApi:
    """Callable for `ReplayServer.mount`: answers `/{client}/...` paths under the mount prefix."""

    def __init__(self, prefix: str = "/v1") -> None:
        self.prefix = prefix.rstrip("/")
        self.clients: dict[str, LegistarClient] = {}

    def client(self, name: str) -> LegistarClient:
        return self.clients.setdefault(name, LegistarClient())

    def __call__(self, path: str, query: dict[str, str], headers: Headers) -> tuple[int, bytes, str]:
        if not prefers_json(headers.get("Accept", "")):
            return 406, b"<Error>This loopback Legistar answers JSON only: send Accept: application/json</Error>", \
                "application/xml"
        parts = path[len(self.prefix):].strip("/").split("/")
        client = self.clients.get(parts[0]) if parts and parts[0] else None
        if client is None:
            return _error(404, "No such client.")
        if client.token and query.get("token") != client.token:
            return _error(403, "Token is required.")
        rest = parts[1:]
        try:
            if rest == ["events"]:
                return _ok(_listing(list(client.events.values()), query, "EventId"))
            if len(rest) >= 2 and rest[0] == "events" and rest[1].isdigit():
                event_id = int(rest[1])
                if len(rest) == 2 and event_id in client.events:
                    return _ok(client.events[event_id])
                if rest[2:] == ["eventitems"] and event_id in client.events:
                    # each row names its meeting, as Legistar's do (the recorded rows, derived from
                    # another meeting's, are served as this one's)
                    # in their recorded order unless asked otherwise, at most 1,000 an answer
                    rows = [{**row, "EventItemEventId": event_id} if isinstance(row, dict) else row
                            for row in client.eventitems.get(event_id, [])]
                    return _ok(_listing(rows, query, ""))
            if len(rest) >= 2 and rest[0] == "matters" and rest[1].isdigit():
                matter_id = int(rest[1])
                if len(rest) == 2 and matter_id in client.matters:
                    return _ok(client.matters[matter_id])
                if rest[2:] == ["histories"] and matter_id in client.matters:
                    return _ok(client.histories.get(matter_id, []))
            if (len(rest) == 3 and rest[0] == "bodies" and rest[1].isdigit() and rest[2] == "officerecords"
                    and int(rest[1]) not in client.no_members):
                return _ok(_listing(client.officerecords.get(int(rest[1]), []), query, "OfficeRecordId"))
            if len(rest) == 2 and rest[0] == "persons" and rest[1].isdigit() and int(rest[1]) in client.persons:
                return _ok(client.persons[int(rest[1])])
        except ODataError as exc:
            return _error(400, str(exc))
        return _error(404, "No HTTP resource was found that matches the request URI.")


def _listing(records: list[dict[str, Any]], query: dict[str, str], default_order: str) -> list[dict[str, Any]]:
    if query.get("$filter"):
        predicate = compile_filter(query["$filter"])
        records = [r for r in records if predicate(r)]
    order = (query.get("$orderby") or default_order).split()
    if order:
        records = sorted(records, key=lambda r: _order_key(r.get(order[0]) if isinstance(r, dict) else None),
                         reverse=len(order) > 1 and order[1] == "desc")
    try:
        skip = int(query.get("$skip", 0))
        top = min(int(query.get("$top", MAX_TOP)), MAX_TOP)
    except ValueError:
        raise ODataError("$top and $skip must be integers.") from None
    return records[skip:skip + top]


def _order_key(value: Any) -> tuple[int, float, str]:
    """A field's place in `$orderby`: numbers in order, then text, then nothing (a broken row, a
    field of the wrong type: the loopback answers what a test sends it, as the service would)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return 0, float(value), ""
    return (2, 0.0, "") if value is None else (1, 0.0, str(value))


def _ok(data: Any) -> tuple[int, bytes, str]:
    return 200, json.dumps(data).encode(), "application/json; charset=utf-8"


def _error(status: int, message: str) -> tuple[int, bytes, str]:
    return status, json.dumps({"Message": message}).encode(), "application/json; charset=utf-8"
