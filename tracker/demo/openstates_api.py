"""An Open States API v3 on the loopback server: recorded records, answered the way its code answers.

Mounted on a `ReplayServer` (`server.mount("/", api)`, or under a prefix), it serves `/jurisdictions`,
`/bills`, `/bills/{state}/{session}/{identifier}` and `/people` from the recordings in
`tracker/demo/data/openstates/api/` (made by running the real API server; see SOURCES.md there), with
the rules of openstates/api-v3's own code (`api/auth.py`, `api/pagination.py`, `api/bills.py`,
`api/people.py`, `api/jurisdictions.py`), each checked against the recorded answers by the tests:

- the key: `X-API-KEY` (or `?apikey=`); none is a 403, an unknown one a 401; then the rate limit
  (rrl): every request counts, refused ones too, per calendar minute and per UTC day
  (free tier: 10 and 250); over it is a 429 `exceeded limit of 10/min: 11`, with no Retry-After;
- `include=` once per value (`include=actions,votes` is a 422, as FastAPI answers a list of enums);
- pagination: `per_page` 1..20 for bills (50 people, 52 jurisdictions; default 10, jurisdictions
  52) or a 400; a page past the last a 404 (`invalid page, must be in [1, N]`); an empty result is
  page 1 of 1;
- `updated_since` / `created_since` read by Python's `datetime.fromisoformat` (a space or a `T`;
  anything else a 400) and compared as instants with the bill's `updated_at` (the database column is
  a timestamp with zone; a naive value is UTC, the server's zone); `action_since` compared as text
  with `latest_action_date`, as the code does;
- `q`: a likely bill number (`\\w{1,3}\\s*\\d{1,5}` at the start) matches the identifier; otherwise a
  full-text search, approximated here as PostgreSQL's `websearch_to_tsquery('english', q)` reads it
  (words anywhere, "quoted phrases" adjacent, `or`, `-word`; a light stemmer) over the bill's title,
  abstracts and the text `source.json` records for it;
- `jurisdiction` as an abbreviation, an ocd-jurisdiction id or a state's name; `session` needs it.

Tests change the records between crawls (`load("later")`, `put_bill`, `touch`), change the limits and
the clock, and count requests in `requests` (the key is never kept, only whether it was right).
"""

from __future__ import annotations

import copy
import json
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracker.demo.replay import Headers

DATA = Path(__file__).parent / "data" / "openstates"
BILL_INCLUDES = ("sponsorships", "abstracts", "other_titles", "other_identifiers", "actions", "sources",
                 "documents", "versions", "votes", "related_bills")
PERSON_INCLUDES = ("other_names", "other_identifiers", "links", "sources", "offices")
JURISDICTION_INCLUDES = ("organizations", "legislative_sessions", "latest_runs")
SORTS = ("updated_asc", "updated_desc", "first_action_asc", "first_action_desc", "latest_action_asc",
         "latest_action_desc")
SIGNUP = "Login and visit https://openstates.org/account/profile/ for your API key."
_BILL_ID = re.compile(r"([A-Z]*)\s*0*([-\d]+)")
_MI_BILL_ID = re.compile(r"(SJR|HJR)\s*([A-Z]+)\s*$")
_LIKELY_BILL_ID = re.compile(r"\w{1,3}\s*\d{1,5}")
_WORD = re.compile(r"[a-z0-9]+")
# PostgreSQL's english stop words that matter for the phrases organizers search (a subset).
_STOP = frozenset(["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of", "on", "or", "that", "the", "this", "to", "was", "were", "will", "with"])

Answer = tuple[int, bytes, str]


class Refused(Exception):
    """An answer other than 200, as FastAPI gives it: `{"detail": ...}`."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(status, detail)
        self.status, self.detail = status, detail


@dataclass
class ApiRequest:
    """One request as the fake saw it (for tests to count). The key itself is never kept."""

    path: str
    params: list[tuple[str, str]]
    status: int
    key: str  # "valid", "wrong" or "none"
    time: float


@dataclass
class _Usage:
    minute: tuple[str, int] = ("", -1)
    minute_calls: int = 0
    day: str = ""
    day_calls: int = 0


@dataclass
class OpenStatesApi:
    """Callable for `ReplayServer.mount`. `keys` are the valid API keys; `per_minute` / `per_day`
    are the free tier's limits (set them low in tests); `clock` gives the epoch seconds the limits
    are counted in."""

    keys: set[str] = field(default_factory=lambda: {"test-key"})
    per_minute: int = 10
    per_day: int = 250
    prefix: str = ""
    clock: Callable[[], float] = time.time
    jurisdictions: list[dict[str, Any]] = field(default_factory=list)
    bills: dict[str, dict[str, Any]] = field(default_factory=dict)  # by ocd-bill id, every include present
    texts: dict[str, str] = field(default_factory=dict)  # by ocd-bill id: what `q` searches
    people: list[dict[str, Any]] = field(default_factory=list)  # every include present
    requests: list[ApiRequest] = field(default_factory=list)
    _usage: dict[str, _Usage] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- the records -----------------------------------------------------------------------------

    @classmethod
    def recorded(cls, state: str = "baseline", **options: Any) -> OpenStatesApi:
        """The API holding the recorded `baseline` (or `later`) state."""
        api = cls(**options)
        api.load(state)
        return api

    def load(self, state: str) -> None:
        """Replace every record with a recorded state (`baseline`, `later`)."""
        recorded = json.loads((DATA / "api" / f"{state}.json").read_text())
        source = json.loads((DATA / "source.json").read_text())
        texts = {(b["state"], b["session"], b["identifier"]): b for b in source["bills"]}
        with self._lock:
            self.jurisdictions = recorded["jurisdictions"]["results"]
            self.bills = {b["id"]: b for b in recorded["bills"]}
            self.people = [p for group in recorded["people"].values() for p in group]
            self.texts = {}
            for bill in recorded["bills"]:
                spec = texts.get((_abbr(bill["jurisdiction"]["id"]), bill["session"], bill["identifier"]))
                if spec:
                    self.texts[bill["id"]] = " ".join([*(a["abstract"] for a in spec["abstracts"]),
                                                        spec.get("text") or ""])

    def put_bill(self, bill: dict[str, Any], text: str | None = None) -> None:
        """Add or replace one bill (a full record, every include present)."""
        with self._lock:
            self.bills[bill["id"]] = bill
            if text is not None:
                self.texts[bill["id"]] = text

    def touch(self, state: str, latest_bill_update: str) -> None:
        """Move a state's `latest_bill_update` (`YYYY-MM-DDTHH:MM:SS`, as the API prints it)."""
        with self._lock:
            for jurisdiction in self.jurisdictions:
                if _abbr(jurisdiction["id"]) == state.lower():
                    jurisdiction["latest_bill_update"] = latest_bill_update
                    return
        raise KeyError(state)

    def count(self, path: str | None = None, status: int | None = None) -> int:
        """How many requests reached the API (path without the prefix), optionally by status."""
        return sum(1 for r in list(self.requests)
                   if (path is None or r.path == path) and (status is None or r.status == status))

    # -- answering -------------------------------------------------------------------------------

    def __call__(self, path: str, query: dict[str, str], headers: Headers) -> Answer:
        pairs: list[tuple[str, str]] = list(getattr(query, "pairs", query.items()))
        route = "/" + path[len(self.prefix):].strip("/")
        key = headers.get("X-API-KEY") or next((v for k, v in pairs if k == "apikey"), None)
        label = "none" if not key else ("valid" if key in self.keys else "wrong")
        try:
            self._authorize(key)
            body = self._route(route, pairs)
            status, data = 200, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        except Refused as refused:
            status = refused.status
            data = json.dumps({"detail": refused.detail}, ensure_ascii=False, separators=(",", ":")).encode()
        with self._lock:
            self.requests.append(ApiRequest(route, [(k, v) for k, v in pairs if k != "apikey"], status, label,
                                            self.clock()))
        return status, data, "application/json"

    def _authorize(self, key: str | None) -> None:
        if not key:
            raise Refused(403, f"Must provide API Key as ?apikey or X-API-KEY. {SIGNUP}")
        if key not in self.keys:
            raise Refused(401, f"Invalid API Key. {SIGNUP}")
        now = datetime.fromtimestamp(self.clock(), UTC)
        with self._lock:
            usage = self._usage.setdefault(key, _Usage())
            minute = (now.strftime("%Y%m%d%H"), now.minute)
            if usage.minute != minute:
                usage.minute, usage.minute_calls = minute, 0
            day = now.strftime("%Y%m%d")
            if usage.day != day:
                usage.day, usage.day_calls = day, 0
            usage.minute_calls += 1
            usage.day_calls += 1
            minute_calls, day_calls = usage.minute_calls, usage.day_calls
        if minute_calls > self.per_minute:
            raise Refused(429, f"exceeded limit of {self.per_minute}/min: {minute_calls}")
        if day_calls > self.per_day:
            raise Refused(429, f"exceeded limit of {self.per_day}/day: {day_calls}")

    def _route(self, route: str, pairs: list[tuple[str, str]]) -> Any:
        parts = route.strip("/").split("/")
        if route == "/jurisdictions":
            return self._jurisdictions(pairs)
        if route == "/bills":
            return self._bills(pairs)
        if parts[0] == "bills" and len(parts) == 4:
            return self._bill_detail(parts[1], parts[2], parts[3], pairs)
        if route == "/people":
            return self._people(pairs)
        raise Refused(404, "Not Found")

    # -- /jurisdictions ----------------------------------------------------------------------------

    def _jurisdictions(self, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        includes = _includes(pairs, JURISDICTION_INCLUDES)
        page, per_page = _paging(pairs, default_per_page=52)
        classification = _one(pairs, "classification")
        if classification and classification not in ("state", "municipality", "country"):
            raise Refused(422, [_enum_error(("query", "classification"), ("state", "municipality", "country"))])
        with self._lock:
            rows = [j for j in self.jurisdictions if not classification or j["classification"] == classification]
        rows.sort(key=lambda j: j["name"])
        return _paginate(rows, page, per_page, 52, lambda j: _strip(j, JURISDICTION_INCLUDES, includes))

    # -- /bills ------------------------------------------------------------------------------------

    def _bills(self, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        includes = _includes(pairs, BILL_INCLUDES)
        sort = _one(pairs, "sort") or "updated_desc"
        if sort not in SORTS:
            raise Refused(422, [_enum_error(("query", "sort"), SORTS)])
        page, per_page = _paging(pairs)
        jurisdiction, session = _one(pairs, "jurisdiction"), _one(pairs, "session")
        with self._lock:
            rows = list(self.bills.values())
            texts = dict(self.texts)
        rows = _sorted_bills(rows, sort)
        if jurisdiction:
            rows = [b for b in rows if _jurisdiction_matches(b["jurisdiction"], jurisdiction)]
        if session:
            if not jurisdiction:
                raise Refused(400, "filtering by session requires a jurisdiction parameter as well")
            rows = [b for b in rows if b["session"] == session]
        if chamber := _one(pairs, "chamber"):
            rows = [b for b in rows if b["from_organization"]["classification"] == chamber]
        identifiers = [v for k, v in pairs if k == "identifier"]
        if identifiers:
            if len(identifiers) > 20:
                raise Refused(400, "can only provide up to 20 identifiers in one request")
            wanted = {fix_bill_id(i).upper() for i in identifiers}
            rows = [b for b in rows if b["identifier"] in wanted]
        if classification := _one(pairs, "classification"):
            rows = [b for b in rows if classification in (b.get("classification") or [])]
        for name, column in (("updated_since", "updated_at"), ("created_since", "created_at")):
            if value := _one(pairs, name):
                since = _instant(value)
                rows = [b for b in rows if _instant(b[column]) >= since]
        if action_since := _one(pairs, "action_since"):
            rows = [b for b in rows if (b.get("latest_action_date") or "") >= action_since]  # text, as the code
        if q := _one(pairs, "q"):
            if _LIKELY_BILL_ID.match(q):
                rows = [b for b in rows if b["identifier"].upper() == fix_bill_id(q).upper()]
            else:
                search = compile_search(q)
                rows = [b for b in rows if search(search_document(b, texts.get(b["id"], "")))]
        if not q and not jurisdiction:
            raise Refused(400, "either 'jurisdiction' or 'q' required")
        return _paginate(rows, page, per_page, 20, lambda b: _strip(b, BILL_INCLUDES, includes))

    def _bill_detail(self, jurisdiction: str, session: str, identifier: str,
                     pairs: list[tuple[str, str]]) -> dict[str, Any]:
        includes = _includes(pairs, BILL_INCLUDES)
        wanted = fix_bill_id(identifier).upper()
        with self._lock:
            found = [b for b in self.bills.values() if b["identifier"] == wanted and b["session"] == session
                     and _jurisdiction_matches(b["jurisdiction"], jurisdiction)]
        if not found:
            raise Refused(404, "No such Bill.")
        return _strip(found[0], BILL_INCLUDES, includes)

    # -- /people -----------------------------------------------------------------------------------

    def _people(self, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        includes = _includes(pairs, PERSON_INCLUDES)
        page, per_page = _paging(pairs)
        jurisdiction, name = _one(pairs, "jurisdiction"), _one(pairs, "name")
        ids = [v for k, v in pairs if k == "id"]
        with self._lock:
            rows = sorted(self.people, key=lambda p: p["name"])
        if jurisdiction:
            rows = [p for p in rows if _jurisdiction_matches(p["jurisdiction"], jurisdiction) and p.get("current_role")]
        if name:
            rows = [p for p in rows if name.lower() in p["name"].lower()]
        if ids:
            rows = [p for p in rows if p["id"] in ids]
        if org := _one(pairs, "org_classification"):
            rows = [p for p in rows if (p.get("current_role") or {}).get("org_classification") == org]
        if district := _one(pairs, "district"):
            if not jurisdiction:
                raise Refused(400, "cannot specify 'district' without 'jurisdiction'")
            rows = [p for p in rows if str((p.get("current_role") or {}).get("district")) == district]
        if not (jurisdiction or name or ids):
            raise Refused(400, "either 'jurisdiction', 'name', or 'id' is required")
        return _paginate(rows, page, per_page, 50, lambda p: _strip(p, PERSON_INCLUDES, includes))


# -- the API's rules, one function each -------------------------------------------------------------


def fix_bill_id(text: str) -> str:
    """openstates-core's normalization of a bill number (`utils/transformers.py`): upper case, one
    space between the letters and the number, leading zeros dropped ("sb217" -> "SB 217", "HB 0004"
    -> "HB 4"; "S.2963" -> "S. 2963", whose dot it keeps)."""
    text = text.upper()
    if _MI_BILL_ID.match(text):
        return _MI_BILL_ID.sub(r"\1 \2", text, count=1).strip()
    return _BILL_ID.sub(r"\1 \2", text, count=1).strip()


def _abbr(jurisdiction_id: str) -> str:
    match = re.search(r"/state:([a-z]{2})/", jurisdiction_id)
    return match.group(1) if match else ""


def _jurisdiction_matches(jurisdiction: dict[str, Any], wanted: str) -> bool:
    if len(wanted) == 2:
        return _abbr(jurisdiction["id"]) == wanted.lower()
    if wanted.startswith("ocd-jurisdiction"):
        return bool(jurisdiction["id"] == wanted)
    return bool(jurisdiction["name"] == wanted and jurisdiction.get("classification") == "state")


def _one(pairs: list[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in pairs if k == name]
    return values[-1] if values else None


def _enum_error(loc: tuple[Any, ...], allowed: tuple[str, ...]) -> dict[str, Any]:
    permitted = ", ".join(f"'{a}'" for a in allowed)
    return {"loc": list(loc), "msg": f"value is not a valid enumeration member; permitted: {permitted}",
            "type": "type_error.enum", "ctx": {"enum_values": list(allowed)}}


def _includes(pairs: list[tuple[str, str]], allowed: tuple[str, ...]) -> set[str]:
    values = [v for k, v in pairs if k == "include"]
    errors = [_enum_error(("query", "include", n), allowed) for n, v in enumerate(values) if v not in allowed]
    if errors:
        raise Refused(422, errors)
    return set(values)


def _paging(pairs: list[tuple[str, str]], default_per_page: int = 10) -> tuple[int, int]:
    numbers = {}
    errors = []
    for name, default in (("page", 1), ("per_page", default_per_page)):
        raw = _one(pairs, name)
        try:
            numbers[name] = int(raw) if raw is not None else default
        except ValueError:
            errors.append({"loc": ["query", name], "msg": "value is not a valid integer",
                           "type": "type_error.integer"})
    if errors:
        raise Refused(422, errors)
    return numbers["page"], numbers["per_page"]


def _paginate(rows: list[dict[str, Any]], page: int, per_page: int, max_per_page: int,
              shape: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    if per_page < 1 or per_page > max_per_page:
        raise Refused(400, f"invalid per_page, must be in [1, {max_per_page}]")
    pages = math.ceil(len(rows) / per_page) or 1
    if page < 1 or page > pages:
        raise Refused(404, f"invalid page, must be in [1, {pages}]")
    chunk = rows[(page - 1) * per_page: page * per_page]
    return {"results": [shape(row) for row in chunk],
            "pagination": {"per_page": per_page, "page": page, "max_page": pages, "total_items": len(rows)}}


def _strip(record: dict[str, Any], optional: tuple[str, ...], includes: set[str]) -> dict[str, Any]:
    """The record with the includes not asked for left out (the API sets them None, then leaves
    None out of its JSON)."""
    return {k: copy.deepcopy(v) for k, v in record.items() if k not in optional or k in includes}


def _instant(text: str) -> datetime:
    """`datetime.fromisoformat`, as the API reads `updated_since`; naive is UTC (the server's zone)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Refused(400, "datetime must be in ISO-8601 format, try YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _sorted_bills(rows: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    column = {"updated": "updated_at", "first_action": "first_action_date",
              "latest_action": "latest_action_date"}[sort.rsplit("_", 1)[0]]
    descending = sort.endswith("_desc")
    if column == "updated_at":
        return sorted(rows, key=lambda b: _instant(b["updated_at"]), reverse=descending)
    present = sorted((b for b in rows if b.get(column)), key=lambda b: b[column], reverse=descending)
    return present + [b for b in rows if not b.get(column)]  # NULLS LAST


# -- full-text search, approximately as PostgreSQL's english configuration ----------------------------


def stem(word: str) -> str:
    """A light stemmer that folds the forms organizers search for together ("immunity",
    "immunities" -> "immun"; "qualified", "qualify" -> "qualifi"), as PostgreSQL's english
    snowball stemmer does for them; both the text and the query go through it."""
    for suffix in ("ities", "ity", "ies", "ied", "ing", "ed", "es", "s", "e", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] + "i" if word.endswith("y") and len(word) > 3 else word


def _terms(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text.lower())]


def search_document(bill: dict[str, Any], text: str) -> list[str]:
    """What the API's searchable bill holds: the title, abstracts and the text, as stemmed words in
    order (stop words kept in place, so a phrase does not jump over them)."""
    abstracts = " ".join(a.get("abstract", "") for a in bill.get("abstracts") or [])
    return _terms(f"{bill.get('title', '')} {abstracts} {text}")


def compile_search(q: str) -> Callable[[list[str]], bool]:
    """`websearch_to_tsquery` read approximately: words are ANDed, "quoted words" must be adjacent,
    `or` between two parts ORs them, `-word` excludes."""
    alternatives: list[list[tuple[bool, list[str]]]] = [[]]
    for match in re.finditer(r'(-?)"([^"]*)"|(\S+)', q):
        negate, phrase, bare = match.group(1) == "-", match.group(2), match.group(3)
        if bare is not None and bare.lower() == "or":
            alternatives.append([])
            continue
        if bare is not None and bare.startswith("-"):
            negate, bare = True, bare[1:]
        terms = [t for t in _terms(phrase if phrase is not None else bare or "") if t not in _STOP]
        if terms:
            alternatives[-1].append((negate, terms))
    alternatives = [a for a in alternatives if a]

    def contains(words: list[str], terms: list[str]) -> bool:
        if len(terms) == 1:
            return terms[0] in words
        return any(words[i:i + len(terms)] == terms for i in range(len(words) - len(terms) + 1))

    def matches(words: list[str]) -> bool:
        return any(all(contains(words, terms) != negate for negate, terms in parts) for parts in alternatives)

    return matches
