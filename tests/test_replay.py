"""The loopback server every spider test relies on, checked with a plain HTTP client."""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from tracker.replay import Fault, ReplayServer


def get(server: ReplayServer, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    request = urllib.request.Request(server.url + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def test_routes_match_path_and_query_most_specific_first(replay: ReplayServer) -> None:
    replay.add("/v1/nyc/events", b"[1]")
    replay.add("/v1/nyc/events", b"[2]", query={"$skip": "1000"})
    assert get(replay, "/v1/nyc/events?$top=1000")[1] == b"[1]"
    assert get(replay, "/v1/nyc/events?$top=1000&$skip=1000")[1] == b"[2]"
    assert get(replay, "/v1/other")[0] == 404
    assert replay.count("/v1/nyc/events") == 2


def test_content_types_from_extensions(replay: ReplayServer) -> None:
    replay.add("/a.xml", b"<a/>")
    replay.add("/b.ics", b"BEGIN:VCALENDAR")
    assert get(replay, "/a.xml")[2]["Content-Type"] == "application/xml; charset=utf-8"
    assert get(replay, "/b.ics")[2]["Content-Type"].startswith("text/calendar")


def test_etag_and_last_modified_answer_304(replay: ReplayServer) -> None:
    replay.add("/bill.xml", b"<bill/>")
    status, _, headers = get(replay, "/bill.xml")
    assert status == 200
    assert get(replay, "/bill.xml", {"If-None-Match": headers["ETag"]})[0] == 304
    assert get(replay, "/bill.xml", {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    replay.replace("/bill.xml", b"<bill>later</bill>")
    assert get(replay, "/bill.xml", {"If-None-Match": headers["ETag"]})[0] == 200
    assert replay.count("/bill.xml", status=304) == 2


def test_status_and_retry_after_faults(replay: ReplayServer) -> None:
    replay.add("/down", b"x", fault=Fault.status(500))
    assert get(replay, "/down")[0] == 500
    replay.add("/busy", b"ok", fault=Fault.retry_after(7, times=1))
    status, _, headers = get(replay, "/busy")
    assert (status, headers["Retry-After"]) == (429, "7")
    assert get(replay, "/busy")[:2] == (200, b"ok")
    replay.set_fault("/down", None)
    assert get(replay, "/down")[0] == 200


def test_delay_fault(replay: ReplayServer) -> None:
    replay.add("/slow", b"x", fault=Fault.delay(0.3))
    started = time.monotonic()
    get(replay, "/slow")
    assert time.monotonic() - started >= 0.3


def test_truncated_body_is_detected_by_the_client(replay: ReplayServer) -> None:
    replay.add("/cut.xml", b"<billStatus>" + b"x" * 5000 + b"</billStatus>", fault=Fault.truncate(100))
    with pytest.raises(http.client.IncompleteRead):
        urllib.request.urlopen(replay.url + "/cut.xml", timeout=10).read()


def test_short_body_with_matching_length(replay: ReplayServer) -> None:
    replay.add("/short.xml", b"<billStatus><bill/></billStatus>", fault=Fault.short(10))
    assert get(replay, "/short.xml")[1] == b"<billStatus"[:10]


def test_html_error_page_with_200(replay: ReplayServer) -> None:
    replay.add("/events.json", b"[]", fault=Fault.html_error())
    status, body, headers = get(replay, "/events.json")
    assert status == 200 and b"<html>" in body and headers["Content-Type"].startswith("text/html")


def test_huge_body_is_streamed(replay: ReplayServer) -> None:
    replay.add("/huge.xml", None, fault=Fault.huge(60 * 2**20))
    with urllib.request.urlopen(replay.url + "/huge.xml", timeout=10) as response:
        assert int(response.headers["Content-Length"]) == 60 * 2**20
        assert len(response.read(2**20)) == 2**20


def test_accept_negotiates_json_or_xml(replay: ReplayServer) -> None:
    replay.add("/v1/nyc/events/7", json=b'{"EventId": 7}', xml=b"<GranicusEvent/>")
    assert get(replay, "/v1/nyc/events/7", {"Accept": "application/json"})[1] == b'{"EventId": 7}'
    assert get(replay, "/v1/nyc/events/7")[1] == b"<GranicusEvent/>"


def test_robots_is_404_until_set(replay: ReplayServer) -> None:
    assert get(replay, "/robots.txt")[0] == 404
    replay.robots("User-agent: *\nDisallow: /private/\n")
    assert get(replay, "/robots.txt")[1].startswith(b"User-agent")


def test_request_log_keeps_headers(replay: ReplayServer) -> None:
    replay.add("/a", b"a")
    get(replay, "/a?x=1", {"User-Agent": "probe/1"})
    (logged,) = replay.requests
    assert (logged.path, logged.query, logged.headers["User-Agent"], logged.status) == ("/a", {"x": "1"}, "probe/1", 200)
    replay.clear_log()
    assert replay.count() == 0
