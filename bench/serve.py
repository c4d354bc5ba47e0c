"""Benchmark: sign-ups and one-click unsubscribes against a real `tracker serve` on loopback, with
SQLite and with PostgreSQL (127.0.0.1:5432, user postgres; skipped when it is not there).

`tracker serve` runs as its own process (`tracker --config ... serve`), the confirmation mails go
to a loopback SMTP server (aiosmtpd, its own process, writing a Maildir), and a small keep-alive
HTTP client (asyncio, CONNECTIONS connections) in this process sends the requests. Phases: N sign-ups (POST /subscribe with the form's
CSRF token), the N confirmations the mails link to (POST /c/TOKEN), N one-click unsubscribes (POST
/u/TOKEN with `List-Unsubscribe=One-Click`). Prints requests/s and p50/p99 latency per phase, and
checks that every address got exactly one confirmation mail, is recorded once, was confirmed once
and unsubscribed once (a repeated one-click changes nothing).

    python bench/serve.py [--n 2000] [--connections 8] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import mailbox
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from statistics import quantiles
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from serving import body_of  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from tracker import models as m  # noqa: E402
from tracker.store import Store  # noqa: E402

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
CSRF = re.compile(rb'name="csrf" value="([^"]+)"')
CONFIRM = re.compile(r"http://127\.0\.0\.1:\d+(/c/[A-Za-z0-9_-]+)")
WARM_UP = 100  # a first round (statements compiled, connections opened, pages rendered once)
MANAGE = re.compile(rb'href="http://127\.0\.0\.1:\d+/p/([A-Za-z0-9_-]+)"')


class Connection:
    """One keep-alive HTTP/1.1 connection: a request, its status, headers and body."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = b""
        self.csrf = b""

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes, bytes]:
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n").encode()
        if self.cookie:
            head += b"Cookie: " + self.cookie + b"\r\n"
        self.writer.write(head + b"\r\n" + body)
        status_line = await self.reader.readline()
        headers = b""
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            headers += line
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value.strip())
            elif name.lower() == b"set-cookie":
                self.cookie = value.strip().split(b";", 1)[0]
        payload = await self.reader.readexactly(length)
        return int(status_line.split()[1]), headers, payload

    async def form(self) -> None:
        status, _, page = await self.request("GET", "/subscribe")
        assert status == 200, status
        self.csrf = CSRF.search(page).group(1)


async def phase(port: int, connections: int, jobs: list[tuple[str, str, bytes]], want: int,
                expect: bytes | None = None) -> tuple[float, list[float], list[bytes]]:
    """Send every job (method, path, body with {csrf}) over `connections` connections; seconds, latencies."""
    conns = [Connection(port) for _ in range(connections)]
    for conn in conns:
        await conn.open()
        await conn.form()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(jobs)):
        queue.put_nowait(i)
    latencies: list[float] = []
    pages: list[bytes] = [b""] * len(jobs)

    async def worker(conn: Connection) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            method, path, body = jobs[i]
            started = time.perf_counter()
            status, _, page = await conn.request(method, path, body.replace(b"{csrf}", conn.csrf))
            latencies.append(time.perf_counter() - started)
            assert status == want, (path, status, page[:300])
            assert expect is None or expect in page, page[-400:]
            pages[i] = page

    started = time.perf_counter()
    await asyncio.gather(*(worker(conn) for conn in conns))
    seconds = time.perf_counter() - started
    for conn in conns:
        conn.writer.close()
    return seconds, latencies, pages


def say(label: str, seconds: float, latencies: list[float]) -> None:
    cuts = quantiles(latencies, n=100)
    print(f"  {label:<22} {len(latencies):>6} requests in {seconds:6.2f} s: {len(latencies) / seconds:7.0f} req/s, "
          f"p50 {cuts[49] * 1000:6.1f} ms, p99 {cuts[98] * 1000:6.1f} ms")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Maildir:
    """aiosmtpd in a process of its own, keeping each message in a Maildir."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.process = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}",
                                         "-c", "aiosmtpd.handlers.Mailbox", str(folder)])
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "the SMTP server did not start"
                time.sleep(0.1)

    def count(self) -> int:
        return len(os.listdir(self.folder / "new")) if (self.folder / "new").is_dir() else 0

    @property
    def messages(self) -> list[tuple[list[str], Any]]:
        box = mailbox.Maildir(self.folder, create=False)
        return [([str(message["X-RcptTo"])], message) for message in box]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def scenario(store: Store, smtp: Maildir, port: int, n: int, connections: int, prefix: str, *,
             quiet: bool = False) -> None:
    """n sign-ups, their confirmations, their one-click unsubscribes; each checked recorded once."""
    def say_if(label: str, seconds: float, latencies: list[float]) -> None:
        if not quiet:
            say(label, seconds, latencies)

    before = smtp.count()
    addresses = [f"{prefix}{i}.{uuid.uuid4().hex[:6]}@example.org" for i in range(n)]
    mine = m.Person.address.in_(addresses)
    jobs = [("POST", "/subscribe", b"csrf={csrf}&website=&mode=daily&watch=police&email=" + a.encode())
            for a in addresses]
    seconds, latencies, _ = asyncio.run(phase(port, connections, jobs, 200, b"Check your mail"))
    say_if("sign-ups", seconds, latencies)

    started = time.perf_counter()
    while smtp.count() < before + n:
        assert time.perf_counter() - started < 600, f"only {smtp.count() - before} of {n} mails came"
        time.sleep(0.1)
    if not quiet:
        print(f"  {'confirmation mails':<22} {n:>6} received {time.perf_counter() - started:6.2f} s after the last sign-up")
    links: dict[str, str] = {}
    wanted = set(addresses)
    for rcpt, message in smtp.messages:
        (to,) = rcpt
        if to in wanted:
            assert to not in links, f"two confirmations to one address ({to})"
            links[to] = CONFIRM.search(body_of(message)).group(1)
    assert sorted(links) == sorted(addresses)

    jobs = [("POST", links[a], b"csrf={csrf}") for a in addresses]
    seconds, latencies, pages = asyncio.run(phase(port, connections, jobs, 200, b"You are subscribed"))
    say_if("confirms", seconds, latencies)
    manage = [MANAGE.search(page).group(1).decode() for page in pages]

    with store.session() as session:
        people = session.execute(select(m.Person.id, m.Person.address, m.Person.status, m.Person.confirmed_at)
                                 .where(mine)).all()
        assert len(people) == n and {p.address for p in people} == wanted
        assert all(p.status == "active" and p.confirmed_at is not None for p in people)
        ids = [p.id for p in people]
        assert session.scalar(select(func.count()).select_from(m.PersonMail).where(
            m.PersonMail.person_id.in_(ids), m.PersonMail.status == "sent")) == n

    jobs = [("POST", f"/u/{token}", b"List-Unsubscribe=One-Click") for token in manage]
    seconds, latencies, _ = asyncio.run(phase(port, connections, jobs, 200, b"unsubscribed"))
    say_if("one-click unsubscribes", seconds, latencies)
    with store.session() as session:
        first = dict(session.execute(select(m.Person.id, m.Person.unsubscribed_at).where(mine)).all())
    asyncio.run(phase(port, connections, jobs[:100], 200, b"unsubscribed"))  # clicked again: no change
    with store.session() as session:
        people = session.execute(select(m.Person.id, m.Person.status, m.Person.unsubscribed_at).where(mine)).all()
        assert len(people) == n and all(p.status == "unsubscribed" for p in people)
        assert {p.id: p.unsubscribed_at for p in people} == first
    assert smtp.count() == before + n
    if not quiet:
        print(f"  checked: {n} addresses, each one confirmation mail, recorded once, confirmed once, unsubscribed once")


def run(backend: str, db_url: str, folder: Path, n: int, connections: int) -> None:
    smtp = Maildir(folder / "mail")
    port = free_port()
    (folder / "site").mkdir()
    (folder / "tracker.toml").write_text(
        f'[storage]\nurl = "{db_url}"\n[digest]\nout = "site"\n'
        f'[alerts]\nmail_url = "mailto://tracker:@127.0.0.1:{smtp.port}?smtp=127.0.0.1&from=alerts@example.org'
        f'&user=&pass="\ntimeout_seconds = 10\n'
        f'[serve]\nport = {port}\npublic_url = "http://127.0.0.1:{port}"\n'
        'signups_per_client_hour = 1000000\nsignups_per_address_hour = 10\n'
        '[[bills]]\nid = "police"\nname = "Police accountability"\nnumbers = ["s35-117"]\n')
    store = Store(db_url)  # migrated before the server starts
    server = subprocess.Popen([sys.executable, "-m", "tracker.cli", "--config", str(folder / "tracker.toml"),
                               "--quiet", "serve"], cwd=folder, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "tracker serve did not start"
                time.sleep(0.1)
        print(f"{backend}: {n} people, {connections} connections, tracker serve pid {server.pid} "
              f"(after a warm-up round of {WARM_UP}, not shown)")
        scenario(store, smtp, port, WARM_UP, connections, "warm", quiet=True)
        scenario(store, smtp, port, n, connections, "p")
    finally:
        server.terminate()
        server.wait(30)
        smtp.stop()
        store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite", f"sqlite:///{tmp}/tracker.db", Path(tmp), args.n, args.connections)
    if args.only in (None, "postgresql"):
        try:
            import psycopg

            admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
        except Exception as exc:
            print(f"PostgreSQL: skipped ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
            return
        name = f"tracker_bench_{uuid.uuid4().hex[:8]}"
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            with tempfile.TemporaryDirectory() as tmp:
                run("PostgreSQL", f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", Path(tmp), args.n,
                    args.connections)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()


if __name__ == "__main__":
    main()
