"""Hostile inputs from sources (issue 25, items 1, 2 and 6), through the real `tracker` command in its
own process against recorded responses served on loopback (tracker/demo/replay.py, the Legistar API
of tracker/demo/legistar_api.py) and a real SMTP server:

1. line breaks, a bare CR and control characters in a meeting's title, location and body name: the
   digest is written whole (calendars, pages, Atom feeds) and every mail subject is one line; a page
   that still fails is left out with one line and `status --check` reports it, as it reports a
   digest that could not be written at all;
2. `javascript:` and `data:` links in congress-legislators' member data never become a link in the
   digest or a mail;
6. a Legistar person or office record that answers 404 is a warning: the source stays ok.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

import pytest
from icalendar import Calendar
from lxml import etree, html
from recorded import DEMO, LEGISLATORS, federal
from servers import Mailbox, Receiver

from tracker.demo import DETROIT_ANCHOR, NYC_ANCHOR, days_since, detroit_feed, nyc_events
from tracker.demo.derive import billstatus_before
from tracker.demo.legistar_api import LegistarApi
from tracker.demo.replay import ReplayServer
from tracker.safetext import one_line, web_url, xml_text

NOW = "2026-11-25T15:00:00Z"
TODAY = date(2026, 11, 25)
S35 = "/bulkdata/BILLSTATUS/117/s/BILLSTATUS-117s35.xml"
CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")  # in a content line of an .ics: nothing but tab


def tracker(config: Path, *args: str, now: str = NOW) -> subprocess.CompletedProcess[str]:
    """The real command line, in its own process, with the tracker's clock set."""
    env = {**os.environ, "TRACKER_NOW": now}
    env.pop("TRACKER_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "tracker.cli", "--config", str(config), *args], env=env,
                          capture_output=True, text=True, timeout=180, cwd=config.parent)


def subject(mail: Message) -> str:
    """The subject as a mail program shows it: decoded, folding undone (RFC 5322: a line break
    followed by white space is folding, nothing else)."""
    return re.sub(r"\r?\n(?=[ \t])", "", str(make_header(decode_header(mail["Subject"]))))


def body_of(mail: Message) -> str:
    part = mail.get_payload(0) if mail.is_multipart() else mail
    return part.get_payload(decode=True).decode()


# -- 1. line breaks and control characters in what sources say ----------------------------------------

def hostile_detroit_feed() -> bytes:
    """derived: the recorded Detroit feed (moved to today) with meeting 15582, newly listed, titled and
    placed with an escaped line break, a raw bare CR and a raw vertical tab."""
    feed = detroit_feed(days_since(DETROIT_ANCHOR, TODAY), later=True)
    title, place = b"SUMMARY:DPSCD 2019-20 Budget Hearing\r\n", b"LOCATION:6565 W. Outer Drive Detroit  \r\n"
    assert feed.count(title) == 1 and feed.count(place) == 1
    return (feed.replace(title, b"SUMMARY:DPSCD 2019-20 Budget Hearing\\nRoom 5\rEast Wing\r\n")
            .replace(place, b"LOCATION:6565 W. Outer Drive\\nDetroit\r\x0b48235\r\n"))


def hostile_nyc_events(body: str, location: str) -> list[dict[str, object]]:
    """derived: the recorded NYC events (moved to today) with hearing 20193, newly listed, given this
    body name and place."""
    events = nyc_events(days_since(NYC_ANCHOR, TODAY), later=True)
    (hearing,) = [e for e in events if e["EventId"] == 20193]
    hearing["EventBodyName"], hearing["EventLocation"] = body, location
    return events


def calendars_of(site: Path) -> dict[str, str]:
    """Every calendar of the site checked line by line (no raw CR, LF or control character inside a
    content line) and read: each event's "SUMMARY @ LOCATION" by UID."""
    calendars = [site / "meetings.ics", *site.glob("watches/*/meetings.ics"), *site.glob("meetings/*.ics")]
    assert len(calendars) > 10
    summaries: dict[str, str] = {}
    for path in calendars:
        data = path.read_bytes()
        assert data.endswith(b"END:VCALENDAR\r\n")
        bad = [line for line in data[:-2].split(b"\r\n") if CONTROL.search(line)]
        assert bad == [], (path.name, bad)
        for event in Calendar.from_ical(data).walk("VEVENT"):
            summaries[str(event["UID"])] = f"{event['SUMMARY']} @ {event.get('LOCATION')}"
    return summaries


def meetings_config(tmp_path: Path, replay: ReplayServer, mailbox: Mailbox, receiver: Receiver) -> Path:
    config = tmp_path / "tracker.toml"
    config.write_text(f"""
[crawl]
delay_seconds = 0
[sources.legistar]
base_url = "{replay.url}/v1"
[[meetings]]
id = "dpscd"
name = "Detroit Board of Education"
timezone = "America/Detroit"
ical = "{replay.url}/detroit.ics"
[[meetings]]
id = "nyc"
name = "New York City Council"
timezone = "America/New_York"
legistar = {{ client = "nyc", bodies = ["1", "19"] }}
[[subscribers]]
id = "organizer"
notify = ["mailto://127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=tracker@example.org&to=organizer@example.org",
          "{receiver.url}"]
""")
    return config


@pytest.mark.slow
def test_line_breaks_in_a_title_location_or_body_name_stop_no_writer(
        tmp_path: Path, replay: ReplayServer, mailbox: Mailbox) -> None:
    legistar = LegistarApi("/v1")
    replay.mount("/v1", legistar)
    nyc = legistar.client("nyc")
    nyc.add_events(nyc_events(days_since(NYC_ANCHOR, TODAY), later=False))
    replay.add("/detroit.ics", detroit_feed(days_since(DETROIT_ANCHOR, TODAY), later=False),
               content_type="text/calendar")
    receiver = Receiver()
    config = meetings_config(tmp_path, replay, mailbox, receiver)
    baseline = tracker(config, "--quiet", "run")
    assert (baseline.returncode, baseline.stderr) == (0, "")

    replay.replace("/detroit.ics", hostile_detroit_feed())
    nyc.events.clear()
    nyc.add_events(hostile_nyc_events("Committee on\nPublic Safety\r", "Committee Room\r\nCity Hall\r\x1b"))
    result = tracker(config, "run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""

    # mail: every subject is one line; the new meetings are named with their line breaks as spaces
    subjects = [subject(mail) for _, mail in mailbox.messages]
    assert subjects and all(not re.search(r"[\x00-\x1f\x7f]", s) for s in subjects), subjects
    assert any(s.startswith("Scheduled: Detroit Board of Education DPSCD 2019-20 Budget Hearing Room 5 East Wing, ")
               for s in subjects), subjects
    assert any(s.startswith("Scheduled: Committee on Public Safety, ") for s in subjects), subjects
    # a webhook's title too (a chat service shows it as the message's first line)
    titles = receiver.titles
    receiver.stop()
    assert sorted(titles) == sorted(subjects)

    # the calendars: every content line whole, no raw CR, LF or control character in any of them
    site = tmp_path / "site"
    summaries = calendars_of(site)
    assert summaries["meeting:ical:dpscd:15582@tracker"] == (
        "Detroit Board of Education DPSCD 2019-20 Budget Hearing Room 5 East Wing @ 6565 W. Outer Drive Detroit 48235")
    assert summaries["meeting:legistar:nyc:20193@tracker"] == "Committee on Public Safety @ Committee Room City Hall"

    # the pages: written, and free of what XML forbids
    pages = [site / "index.html", *site.glob("meetings/*.html")]
    assert (site / "meetings" / "meeting-ical-dpscd-15582.html").exists()
    for path in pages:
        assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", path.read_bytes()), path.name
    page = html.parse(str(site / "meetings" / "meeting-ical-dpscd-15582.html")).getroot()
    assert "Room 5" in page.findtext(".//h1")

    # the Atom feeds: well-formed XML, every title one line
    feeds = [site / "changes.atom", *site.glob("watches/*/changes.atom")]
    titles = []
    for path in feeds:
        root = etree.fromstring(path.read_bytes())
        titles += [t.text or "" for t in root.iter("{http://www.w3.org/2005/Atom}title")]
    assert any("Budget Hearing Room 5 East Wing" in t for t in titles)
    assert all(t == one_line(t) for t in titles), [t for t in titles if t != one_line(t)]

    check = tracker(config, "status", "--check")
    assert (check.returncode, check.stdout.strip()) == (0, "ok")


@pytest.mark.slow
def test_a_bare_cr_in_a_body_name_never_reaches_a_calendar_raw(tmp_path: Path, replay: ReplayServer) -> None:
    """A CR alone does not make icalendar refuse the calendar's name: it went into the .ics raw."""
    legistar = LegistarApi("/v1")
    replay.mount("/v1", legistar)
    legistar.client("nyc").add_events(hostile_nyc_events("Committee on\rPublic Safety", "Committee Room\rCity Hall"))
    config = tmp_path / "tracker.toml"
    config.write_text(f'[crawl]\ndelay_seconds = 0\n[sources.legistar]\nbase_url = "{replay.url}/v1"\n'
                      '[[meetings]]\nid = "nyc"\nname = "New York City Council"\ntimezone = "America/New_York"\n'
                      'legistar = { client = "nyc", bodies = ["1", "19"] }\n')
    result = tracker(config, "--quiet", "run")
    assert (result.returncode, result.stderr) == (0, "")
    summaries = calendars_of(tmp_path / "site")
    assert summaries["meeting:legistar:nyc:20193@tracker"] == "Committee on Public Safety @ Committee Room City Hall"
    calendar = Calendar.from_ical((tmp_path / "site" / "meetings" / "meeting-legistar-nyc-20193.ics").read_bytes())
    assert str(calendar["X-WR-CALNAME"]) == "Committee on Public Safety"


# a template an operator might write: the share of matching items, which divides by zero for a
# meeting with no items
SHARE_TEMPLATE = """{% extends "digest/base.html.j2" %}
{% block content %}<p>{{ 100 // (mt["items"] | length) }}% of its agenda matches.</p>{% endblock %}
"""


def detroit_config(tmp_path: Path, replay: ReplayServer, templates: str | None = None,
                   db_url: str | None = None) -> Path:
    replay.add("/detroit.ics", detroit_feed(days_since(DETROIT_ANCHOR, TODAY), later=True),
               content_type="text/calendar")
    config = tmp_path / "tracker.toml"
    override = f'[digest]\ntemplates = "{templates}"\n' if templates else ""
    storage = f'[storage]\nurl = "{db_url}"\n' if db_url else ""
    config.write_text(f'[crawl]\ndelay_seconds = 0\n{storage}{override}[[meetings]]\nid = "dpscd"\n'
                      f'name = "Detroit Board of Education"\ntimezone = "America/Detroit"\n'
                      f'ical = "{replay.url}/detroit.ics"\nkeywords = ["budget"]\n')
    return config


@pytest.mark.slow
def test_a_page_that_fails_is_left_out_with_one_line_and_status_check_says_so(
        tmp_path: Path, replay: ReplayServer) -> None:
    (tmp_path / "brand" / "digest").mkdir(parents=True)
    (tmp_path / "brand" / "digest" / "meeting.html.j2").write_text(SHARE_TEMPLATE)
    config = detroit_config(tmp_path, replay, "brand")
    result = tracker(config, "run")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    site = tmp_path / "site"
    written = sorted(p.name for p in site.glob("meetings/*.html"))
    # the budget hearing matches its keyword: its page is written; every other page is one line
    assert written == ["meeting-ical-dpscd-15582.html"]
    calendars = sorted(p.name for p in site.glob("meetings/*.ics"))
    assert len(calendars) == len(lines) + 1 > 5
    for line in lines:
        assert re.fullmatch(r"digest: page meetings/meeting-ical-dpscd-\d+\.html left out: "
                            r"ZeroDivisionError: integer division or modulo by zero", line), line
    assert (site / "index.html").exists() and b"BEGIN:VEVENT" in (site / "meetings.ics").read_bytes()
    quiet = tracker(config, "--quiet", "digest")  # as cron runs it: one line for them all
    assert (quiet.returncode, quiet.stdout) == (1, "")
    assert re.fullmatch(rf"digest: {len(lines)} parts left out: ZeroDivisionError: integer division or modulo "
                        r"by zero \(first: page meetings/meeting-ical-dpscd-\d+\.html\)\n", quiet.stderr), quiet.stderr

    check = tracker(config, "status", "--check")
    assert check.returncode == 1
    (problem,) = check.stdout.splitlines()
    assert problem.startswith(f"digest: written without {len(lines)} parts (last ")
    assert "ZeroDivisionError" in problem

    # the operator fixes the template: the next digest is whole and the problem is gone
    (tmp_path / "brand" / "digest" / "meeting.html.j2").unlink()
    fixed = tracker(config, "--quiet", "digest")
    assert (fixed.returncode, fixed.stderr) == (0, "")
    assert len(list(site.glob("meetings/*.html"))) == len(calendars)
    assert tracker(config, "status", "--check").returncode == 0


@pytest.mark.slow
def test_a_digest_that_cannot_be_written_is_reported_by_status_check(tmp_path: Path, replay: ReplayServer,
                                                                     db_url: str) -> None:
    """On SQLite and PostgreSQL: the outcome is a row in the database, read by another process."""
    (tmp_path / "brand" / "digest").mkdir(parents=True)
    broken = tmp_path / "brand" / "digest" / "index.html.j2"
    broken.write_text('{% include "digest/no_such_part.html.j2" %}')
    config = detroit_config(tmp_path, replay, "brand", db_url)
    result = tracker(config, "--quiet", "run")
    assert result.returncode == 1 and not (tmp_path / "site").exists()
    check = tracker(config, "status", "--check")
    assert check.returncode == 1
    assert result.stderr.splitlines() == ["digest: not written: TemplateNotFound: digest/no_such_part.html.j2"]
    (problem,) = check.stdout.splitlines()
    assert problem.startswith("digest: could not be written (last ")
    assert problem.endswith("none written yet: TemplateNotFound: digest/no_such_part.html.j2")

    broken.unlink()
    assert tracker(config, "--quiet", "digest").returncode == 0
    assert tracker(config, "status", "--check").returncode == 0
    index = (tmp_path / "site" / "index.html").read_bytes()

    # broken again, a day later: the site written before stays, and its age is said
    broken.write_text('{% include "digest/no_such_part.html.j2" %}')
    assert tracker(config, "--quiet", "digest", now="2026-11-26T15:00:00Z").returncode == 1
    assert (tmp_path / "site" / "index.html").read_bytes() == index
    check = tracker(config, "status", "--check", now="2026-11-26T15:00:00Z")
    assert check.returncode == 1
    (problem,) = check.stdout.splitlines()
    assert problem.startswith("digest: not updated since ") and "TemplateNotFound" in problem


def test_the_boundaries_one_by_one() -> None:
    assert web_url(" https://council.nyc.gov/testify/ ") == "https://council.nyc.gov/testify/"
    for refused in ("javascript:alert(12)", "JavaScript:alert(1)", "java\tscript:alert(1)", "data:text/html,x",
                    "vbscript:x", "//evil.example/", "/relative", "http://", "https://a b", "http://a\nb",
                    "hhttps://fine.house.gov/contact", None, "", "https://a\x7fb", "https://a/\x85b",
                    "https://a/b\u2028c", "https:///path", "https://a\u00a0b"):
        assert web_url(refused) is None, refused
    assert web_url("mailto:clerk@council.nyc.gov") is None
    assert web_url("mailto:clerk@council.nyc.gov", also=("mailto", "tel")) == "mailto:clerk@council.nyc.gov"
    assert web_url("tel:+12125550107", also=("mailto", "tel")) == "tel:+12125550107"
    assert one_line("Board meeting\nRoom 5\r\x0bEast\u2028Wing\x85 ") == "Board meeting Room 5 East Wing"
    assert xml_text("a\x00b\x0bc\nd\te\rf") == "abc\nd\te\rf"


def test_every_link_in_the_bundled_templates_passes_the_one_url_check() -> None:
    """An `href` or a message link from data goes through the `url` filter (tracker.safetext.web_url);
    only the site's own paths do not (a feed's links to itself and the digest: `[digest] url` or relative)."""
    ours = re.compile(r"^\{\{ (root|page\.page|bill\.page|mt\.page|mt\.calendar|m|r\.page|months\[0\]|self_link|home)[ }|]")
    folder = Path(__file__).resolve().parent.parent / "templates"
    for path in folder.rglob("*.j2"):
        text = path.read_text()
        for href in re.findall(r'href="([^"]*)"', text):
            if "{{" in href:
                value = href[href.index("{{"):]
                assert "| url" in value or ours.match(value), (path.name, href)
        for link in re.findall(r"\{\{ ([^}]*?) \| mdurl \}\}", text) + re.findall(r"set link = ([^%]*)%", text):
            assert "| url" in link or link.strip() in ("calendar", "link"), (path.name, link)
        for shown in re.findall(r"(?:Agenda|Watch|More): \{\{ ([^}]*) \}\}", text):
            assert "| url" in shown, (path.name, shown)


# -- 2. script links in member data --------------------------------------------------------------------

def hostile_legislators() -> dict[str, bytes]:
    """derived: congress-legislators' files with every Massachusetts member's contact form made
    `javascript:alert(12)`, Rep. Pressley's site a `data:` URL and the Senate Judiciary committee's a
    `javascript:` one."""
    files = {name: (DEMO / "legislators" / f"{name}.json").read_bytes() for name in LEGISLATORS}
    members = json.loads(files["legislators-current"])
    changed = 0
    for member in members:
        term = member["terms"][-1]
        if term["state"] == "MA":
            term["contact_form"] = "javascript:alert(12)"
            changed += 1
            if member["id"]["bioguide"] == "P000617":
                term["url"] = "data:text/html,<script>alert(13)</script>"
    assert changed == 11
    committees = json.loads(files["committees-current"])
    for committee in committees:
        if committee["thomas_id"] == "SSJU":
            committee["url"] = "javascript:alert(14)"
    files["legislators-current"] = json.dumps(members).encode()
    files["committees-current"] = json.dumps(committees).encode()
    return files


@pytest.mark.slow
def test_script_links_in_member_data_never_become_links(tmp_path: Path, replay: ReplayServer,
                                                        mailbox: Mailbox) -> None:
    real_s35 = federal("BILLSTATUS-117s35.xml")
    replay.add(S35, billstatus_before(real_s35, "2021-02-12"))  # derived: before it passed the Senate
    for name, data in hostile_legislators().items():
        replay.add(f"/congress-legislators/{name}.json", data)
    config = tmp_path / "tracker.toml"
    config.write_text(f"""
[crawl]
delay_seconds = 0
[sources.govinfo]
base_url = "{replay.url}"
[sources.legislators]
base_url = "{replay.url}/congress-legislators"
[[bills]]
id = "police"
name = "Police accountability"
numbers = ["s35-117"]
[[subscribers]]
id = "boston"
notify = ["mailto://127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=tracker@example.org&to=organizer@example.org"]
state = "MA"
district = 7
""")
    first = tracker(config, "--quiet", "run")
    assert (first.returncode, first.stderr) == (0, "")
    replay.replace(S35, real_s35)
    second = tracker(config, "--quiet", "run")
    assert (second.returncode, second.stderr) == (0, "")

    # the alert: the members are named with their phones and web sites, never the script
    ((_rcpt, mail),) = mailbox.messages
    text = body_of(mail)
    assert "javascript:" not in text.lower() and "data:text" not in text
    assert "Sen. Elizabeth Warren (D-MA): 202-224-4543, https://www.warren.senate.gov" in text
    assert "Rep. Ayanna Pressley (D-MA-7): 202-225-5111" in text

    # the digest: every link is the site's own or http(s); Warren's row links to her web site
    site = tmp_path / "site"
    hrefs = []
    for path in [site / "index.html", *site.glob("bills/*.html")]:
        page = html.parse(str(path)).getroot()
        hrefs += [a.get("href") for a in page.iter("a")]
        for row in page.cssselect("table.seats tr"):
            cells = [td.text_content() for td in row.findall("td")]
            if cells[:2] == ["MA", "Senior senator"] or cells[:2] == ["MA", "Junior senator"]:
                assert row.find(".//a").get("href").startswith("https://www.")
            if cells[:2] == ["MA", "District 7"]:
                assert cells[2] == "Ayanna Pressley" and row.find(".//a") is None
    # besides http(s): a phone number to call and an address to write to, as the digest links them
    assert hrefs and not [h for h in hrefs if ":" in h and not h.startswith(("http://", "https://"))
                          and not re.fullmatch(r"tel:\+\d{11}|mailto:[\w.+-]+@[\w.-]+", h)]
    raw = b"".join(p.read_bytes() for p in site.rglob("*") if p.is_file())
    assert b"javascript:" not in raw.lower() and b"data:text" not in raw


# -- 6. a Legistar person or office record that is gone ------------------------------------------------

@pytest.mark.slow
def test_a_legistar_person_or_office_record_that_404s_is_a_warning(tmp_path: Path, replay: ReplayServer) -> None:
    legistar = LegistarApi("/v1")
    replay.mount("/v1", legistar)
    nyc = legistar.client("nyc")
    nyc.add_events(nyc_events(days_since(NYC_ANCHOR, TODAY), later=True))
    nyc.officerecords[19] = json.loads((DEMO / "legistar" / "officerecords_body19.json").read_text())
    persons = {p["PersonId"]: p for p in json.loads((DEMO / "legistar" / "persons_body19.json").read_text())}
    del persons[7703]  # Priya Raman's person record answers 404; her office record gives an email
    nyc.persons = persons
    nyc.no_members = {1}  # the City Council body's office records answer 404
    config = tmp_path / "tracker.toml"
    config.write_text(f"""
[crawl]
delay_seconds = 0
[sources.legistar]
base_url = "{replay.url}/v1"
[operator]
failures_before_alert = 1
[[meetings]]
id = "nyc"
name = "New York City Council"
timezone = "America/New_York"
legistar = {{ client = "nyc", bodies = ["City Council", "Committee on Public Safety"] }}
""")
    result = tracker(config, "crawl")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("legistar:nyc: ok (2 warnings); ")
    warnings = sorted(result.stderr.splitlines())
    assert len(warnings) == 2, result.stderr
    assert warnings[0].startswith("warning: legistar:nyc: members of body 1: HTTP 404: this client publishes no members")
    assert warnings[1].startswith("warning: legistar:nyc: person 7703: HTTP 404: no such person record")
    assert replay.count("/v1/nyc/persons/7704") == 1  # the people after the missing one were still asked

    # the roster was stored: the committee's hearing page names her, from her office record
    assert tracker(config, "--quiet", "digest").returncode == 0
    pages = [html.parse(str(p)).getroot().text_content()
             for p in (tmp_path / "site" / "meetings").glob("meeting-legistar-nyc-*.html")]
    rosters = [page for page in pages if "Who to contact" in page]
    assert rosters and all("Member: Priya Raman, d26.office@council.nyc.example" in page for page in rosters)
    assert all("Chair: Marcus Ortega, d07@council.nyc.example" in page for page in rosters)

    # a day later (the rosters are due again) under --quiet, as cron runs it: nothing to say
    later = tracker(config, "--quiet", "crawl", now="2026-11-26T15:00:00Z")
    assert (later.returncode, later.stdout, later.stderr) == (0, "", "")
    check = tracker(config, "status", "--check", now="2026-11-26T15:00:00Z")
    assert (check.returncode, check.stdout.strip()) == (0, "ok")
    state = json.loads(tracker(config, "status", "--json", now="2026-11-26T15:00:00Z").stdout)
    assert [(s["id"], s["ok"], s["consecutive_failures"]) for s in state["sources"]] == [("legistar:nyc", True, 0)]
