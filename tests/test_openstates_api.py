"""The loopback Open States API v3 (tracker/demo/openstates_api.py), over real HTTP on 127.0.0.1:
it answers every recorded request as the real API server answered it (the recordings were made by
running openstates/api-v3 over PostgreSQL; see tracker/demo/data/openstates/SOURCES.md), and
enforces the key, the limits, pagination and `include=` the way that code does."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from recorded import serve_openstates

from tracker.demo.openstates_api import DATA, OpenStatesApi, compile_search, fix_bill_id, search_document
from tracker.demo.replay import ReplayServer

KEY = "test-key-123"
RECORDED = {state: json.loads((DATA / "api" / f"{state}.json").read_text()) for state in ("baseline", "later")}


class Clock:
    """Epoch seconds the fake counts its limits in; tests move it."""

    def __init__(self, start: float = 1_600_000_000.0) -> None:  # 2020-09-13 12:26:40 UTC
        self.now = start

    def __call__(self) -> float:
        return self.now


def serve(replay: ReplayServer, **options: Any) -> OpenStatesApi:
    api = OpenStatesApi.recorded(options.pop("state", "baseline"), keys={KEY}, **options)
    replay.mount("/", api)
    return api


def get(replay: ReplayServer, path: str, params: list[tuple[str, str]] | None = None,
        key: str | None = KEY) -> tuple[int, Any, dict[str, str]]:
    url = replay.url + urllib.parse.quote(path) + ("?" + urllib.parse.urlencode(params) if params else "")
    request = urllib.request.Request(url, headers={"X-API-KEY": key} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def _exchanges() -> list[tuple[str, int, dict[str, Any]]]:
    return [(state, n, e) for state, data in RECORDED.items() for n, e in enumerate(data["exchanges"])]


@pytest.mark.parametrize(("state", "number", "exchange"), _exchanges(),
                         ids=[f"{s}-{n}-{e['status']}" for s, n, e in _exchanges()])
def test_answers_each_recorded_request_as_the_real_api_did(replay: ReplayServer, state: str, number: int,
                                                          exchange: dict[str, Any]) -> None:
    limited = exchange["request"]["key"] == "default-tier"
    api = serve(replay, state=state, clock=Clock(), per_minute=10 if limited else 10_000)
    if limited:  # the recording's key had made ten requests within the minute already
        for _ in range(10):
            get(replay, "/jurisdictions", [("classification", "state"), ("per_page", "1")])
    key = {"valid": KEY, "default-tier": KEY, "wrong": "not-a-key", None: None}[exchange["request"]["key"]]
    status, body, headers = get(replay, exchange["request"]["path"],
                                [tuple(p) for p in exchange["request"]["params"]], key)
    assert (status, body) == (exchange["status"], exchange["body"])
    assert headers["Content-Type"].startswith("application/json")
    assert api.count() == (11 if limited else 1)


def test_bill_detail_and_jurisdictions_are_the_recorded_ones(replay: ReplayServer) -> None:
    serve(replay, state="later")
    status, body, _ = get(replay, "/jurisdictions", [("classification", "state"), ("per_page", "52")])
    assert status == 200 and body == RECORDED["later"]["jurisdictions"]
    assert body["pagination"]["max_page"] == 1 and len(body["results"]) == 52  # every state in one request
    every = [("include", i) for i in ("sponsorships", "abstracts", "other_titles", "other_identifiers", "actions",
                                      "sources", "documents", "versions", "votes", "related_bills")]
    status, bill, _ = get(replay, "/bills/co/2020A/SB 217", every)
    assert status == 200 and bill == RECORDED["later"]["bills"][0]
    status, bill, _ = get(replay, "/bills/co/2020A/sb217", [("include", "votes")])
    assert status == 200 and [c["value"] for c in bill["votes"][0]["counts"]] == [32, 3, 0, 0]
    assert "actions" not in bill and "sponsorships" not in bill  # not asked for: left out, as the API does
    assert get(replay, "/bills/co/2020A/SB 9999")[0:2] == (404, {"detail": "No such Bill."})


def test_the_key_is_required_and_checked(replay: ReplayServer) -> None:
    api = serve(replay)
    assert get(replay, "/jurisdictions", key=None)[0] == 403
    status, body, _ = get(replay, "/bills", [("jurisdiction", "co")], key="wrong-key")
    assert status == 401 and body["detail"].startswith("Invalid API Key.")
    assert get(replay, "/bills", [("jurisdiction", "co"), ("apikey", KEY)], key=None)[0] == 200  # ?apikey= too
    assert [r.key for r in api.requests] == ["none", "wrong", "valid"]
    assert KEY not in repr(api.requests)  # the log never keeps the key


def test_ten_a_minute_then_429_and_refused_requests_count(replay: ReplayServer) -> None:
    clock = Clock()
    api = serve(replay, clock=clock)
    statuses = [get(replay, "/jurisdictions", [("classification", "state")])[0] for _ in range(12)]
    assert statuses == [200] * 10 + [429, 429]
    status, body, headers = get(replay, "/jurisdictions")
    assert status == 429 and body == {"detail": "exceeded limit of 10/min: 13"}
    assert "Retry-After" not in headers  # the real API sends none
    clock.now += 60  # the next calendar minute
    assert get(replay, "/jurisdictions")[0] == 200
    assert api.count("/jurisdictions", 429) == 3 and api.count("/jurisdictions", 200) == 11


def test_the_daily_budget_counts_every_request_and_resets_at_utc_midnight(replay: ReplayServer) -> None:
    clock = Clock(1_600_041_540.0)  # 2020-09-13 23:59:00 UTC
    serve(replay, clock=clock, per_minute=100, per_day=5)
    assert [get(replay, "/jurisdictions")[0] for _ in range(6)] == [200] * 5 + [429]
    assert get(replay, "/jurisdictions")[1] == {"detail": "exceeded limit of 5/day: 7"}
    clock.now += 60  # 2020-09-14 00:00:00 UTC: a new day
    assert get(replay, "/jurisdictions")[0] == 200


def test_include_is_repeated_never_comma_joined(replay: ReplayServer) -> None:
    serve(replay)
    status, body, _ = get(replay, "/bills", [("jurisdiction", "nm"), ("include", "actions"), ("include", "votes")])
    assert status == 200
    bill = body["results"][0]
    assert bill["identifier"] == "HB 4" and bill["actions"] and bill["votes"] and "sponsorships" not in bill
    status, body, _ = get(replay, "/bills", [("jurisdiction", "nm"), ("include", "actions,votes")])
    assert status == 422 and body["detail"][0]["loc"] == ["query", "include", 0]


def test_pages_of_at_most_twenty_and_a_page_past_the_last_is_a_404(replay: ReplayServer) -> None:
    api = serve(replay)
    for n in range(45):  # more New York bills than two pages of 20 hold
        bill = json.loads(json.dumps(RECORDED["baseline"]["bills"][4]))
        bill["id"], bill["identifier"] = f"ocd-bill/extra-{n}", f"S {n + 1}"
        bill["updated_at"] = f"2021-03-01T10:{n:02d}:00+00:00"
        api.put_bill(bill)
    assert get(replay, "/bills", [("jurisdiction", "ny"), ("per_page", "21")])[0:2] == (
        400, {"detail": "invalid per_page, must be in [1, 20]"})
    seen = []
    for page in (1, 2, 3):
        status, body, _ = get(replay, "/bills", [("jurisdiction", "ny"), ("per_page", "20"), ("page", str(page)),
                                                 ("sort", "updated_asc")])
        assert status == 200 and body["pagination"] == {"per_page": 20, "page": page, "max_page": 3, "total_items": 47}
        seen += [b["identifier"] for b in body["results"]]
    assert len(seen) == len(set(seen)) == 47
    assert seen[:2] == ["A 99901", "S 99902"] and seen[-1] == "S 45"  # oldest update first
    assert get(replay, "/bills", [("jurisdiction", "ny"), ("per_page", "20"), ("page", "4")])[0:2] == (
        404, {"detail": "invalid page, must be in [1, 3]"})


def test_updated_since_is_read_as_an_instant_in_either_form(replay: ReplayServer) -> None:
    serve(replay, state="later")

    def since(value: str) -> tuple[int, list[str]]:
        status, body, _ = get(replay, "/bills", [("jurisdiction", "co"), ("updated_since", value)])
        return status, [b["identifier"] for b in body.get("results", [])] if status == 200 else body["detail"]

    # SB 217 was updated at 2020-06-10T04:02:11.064392+00:00 in the later state
    assert since("2020-06-10 04:02:11") == (200, ["SB 217"])
    assert since("2020-06-10T04:02:11") == (200, ["SB 217"])
    assert since("2020-06-10 04:02:12") == (200, [])
    assert since("2020-06-10T06:02:12+02:00") == (200, [])  # an offset is honoured: 04:02:12 UTC
    assert since("2020-06-10")[1] == ["SB 217"]
    assert since("June 10")[0] == 400


def test_full_text_search_phrase_words_and_bill_numbers(replay: ReplayServer) -> None:
    serve(replay)

    def found(q: str, *more: tuple[str, str]) -> list[str]:
        status, body, _ = get(replay, "/bills", [("q", q), ("sort", "updated_asc"), *more])
        assert status == 200, body
        return [b["identifier"] for b in body["results"]]

    phrase = found('"qualified immunity"')
    assert "SB 217" in phrase and "HB 4" in phrase and "A 99901" in phrase  # title or text
    assert "S 99902" not in phrase  # "immunity ... qualified" apart: no phrase
    assert "S 99902" in found("qualified immunity")  # unquoted words match anywhere
    assert found('"qualified immunity"', ("jurisdiction", "co")) == ["SB 217"]
    assert found("sb217", ("jurisdiction", "co")) == ["SB 217"]  # looks like a bill number
    assert get(replay, "/bills", [("session", "2020A")])[0] == 400  # session needs a jurisdiction
    assert get(replay, "/bills", [])[1] == {"detail": "either 'jurisdiction' or 'q' required"}


def test_people_with_offices_and_jurisdiction_updates(replay: ReplayServer) -> None:
    api = serve(replay)
    status, body, _ = get(replay, "/people", [("jurisdiction", "nm"), ("include", "offices"), ("per_page", "50")])
    assert status == 200 and body["results"] == RECORDED["baseline"]["people"]["nm"]
    cervantes = next(p for p in body["results"] if p["name"] == "Joseph Cervantes")
    assert cervantes["current_role"]["district"] == "31" and cervantes["offices"][0]["voice"] == "505-986-4861"
    status, body, _ = get(replay, "/people", [("jurisdiction", "co"), ("district", "29")])
    assert [p["name"] for p in body["results"]] == ["Rhonda Fields"] and "offices" not in body["results"][0]
    api.touch("co", "2020-06-10T04:15:37")
    body = get(replay, "/jurisdictions", [("classification", "state")])[1]
    assert next(j for j in body["results"] if j["name"] == "Colorado")["latest_bill_update"] == "2020-06-10T04:15:37"


def test_search_helpers() -> None:
    assert fix_bill_id("sb217") == "SB 217" and fix_bill_id("HB 0004") == "HB 4" and fix_bill_id("S.2963") == "S. 2963"
    assert fix_bill_id("HB4A") == "HB 4A" and fix_bill_id("hjr ab") == "HJR AB"
    doc = search_document({"title": "Relates to immunity for qualified responders", "abstracts": []}, "")
    assert compile_search("qualified immunity")(doc) and not compile_search('"qualified immunity"')(doc)
    assert compile_search('"Qualified Immunities"')(search_document({"title": "End qualified immunity"}, ""))
    assert compile_search("police or sheriff")(search_document({"title": "sheriff budgets"}, ""))
    assert not compile_search("police -budget")(search_document({"title": "police budget"}, ""))


def test_mounted_under_a_prefix_as_a_base_url(replay: ReplayServer) -> None:
    api, base_url = serve_openstates(replay, keys={KEY})
    with urllib.request.urlopen(urllib.request.Request(
            f"{base_url}/bills?jurisdiction=ma&include=votes", headers={"X-API-KEY": KEY}), timeout=10) as response:
        body = json.loads(response.read())
    assert [b["identifier"] for b in body["results"]] == ["S 2963"] and body["results"][0]["votes"] == []
    assert api.count("/bills", 200) == 1 and replay.count("/openstates/bills") == 1
