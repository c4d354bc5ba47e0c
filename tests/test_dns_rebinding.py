"""DNS rebinding against the redirect guard, with real parts: a real DNS server on loopback (UDP,
answering each query of a name with the next of its answers), real HTTP servers, the real Scrapy
engine. The machine's name resolution (getaddrinfo, whoever calls it: the guard's lookup, the
reactor's resolver) asks that DNS server for the test's own domain: nothing of Scrapy is mocked.

The guard looked a redirect's target up once and the connection looked it up again, so a name
answering an address the guard allows to the first lookup and this machine (127.0.0.1, or 0.0.0.0,
which reaches it) to the next walked past the guard. Why the first answer here is never a public
address: once the hole is closed, the connection goes where the guard looked, and a test must not
connect to the internet. So the source sits at an address of its own kind (127.0.0.2, loopback,
whose redirects may not lead to a reserved address; or this machine's outgoing address, private or
public, whose redirects may not lead to loopback), and the name first answers that very address."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from test_input_attack import NOW, crawled, good_read, two_feeds
from test_legistar import shifted_ics
from twisted.names import dns

from spiders.middlewares import PINNED
from tracker.config import load_config
from tracker.demo.replay import ReplayServer

DOMAIN = ".rebind.test"  # the names the test's DNS server answers; every other name as always


class RebindingDns:
    """A real DNS server on 127.0.0.1 (UDP): the n-th A query of a name gets the n-th of its
    answers (the last one from then on; None: no such name), and every query is counted."""

    def __init__(self, answers: dict[str, list[str | None]]) -> None:
        self.answers = answers
        self.asked: dict[str, int] = {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True, name=f"dns:{self.port}")
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)  # a blocked recvfrom is not woken by close: look for `stop` often
        while not self.stopped.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.Message()
            query.fromStr(data)
            reply = dns.Message(id=query.id, answer=1, opCode=query.opCode, recDes=query.recDes, recAv=1, auth=1)
            reply.queries = query.queries
            (question,) = query.queries
            name = question.name.name.decode().lower()
            if question.type == dns.A and name in self.answers:
                with self.lock:
                    n = self.asked[name] = self.asked.get(name, 0) + 1
                given = self.answers[name]
                address = given[min(n, len(given)) - 1]
                if address is None:
                    reply.rCode = dns.ENAME
                else:
                    reply.answers.append(dns.RRHeader(name=name, type=dns.A, ttl=0,
                                                      payload=dns.Record_A(address, ttl=0)))
            elif name not in self.answers:
                reply.rCode = dns.ENAME
            self.sock.sendto(reply.toStr(), peer)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.sock.close()


def hostile_getaddrinfo(server: RebindingDns) -> Any:
    """`socket.getaddrinfo` as on a machine whose DNS server is `server`, for names under `DOMAIN`
    (one real query over UDP each time, as a resolver with nothing cached does); every other name
    as always."""
    system = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not name.lower().endswith(DOMAIN):
            return system(host, port, family, type, proto, flags)
        query = dns.Message(id=random.randrange(65536), recDes=1)
        query.queries = [dns.Query(name, dns.A, dns.IN)]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as ask:
            ask.settimeout(5)
            ask.sendto(query.toStr(), ("127.0.0.1", server.port))
            reply = dns.Message()
            reply.fromStr(ask.recv(4096))
        found = [record.payload.dottedQuad() for record in reply.answers if record.type == dns.A]
        if not found:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port or 0)))
                for address in found]

    return getaddrinfo


@contextmanager
def resolving_with(server: RebindingDns, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """For the block, names under `DOMAIN` are resolved by `server` wherever they are looked up:
    by getaddrinfo, and by the reactor's resolver (Twisted's own, on that getaddrinfo) below the pins."""
    from twisted.internet._resolver import GAIResolver

    from tracker.crawl import _reactor

    getaddrinfo = hostile_getaddrinfo(server)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(socket, "getaddrinfo", getaddrinfo)
            patch.setattr(PINNED, "below", GAIResolver(_reactor(), getaddrinfo=getaddrinfo))
            yield
    finally:
        server.stop()


def this_machines_address() -> str | None:
    """The address this machine would send from (no packet leaves: a UDP socket only picks a
    route), or None with no address but loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("198.51.100.1", 9))
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def _sites(first: str) -> tuple[ReplayServer, ReplayServer]:
    """The source's site at `first` (where the name first points) and, on the same port, this
    machine's own service on 127.0.0.1, which is where 127.0.0.1 and 0.0.0.0 both lead."""
    site = ReplayServer(host=first).start()
    inner = ReplayServer(site.port, host="127.0.0.1").start()
    inner.add("/moved.ics", b"BEGIN:VCALENDAR\r\nX-SECRET:this machine's own service\r\nEND:VCALENDAR\r\n",
              content_type="text/calendar")
    return site, inner


def _first(where: str) -> str:
    if where == "loopback":
        return "127.0.0.2"
    address = this_machines_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    return address


@pytest.mark.parametrize(("where", "then"), [("loopback", "0.0.0.0"), ("this machine's address", "127.0.0.1")])
def test_a_redirect_target_answering_otherwise_to_the_connection_is_reached_where_it_was_judged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, then: str) -> None:
    """A feed's site redirects to a name whose DNS answers the site's own address to the first
    lookup (the guard lets it through) and `then` (this machine, which the site may not send the
    crawler to) to every later one. The connection went where the second answer said: this
    machine's own service was read as the feed. Now the name is looked up once, and the feed is
    read where the guard looked."""
    monkeypatch.setenv("TRACKER_NOW", NOW)
    first = _first(where)
    name = f"{where.split()[0]}-{then.replace('.', '-')}{DOMAIN}"
    site, inner = _sites(first)
    server = RebindingDns({name: [first, then]})
    try:
        site.add("/good.ics", shifted_ics())
        site.add("/bad.ics", b"moved\n", status=302, headers={"Location": f"http://{name}:{site.port}/moved.ics"})
        site.add("/moved.ics", shifted_ics())
        with resolving_with(server, monkeypatch):
            _, reports = crawled(two_feeds(tmp_path, site, "/bad.ics"))
    finally:
        site.stop()
        inner.stop()
    good_read(reports)
    assert inner.requests == [], f"the crawler was sent to {then}: {[r.path for r in inner.requests]}"
    assert reports["ical:bad"].ok and reports["ical:bad"].items == reports["ical:good"].items, \
        reports["ical:bad"].errors
    assert server.asked == {name: 1}  # one lookup: the guard's, and every connection's (robots.txt too)


def test_a_redirect_target_not_found_at_first_is_judged_when_it_is_found(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The name is not found by the guard's lookup, then answers 0.0.0.0 (this machine): an
    unresolved target was followed unjudged, the connection looked it up again and read this
    machine's service. Now the request fails as not found and its retry is judged: refused in one line."""
    monkeypatch.setenv("TRACKER_NOW", NOW)
    name = f"late{DOMAIN}"
    site, inner = _sites("127.0.0.2")
    server = RebindingDns({name: [None, "0.0.0.0"]})
    try:
        site.add("/good.ics", shifted_ics())
        site.add("/bad.ics", b"moved\n", status=302, headers={"Location": f"http://{name}:{site.port}/moved.ics"})
        with resolving_with(server, monkeypatch):
            _, reports = crawled(two_feeds(tmp_path, site, "/bad.ics"))
    finally:
        site.stop()
        inner.stop()
    good_read(reports)
    assert inner.requests == [], f"the crawler was sent to 0.0.0.0: {[r.path for r in inner.requests]}"
    (line,) = reports["ical:bad"].errors
    assert line.startswith("ical:bad: feed: redirected from 127.0.0.2 to a reserved address (0.0.0.0): "
                           "not followed"), line
    assert server.asked == {name: 2}


def test_a_source_whose_name_answers_otherwise_to_the_guard_is_judged_by_where_it_was_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The source is configured by a name, which answers this machine's outgoing address (private or
    public) to the feed's connection, then 127.0.0.1 to the guard's lookup of where the redirect
    began: the guard took the source for one on this machine, which may redirect within it, and
    followed its redirect to 127.0.0.1. The source is judged by the address it was read from."""
    monkeypatch.setenv("TRACKER_NOW", NOW)
    first = _first("this machine's address")
    name = f"feed{DOMAIN}"
    site, inner = _sites(first)
    server = RebindingDns({name: [first, "127.0.0.1"]})
    try:
        site.add("/good.ics", shifted_ics())
        site.add("/bad.ics", b"moved\n", status=302, headers={"Location": f"http://127.0.0.1:{site.port}/moved.ics"})
        path = tmp_path / "tracker.toml"
        path.write_text('[crawl]\ndelay_seconds = 0\ntimeout_seconds = 10\n'
                        '[[meetings]]\nid = "good"\nname = "Detroit Board of Education"\n'
                        f'timezone = "America/Detroit"\nical = "{site.url}/good.ics"\n'
                        '[[meetings]]\nid = "bad"\nname = "Attacked Board"\n'
                        f'timezone = "America/Detroit"\nical = "http://{name}:{site.port}/bad.ics"\n')
        with resolving_with(server, monkeypatch):
            _, reports = crawled(load_config(path, env={}))
    finally:
        site.stop()
        inner.stop()
    good_read(reports)
    assert inner.requests == [], f"the crawler was sent to 127.0.0.1: {[r.path for r in inner.requests]}"
    (line,) = reports["ical:bad"].errors
    assert line.startswith(f"ical:bad: feed: redirected from {name} to a loopback address (127.0.0.1): "
                           "not followed"), line
    assert server.asked == {name: 1}


def test_a_name_no_resolver_can_ask_for_fails_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A watch's address with an empty label (`www..example.org`, a typo): getaddrinfo's wrapper
    refuses to encode it, Twisted's resolver then never answered, and the pinned lookup waited for
    it: each request of the source timed out (2 minutes at `timeout_seconds = 60`). Now it is not
    found at once, in the usual words."""
    from tracker.crawl import run_crawls
    from tracker.store import Store

    monkeypatch.setenv("TRACKER_NOW", NOW)
    path = tmp_path / "tracker.toml"
    path.write_text('[crawl]\ndelay_seconds = 0\nretries = 0\ntimeout_seconds = 60\n'
                    '[[meetings]]\nid = "board"\nname = "Board"\nical = "http://www..example.org/board.ics"\n')
    config = load_config(path, env={})
    started = time.monotonic()
    (report,) = run_crawls(config, Store(config.database_url))
    assert time.monotonic() - started < 30
    (line,) = report.errors
    assert "host not found" in line and "www..example.org" in line, line
