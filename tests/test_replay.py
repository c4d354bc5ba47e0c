"""The loopback server every spider test relies on, checked over real sockets with plain HTTP clients."""

from __future__ import annotations

import http.client
import queue
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from tracker.demo.replay import DEFAULT_LAST_MODIFIED, Fault, ReplayServer, prefers_json, serve

SCRAPY_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # Scrapy's default


def get(server: ReplayServer, path: str, headers: dict[str, str] | None = None,
        method: str = "GET") -> tuple[int, bytes, Any]:
    request = urllib.request.Request(server.url + path, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def raw(server: ReplayServer, path: str) -> tuple[int, bytes]:
    """A request with the path sent exactly as written (urllib would not send `..`)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# -- routes -----------------------------------------------------------------------------------

def test_routes_match_path_and_query_most_specific_first(replay: ReplayServer) -> None:
    replay.add("/v1/nyc/events", b"[1]")
    replay.add("/v1/nyc/events", b"[2]", query={"$skip": "1000"})
    replay.add("/v1/nyc/events", b"[3]", query="$skip=1000&$top=1000")
    assert get(replay, "/v1/nyc/events")[1] == b"[1]"  # query=None matches no query too
    assert get(replay, "/v1/nyc/events?$top=1000")[1] == b"[1]"
    assert get(replay, "/v1/nyc/events?$skip=1000")[1] == b"[2]"
    assert get(replay, "/v1/nyc/events?$top=1000&$skip=1000")[1] == b"[3]"
    assert get(replay, "/v1/nyc/events?%24skip=1000&%24top=1000")[1] == b"[3]"  # decoded before matching
    assert get(replay, "/v1/other")[0] == 404
    assert replay.count("/v1/nyc/events") == 5


def test_route_without_its_query_params_does_not_match(replay: ReplayServer) -> None:
    replay.add("/v1/nyc/eventitems", b"[]", query={"AgendaNote": "1"})
    assert get(replay, "/v1/nyc/eventitems?AgendaNote=1&Attachments=1")[0] == 200
    assert get(replay, "/v1/nyc/eventitems?AgendaNote=0")[0] == 404
    assert get(replay, "/v1/nyc/eventitems")[0] == 404


def test_adding_the_same_path_and_query_replaces_the_route(replay: ReplayServer) -> None:
    replay.add("/a.xml", b"<a>1</a>")
    replay.add("/a.xml", b"<a>2</a>", status=404)
    assert get(replay, "/a.xml")[:2] == (404, b"<a>2</a>")


def test_a_posted_form_is_answered_by_the_route_naming_its_fields_and_logged(replay: ReplayServer) -> None:
    replay.add("/Calendar.aspx", b"<p>this month</p>")
    replay.add("/Calendar.aspx", b"<p>2019</p>", form={"__EVENTTARGET": "lstYears", "year": "2019"})
    replay.add("/Calendar.aspx", b"<p>page 2</p>", form={"__EVENTTARGET": "pager"})

    def post(fields: str, path: str = "/Calendar.aspx") -> tuple[int, bytes]:
        request = urllib.request.Request(replay.url + path, data=fields.encode(), method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    assert post("__EVENTTARGET=lstYears&year=2019&__VIEWSTATE=abc%2B%3D") == (200, b"<p>2019</p>")
    assert post("__EVENTTARGET=pager") == (200, b"<p>page 2</p>")
    assert post("__EVENTTARGET=lstYears&year=2018")[0] == 404  # no route names these values
    assert get(replay, "/Calendar.aspx")[1] == b"<p>this month</p>"  # a form route never answers a GET
    replay.add("/Other.aspx", b"<p>other</p>")
    assert post("__EVENTTARGET=pager", "/Other.aspx")[0] == 404  # nor a GET route a POST
    replay.remove("/Calendar.aspx")  # the GET route only
    assert post("__EVENTTARGET=pager")[1] == b"<p>page 2</p>" and get(replay, "/Calendar.aspx")[0] == 404
    first = next(r for r in replay.requests if r.method == "POST")
    assert first.form == {"__EVENTTARGET": "lstYears", "year": "2019", "__VIEWSTATE": "abc+="}
    # A body of no stated length (chunked) is refused, and the connection with it.
    # (Sent in one piece: the server answers once it has read the headers and closes, and a client
    # still sending its chunks would meet a broken pipe, as CI did once.)
    with socket.create_connection(("127.0.0.1", replay.port), timeout=10) as sock:
        sock.sendall(b"POST /Calendar.aspx HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded"
                     b"\r\nTransfer-Encoding: chunked\r\n\r\n13\r\n__EVENTTARGET=pager\r\n0\r\n\r\n")
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    status_line, *header_lines = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, value in (line.split(":", 1) for line in header_lines)}
    assert (int(status_line.split()[1]), headers.get("connection")) == (411, "close")


def test_percent_encoded_paths(replay: ReplayServer) -> None:
    replay.add("/AgendaCenter/City Council.html", b"<p>x</p>")
    assert get(replay, "/AgendaCenter/City%20Council.html")[:2] == (200, b"<p>x</p>")
    assert replay.count("/AgendaCenter/City Council.html") == 1


def test_content_types(replay: ReplayServer) -> None:
    replay.add("/a.xml", b"<a/>")
    replay.add("/b.ics", b"BEGIN:VCALENDAR")
    replay.add("/c.json", b"{}")
    replay.add("/d.html", b"<p/>")
    replay.add("/v1/nyc/events", b'  [{"EventId": 1}]')  # no extension: sniffed from the body
    replay.add("/feed", b"<?xml version='1.0'?><rss/>")
    replay.add("/e.xml", b"<a/>", content_type="application/rss+xml")
    types = {path: get(replay, path)[2]["Content-Type"]
             for path in ("/a.xml", "/b.ics", "/c.json", "/d.html", "/v1/nyc/events", "/feed", "/e.xml")}
    assert types == {
        "/a.xml": "application/xml; charset=utf-8",
        "/b.ics": "text/calendar; charset=utf-8",
        "/c.json": "application/json; charset=utf-8",
        "/d.html": "text/html; charset=utf-8",
        "/v1/nyc/events": "application/json; charset=utf-8",
        "/feed": "application/xml; charset=utf-8",
        "/e.xml": "application/rss+xml",
    }


def test_status_and_extra_headers_per_route(replay: ReplayServer) -> None:
    replay.add("/gone.xml", b"<error/>", status=404, headers={"X-Upstream": "govinfo"})
    status, body, headers = get(replay, "/gone.xml")
    assert (status, body, headers["X-Upstream"]) == (404, b"<error/>", "govinfo")


def test_head_sends_headers_only(replay: ReplayServer) -> None:
    replay.add("/a.xml", b"<a>12345</a>")
    status, body, headers = get(replay, "/a.xml", method="HEAD")
    assert (status, body, headers["Content-Length"]) == (200, b"", "12")


# -- validators ---------------------------------------------------------------------------------

def test_etag_and_last_modified_answer_304(replay: ReplayServer) -> None:
    replay.add("/bill.xml", b"<bill/>")
    status, _, headers = get(replay, "/bill.xml")
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert status == 200 and etag.startswith('"') and not etag.startswith("W/")
    assert modified == DEFAULT_LAST_MODIFIED
    status, body, headers = get(replay, "/bill.xml", {"If-None-Match": etag})
    assert (status, body, headers["ETag"]) == (304, b"", etag)
    assert get(replay, "/bill.xml", {"If-None-Match": f'"other", W/{etag}'})[0] == 304  # weak comparison
    assert get(replay, "/bill.xml", {"If-Modified-Since": modified})[0] == 304
    assert get(replay, "/bill.xml", {"If-Modified-Since": "Sun, 01 Nov 2026 12:00:00 GMT"})[0] == 200
    # If-None-Match wins over If-Modified-Since when both are sent (RFC 9110 13.1.3)
    assert get(replay, "/bill.xml", {"If-None-Match": '"other"', "If-Modified-Since": modified})[0] == 200
    assert replay.count("/bill.xml", status=304) == 3


def test_replace_changes_etag_and_moves_last_modified_forward(replay: ReplayServer) -> None:
    replay.add("/bill.xml", b"<bill>1</bill>")
    first = get(replay, "/bill.xml")[2]
    replay.replace("/bill.xml", b"<bill>2</bill>")
    status, body, second = get(replay, "/bill.xml", {"If-None-Match": first["ETag"]})
    assert (status, body) == (200, b"<bill>2</bill>") and second["ETag"] != first["ETag"]
    replay.replace("/bill.xml", b"<bill>3</bill>")  # within the same second: still a later date
    status, body, third = get(replay, "/bill.xml", {"If-Modified-Since": second["Last-Modified"]})
    assert (status, body) == (200, b"<bill>3</bill>")
    assert parsedate_to_datetime(third["Last-Modified"]) > parsedate_to_datetime(second["Last-Modified"])


def test_last_modified_is_settable(replay: ReplayServer) -> None:
    replay.add("/a.xml", b"<a/>", last_modified="Tue, 01 Sep 2026 08:00:00 GMT")
    assert get(replay, "/a.xml")[2]["Last-Modified"] == "Tue, 01 Sep 2026 08:00:00 GMT"
    replay.replace("/a.xml", b"<b/>", last_modified="Wed, 02 Sep 2026 08:00:00 GMT")
    assert get(replay, "/a.xml", {"If-Modified-Since": "Wed, 02 Sep 2026 08:00:00 GMT"})[0] == 304


# -- faults --------------------------------------------------------------------------------------

def test_status_fault_set_and_healed_while_running(replay: ReplayServer) -> None:
    replay.add("/down.xml", b"<ok/>", fault=Fault.status(500))
    assert get(replay, "/down.xml")[0] == 500
    replay.set_fault("/down.xml", Fault.status(404))
    assert get(replay, "/down.xml")[0] == 404
    replay.set_fault("/down.xml", None)
    assert get(replay, "/down.xml")[:2] == (200, b"<ok/>")
    with pytest.raises(KeyError):
        replay.set_fault("/never-added.xml", Fault.status(500))


def test_retry_after_for_the_first_requests_then_the_body(replay: ReplayServer) -> None:
    replay.add("/busy", b"ok", fault=Fault.retry_after(7, times=2))
    answers = [get(replay, "/busy") for _ in range(3)]
    assert [(status, headers.get("Retry-After")) for status, _, headers in answers] == [
        (429, "7"), (429, "7"), (200, None)]
    assert answers[2][1] == b"ok"
    replay.set_fault("/busy", Fault.retry_after(3, times=1, code=503))  # the count starts again
    status, _, headers = get(replay, "/busy")
    assert (status, headers["Retry-After"]) == (503, "3")
    assert get(replay, "/busy")[0] == 200


def test_replace_keeps_the_fault(replay: ReplayServer) -> None:
    replay.add("/a.xml", b"<a/>", fault=Fault.status(500))
    replay.replace("/a.xml", b"<b/>")
    assert get(replay, "/a.xml")[0] == 500
    replay.set_fault("/a.xml", None)
    assert get(replay, "/a.xml")[1] == b"<b/>"


def test_delay_holds_one_route_only(replay: ReplayServer) -> None:
    replay.add("/slow", b"x", fault=Fault.delay(0.3))
    replay.add("/fast", b"y")
    started = time.monotonic()
    slow = threading.Thread(target=get, args=(replay, "/slow"))
    slow.start()
    time.sleep(0.05)
    assert get(replay, "/fast")[1] == b"y"
    fast_done = time.monotonic() - started
    slow.join()
    assert fast_done < 0.3 <= time.monotonic() - started


def test_delay_still_answers_304(replay: ReplayServer) -> None:
    replay.add("/slow.xml", b"<a/>", fault=Fault.delay(0.01))
    etag = get(replay, "/slow.xml")[2]["ETag"]
    assert get(replay, "/slow.xml", {"If-None-Match": etag})[0] == 304


def test_truncated_body_is_detected_by_the_client(replay: ReplayServer) -> None:
    body = b"<billStatus>" + b"x" * 5000 + b"</billStatus>"
    replay.add("/cut.xml", body, fault=Fault.truncate(100))
    with urllib.request.urlopen(replay.url + "/cut.xml", timeout=10) as response:
        assert int(response.headers["Content-Length"]) == len(body)
        with pytest.raises(http.client.IncompleteRead) as caught:
            response.read()
    assert caught.value.partial == body[:100]
    (logged,) = replay.requests
    assert (logged.status, logged.bytes) == (200, 100)


def test_short_body_with_matching_length(replay: ReplayServer) -> None:
    replay.add("/short.xml", b"<billStatus><bill/></billStatus>", fault=Fault.short(10))
    status, body, headers = get(replay, "/short.xml")
    assert (status, body, headers["Content-Length"]) == (200, b"<billStatu", "10")


def test_html_error_page_with_200(replay: ReplayServer) -> None:
    replay.add("/events.json", b"[]", fault=Fault.html_error())
    status, body, headers = get(replay, "/events.json")
    assert status == 200 and b"<html>" in body and headers["Content-Type"].startswith("text/html")


def test_huge_body_is_streamed_with_bounded_server_memory(replay: ReplayServer) -> None:
    size = 60 * 2**20
    replay.add("/huge.xml", None, fault=Fault.huge(size))
    tracemalloc.start()  # traces every thread of this process: the server's too
    try:
        with urllib.request.urlopen(replay.url + "/huge.xml", timeout=10) as response:
            assert int(response.headers["Content-Length"]) == size
            got = 0
            while got < 2**20:
                got += len(response.read(64 * 1024))
        (logged,) = replay.requests  # waits until the server has noticed the client leave
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MB while streaming {size / 2**20:.0f} MB"
    assert logged.status == 200 and 2**20 <= logged.bytes < size  # stopped when the client left


# -- Accept -------------------------------------------------------------------------------------

def test_accept_negotiates_json_or_xml(replay: ReplayServer) -> None:
    replay.add("/v1/nyc/events/7", json=b'{"EventId": 7}', xml=b"<GranicusEvent/>")
    _, body, headers = get(replay, "/v1/nyc/events/7", {"Accept": "application/json"})
    assert (body, headers["Content-Type"], headers["Vary"]) == (
        b'{"EventId": 7}', "application/json; charset=utf-8", "Accept")
    _, body, headers = get(replay, "/v1/nyc/events/7")
    assert (body, headers["Content-Type"]) == (b"<GranicusEvent/>", "application/xml; charset=utf-8")
    assert get(replay, "/v1/nyc/events/7", {"Accept": SCRAPY_ACCEPT})[1] == b"<GranicusEvent/>"
    json_etag = get(replay, "/v1/nyc/events/7", {"Accept": "application/json"})[2]["ETag"]
    assert json_etag != headers["ETag"]  # each representation has its own validator
    replay.replace("/v1/nyc/events/7", json=b'{"EventId": 7, "EventTime": "13:00"}', xml=b"<E/>")
    assert get(replay, "/v1/nyc/events/7", {"Accept": "application/json"})[1].endswith(b'"13:00"}')


@pytest.mark.parametrize(("accept", "json"), [
    ("", False),
    ("*/*", False),
    ("application/json", True),
    ("text/json", True),
    ("application/json, */*", True),
    ("application/json, text/plain, */*", True),
    ("application/xml, application/json;q=0.5", False),
    ("application/xml;q=0.5, application/json", True),
    ("application/json;q=0, */*", False),
    ("text/html", False),
    (SCRAPY_ACCEPT, False),
])
def test_prefers_json(accept: str, json: bool) -> None:
    assert prefers_json(accept) is json


# -- robots, log, folders, lifecycle ------------------------------------------------------------

def test_robots_is_404_until_set(replay: ReplayServer) -> None:
    assert get(replay, "/robots.txt")[0] == 404
    replay.robots("User-agent: *\nDisallow: /private/\n")
    status, body, headers = get(replay, "/robots.txt")
    assert (status, body, headers["Content-Type"]) == (
        200, b"User-agent: *\nDisallow: /private/\n", "text/plain; charset=utf-8")
    replay.robots(None)
    assert get(replay, "/robots.txt")[0] == 404
    assert replay.count("/robots.txt") == 3


def test_request_log_records_each_request(replay: ReplayServer) -> None:
    replay.add("/a", b"abc")
    before = time.time()
    get(replay, "/a?x=1&y=", {"User-Agent": "probe/1", "If-None-Match": '"nope"'})
    get(replay, "/missing")
    first, second = replay.requests
    assert (first.method, first.path, first.query, first.status, first.bytes) == (
        "GET", "/a", {"x": "1", "y": ""}, 200, 3)
    assert first.headers["User-Agent"] == "probe/1" and "if-none-match" in first.headers  # any case
    assert before <= first.time <= second.time <= time.time()
    assert (second.path, second.status) == ("/missing", 404)
    assert (replay.count(), replay.count("/a"), replay.count(status=404), replay.count(query={"x": "1"})) == (
        2, 1, 1, 1)
    replay.clear_log()
    assert replay.count() == 0 and replay.requests == []


def test_requests_asked_one_after_another_are_logged_in_that_order(replay: ReplayServer,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer leaves after its request is logged, so a request asked once the answer to another
    is in is logged after it, however late a server thread logs (the first here 0.2 s late: on a
    loaded machine the log was once found out of order)."""
    logged = ReplayServer._log

    def late_for_a(self: ReplayServer, record: Any) -> None:
        if record.path == "/a":
            time.sleep(0.2)
        logged(self, record)

    monkeypatch.setattr(ReplayServer, "_log", late_for_a)
    replay.add("/a", b"abc")
    get(replay, "/a")
    get(replay, "/missing")
    assert [(r.path, r.status) for r in replay.requests] == [("/a", 200), ("/missing", 404)]


def test_concurrent_requests_are_all_logged(replay: ReplayServer) -> None:
    replay.add("/a.xml", b"<a/>", fault=Fault.delay(0.05))
    threads = [threading.Thread(target=get, args=(replay, f"/a.xml?n={n}")) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert replay.count("/a.xml", status=200) == 20
    assert sorted(int(r.query["n"]) for r in replay.requests) == list(range(20))


def test_add_dir_serves_a_folder_tree_and_nothing_outside_it(replay: ReplayServer, tmp_path: Path) -> None:
    www = tmp_path / "www"
    (www / "bulkdata" / "BILLSTATUS" / "117" / "s").mkdir(parents=True)
    (www / "bulkdata" / "BILLSTATUS" / "117" / "s" / "BILLSTATUS-117s35.xml").write_bytes(b"<billStatus/>")
    (www / "Detroit City Council.ics").write_bytes(b"BEGIN:VCALENDAR\r\n")
    (tmp_path / "secret.txt").write_text("outside")
    replay.add_dir("/files", www)
    status, body, headers = get(replay, "/files/bulkdata/BILLSTATUS/117/s/BILLSTATUS-117s35.xml")
    assert (status, body, headers["Content-Type"]) == (200, b"<billStatus/>", "application/xml; charset=utf-8")
    assert get(replay, "/files/Detroit%20City%20Council.ics")[2]["Content-Type"] == "text/calendar; charset=utf-8"
    assert raw(replay, "/files/../secret.txt")[0] == 404
    assert raw(replay, "/files/%2e%2e/secret.txt")[0] == 404
    assert get(replay, "/files/bulkdata")[0] == 404  # a folder is not a file
    etag = headers["ETag"]
    assert get(replay, "/files/bulkdata/BILLSTATUS/117/s/BILLSTATUS-117s35.xml", {"If-None-Match": etag})[0] == 304
    replay.set_fault("/files/Detroit City Council.ics", Fault.status(503))  # a folder file can fail too
    assert get(replay, "/files/Detroit%20City%20Council.ics")[0] == 503


def test_serve_helper_with_a_folder_and_stop_twice(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(b"{}")
    with serve(tmp_path) as server:
        assert server.url.startswith("http://127.0.0.1:") and server.port > 0
        assert get(server, "/a.json")[1] == b"{}"
        server.stop()
    ReplayServer().stop()  # never started: returns at once


def test_cli_serves_a_folder_and_prints_the_url(tmp_path: Path) -> None:
    (tmp_path / "feed.ics").write_bytes(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    process = subprocess.Popen([sys.executable, "-m", "tracker.demo.replay", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parent.parent)
    try:
        url = process.stdout.readline().strip()  # type: ignore[union-attr]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "/feed.ics", timeout=10) as response:
            assert response.read().startswith(b"BEGIN:VCALENDAR")
        # The request is logged just after the response is sent: wait for that line, not a guess.
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()  # type: ignore[union-attr]
        seen = ""
        while "GET /feed.ics 200" not in seen:
            seen += lines.get(timeout=10)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "GET /feed.ics 200" in seen
