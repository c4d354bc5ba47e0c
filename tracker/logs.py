"""All logging setup, and the shape of what an operator reads on stderr.

Cron mails every line a run prints, so `--quiet` prints only problems, one line each (at most
`LINE_MAX` characters, naming the source or subscriber and what failed), never a traceback and never
Scrapy's, Twisted's or apprise's own lines; repeated failures of one target become one line with a
count. Full detail (every library's lines, tracebacks) goes to `--verbose` and to the optional
`[tracker] log_file`, rotated by the standard library and masked like everything else.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tracker import secrets
from tracker.safetext import terminal

LINE_MAX = 200
LOG_FILE_BYTES = 5 * 1024 * 1024
LOG_FILE_BACKUPS = 5
# Loggers of the project itself; everything else is a library speaking for itself.
OWN = ("tracker", "spiders", "__main__")
# Libraries whose INFO lines (Scrapy's stats dumps, middleware lists) are noise even in a log file
# unless --verbose; their warnings and errors (tracebacks included) still reach the file.
CHATTY = ("scrapy", "twisted", "py.warnings", "protego", "filelock", "asyncio", "apprise", "urllib3",
          "alembic", "hpack")
FILE_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
_MARK = "_tracker_handler"


@dataclass(frozen=True)
class Settings:
    """How the process logs; handed to the ingest worker so it logs the same way."""

    quiet: bool = False
    verbose: bool = False
    log_file: str | None = None


_settings = Settings()


def current() -> Settings:
    return _settings


def shorten(text: str, limit: int = LINE_MAX) -> str:
    """One line of at most `limit` characters: whitespace collapsed, a trailing URL cut to its host
    first (the source name and the problem come first and are kept), then the tail cut."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    url = re.search(r" \((https?://[^\s)]+)\)$", line)
    if url:
        host = re.match(r"https?://[^/?#]+", url.group(1))
        short = f" ({host.group(0)}/…)" if host else ""
        if len(line[: url.start()] + short) <= limit:
            return line[: url.start()] + short
        line = line[: url.start()]  # the source and the problem matter more than where
        if len(line) <= limit:
            return line
    return line[: limit - 1].rstrip() + "…"


class OneLineFormatter(logging.Formatter):
    """The message alone, masked and shortened: no logger name, no traceback; a source's words in
    it cannot drive the terminal (`safetext.terminal`). A warning or error says so first, as the
    lines commands print themselves do (`warning: ...`, `error: ...`), so a cron mail's reader and
    `grep` tell them from a command's own report."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        prefix = "error: " if record.levelno >= logging.ERROR else "warning: " if record.levelno >= logging.WARNING \
            else ""
        line = terminal(shorten(secrets.mask(message), LINE_MAX - len(prefix)))
        return line if line.startswith(("warning:", "error:")) else prefix + line


class MaskedFormatter(logging.Formatter):
    """Full detail, tracebacks included, with secrets masked (a traceback's text is never passed
    through the record filter, so it is masked here), and no character a terminal acts on: the log
    file is read with `tail -f`, and a source's words reach it (an API's error message)."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal(secrets.mask(super().format(record)))


class ConsoleFilter(logging.Filter):
    """Below --verbose the console carries only the project's own lines; the libraries' go to the
    log file. Records marked `file_only` (problems the command prints itself) never reach it."""

    def __init__(self, own_only: bool) -> None:
        super().__init__()
        self.own_only = own_only

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "file_only", False):
            return False
        return not self.own_only or record.name.startswith(OWN)


def _ours(handler: logging.Handler) -> bool:
    return bool(getattr(handler, _MARK, False))


def _drop_our_handlers(root: logging.Logger, *, console: bool, files: bool) -> None:
    for handler in list(root.handlers):
        is_file = isinstance(handler, logging.FileHandler)
        if _ours(handler) and (files if is_file else console):
            root.removeHandler(handler)
            if isinstance(handler, logging.FileHandler):
                handler.close()


def setup_logging(quiet: bool, verbose: bool, log_file: str | Path | None = None, *,
                  keep_file: bool = False) -> None:
    """(Re)configure the process's logging. Safe to call again (the CLI runs many commands in one
    process in tests): our handlers are replaced, the log file kept only with `keep_file` (a late
    `--quiet` after the subcommand); handlers added by others (pytest's) are left alone."""
    global _settings
    _settings = Settings(quiet, verbose, _settings.log_file if keep_file else None)
    root = logging.getLogger()
    _drop_our_handlers(root, console=True, files=not keep_file)
    console = logging.StreamHandler(sys.stderr)
    setattr(console, _MARK, True)
    if verbose:
        console.setLevel(logging.DEBUG)
        console.setFormatter(MaskedFormatter("%(levelname)s %(name)s: %(message)s"))
        console.addFilter(ConsoleFilter(own_only=False))
    else:
        console.setLevel(logging.ERROR if quiet else logging.WARNING)
        console.setFormatter(OneLineFormatter())
        console.addFilter(ConsoleFilter(own_only=True))
    root.addHandler(console)
    if log_file:
        attach_log_file(log_file)
    _levels()
    secrets.install_log_masking()


def attach_log_file(path: str | Path) -> None:
    """Send full detail to `path` as well, rotated at LOG_FILE_BYTES (called once the config,
    which names the file, is loaded)."""
    global _settings
    root = logging.getLogger()
    target = str(Path(path).resolve())
    for handler in root.handlers:
        if _ours(handler) and isinstance(handler, logging.FileHandler) and handler.baseFilename == target:
            return
    _drop_our_handlers(root, console=False, files=True)
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(target, maxBytes=LOG_FILE_BYTES,
                                                   backupCount=LOG_FILE_BACKUPS, encoding="utf-8")
    _file_handler(handler)
    root.addHandler(handler)
    _settings = Settings(_settings.quiet, _settings.verbose, target)
    _levels()
    secrets.install_log_masking()


def _file_handler(handler: logging.Handler) -> None:
    setattr(handler, _MARK, True)
    handler.setLevel(logging.DEBUG if _settings.verbose else logging.INFO)
    handler.setFormatter(MaskedFormatter(FILE_FORMAT))


def _levels() -> None:
    """Logger levels: the lowest any handler wants, so a log file gets INFO under --quiet too."""
    has_file = bool(_settings.log_file)
    if _settings.verbose:
        level = logging.DEBUG
    elif has_file:
        level = logging.INFO
    else:
        level = logging.ERROR if _settings.quiet else logging.WARNING
    logging.getLogger().setLevel(level)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG if _settings.verbose else logging.WARNING)
    # A spider's warnings are its error lines, which the command prints (and files) itself.
    logging.getLogger("spiders").setLevel(logging.DEBUG if _settings.verbose else logging.ERROR)
    logging.captureWarnings(True)


def setup_worker(settings: Settings) -> None:
    """Logging in the ingest worker: the same console rules; the log file appended through a
    handler that reopens it when the main process rotates it."""
    global _settings
    _settings = Settings(settings.quiet, settings.verbose, None)
    setup_logging(settings.quiet, settings.verbose)
    if settings.log_file:
        handler = logging.handlers.WatchedFileHandler(settings.log_file, encoding="utf-8")
        _file_handler(handler)
        logging.getLogger().addHandler(handler)
        _settings = Settings(settings.quiet, settings.verbose, settings.log_file)
        _levels()
        secrets.install_log_masking()


# -- problem lines printed by commands ----------------------------------------------------------

_problems = logging.getLogger("tracker.problems")


def record(lines: Iterable[str]) -> None:
    """Write problem lines, in full, to the log file only (the command prints its own summary)."""
    for line in lines:
        _problems.error(line, extra={"file_only": True})


_DELIVERY = re.compile(
    r"^delivery (?P<id>\d+) to (?P<sub>\S+) \((?P<target>.+?)\) "
    r"(?:(?P<failed>failed), retry after [^:]+:\d\d [AP]M \S+|(?P<dead>is dead) after \d+ tr(?:y|ies)): (?P<error>.*)$"
)
_GONE = re.compile(r"^delivery (?P<id>\d+) to (?P<sub>\S+): (?P<error>.*)$")


_PERSON = re.compile(r"person:\d+")


def collapse_deliveries(lines: list[str]) -> list[str]:
    """One line per (subscriber, target, error) with a count, in first-seen order: an SMTP outage
    over 96 deliveries is one line, not 96 (or 192 with apprise's own). Self-service subscribers
    ("people", one subscriber each) are one: the mail server down for a thousand of them is one
    line too."""
    groups: dict[tuple[str, str, str], list[int]] = {}  # key -> [failed, dead, first delivery id]
    people: dict[tuple[str, str, str], set[str]] = {}  # a key of people's lines -> who they are
    out: list[str | tuple[str, str, str]] = []
    for line in lines:
        match = _DELIVERY.match(line)
        if match:
            key = (match["sub"], match["target"], match["error"])
            if _PERSON.fullmatch(match["sub"]):
                key = ("", _PERSON.sub("person:…", match["target"]).removesuffix(" to person:…"),
                       _PERSON.sub("person:…", match["error"]))
                people.setdefault(key, set()).add(match["sub"])
            counts = groups.get(key)
            if counts is None:
                counts = groups[key] = [0, 0]
                out.append(key)
            counts[0 if match["failed"] else 1] += 1
            continue
        gone = _GONE.match(line) if "lease had passed" not in line else None
        if gone:
            key = (gone["sub"], "", gone["error"])
            counts = groups.get(key)
            if counts is None:
                counts = groups[key] = [0, 0]
                out.append(key)
            counts[1] += 1
            continue
        out.append(line)
    result: list[str] = []
    for entry in out:
        if isinstance(entry, str):
            result.append(shorten(entry))
            continue
        sub, target, error = entry
        failed, dead = groups[entry]
        parts = []
        if failed:
            parts.append(f"{failed} deliver{'y' if failed == 1 else 'ies'} failed (will retry)")
        if dead:
            parts.append(f"{dead} deliver{'y' if dead == 1 else 'ies'} dead")
        where = f"subscriber {sub}" + (f" ({target})" if target else "")
        if entry in people:
            many = len(people[entry])
            where, parts[-1] = f"people ({target})", parts[-1] + f" to {many} {'person' if many == 1 else 'people'}"
        result.append(shorten(f"{where}: {', '.join(parts)}: {error}"))
    return result


_URL_TAIL = re.compile(r" \((?P<url>https?://[^\s)]+)\)$")


def collapse_source_errors(lines: list[str]) -> list[str]:
    """A source's error lines that say the same thing about different items (an unreachable host:
    every bill's request refused) become one line with a count and the first item's name."""
    groups: dict[tuple[str, str], list[str]] = {}
    order: list[tuple[str, str] | str] = []
    for line in lines:
        parts = line.split(": ", 2)
        if len(parts) < 3:
            order.append(line)
            continue
        source, _what, problem = parts
        url = _URL_TAIL.search(problem)
        host = ""
        if url:
            host_match = re.match(r"https?://[^/?#]+", url["url"])
            host = host_match.group(0) if host_match else ""
            problem = problem[: url.start()]
        key = (source, f"{problem}\x00{host}")
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(line)
    result: list[str] = []
    for entry in order:
        if isinstance(entry, str):
            result.append(shorten(entry))
            continue
        same = groups[entry]
        if len(same) == 1:
            result.append(shorten(same[0]))
            continue
        source, rest = entry
        problem, host = rest.split("\x00")
        whats = ", ".join(line.split(": ", 2)[1] for line in same)
        at = f" at {host}" if host else ""
        result.append(shorten(f"{source}: {len(same)} requests failed{at}: {problem} ({whats})"))
    return result


_LEFT_OUT = re.compile(r"^digest: (?P<what>.+?) left out: (?P<problem>.*)$")


def collapse_digest(lines: list[str]) -> list[str]:
    """Digest parts left out for the same reason (a template override failing on every meeting
    without agenda items) become one line with a count and the first part's name."""
    groups: dict[str, list[str]] = {}  # problem -> the parts it left out
    order: list[str | tuple[str]] = []  # a line kept as it is, or (problem,)
    for line in lines:
        match = _LEFT_OUT.match(line)
        if not match:
            order.append(line)
        elif match["problem"] in groups:
            groups[match["problem"]].append(match["what"])
        else:
            groups[match["problem"]] = [match["what"]]
            order.append((match["problem"],))
    result = []
    for entry in order:
        if isinstance(entry, str):
            result.append(shorten(entry))
            continue
        (problem,) = entry
        parts = groups[problem]
        if len(parts) == 1:
            result.append(shorten(f"digest: {parts[0]} left out: {problem}"))
        else:
            result.append(shorten(f"digest: {len(parts)} parts left out: {problem} (first: {parts[0]})"))
    return result
