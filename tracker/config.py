"""Load and validate the TOML config; every key is documented in docs/configuration.md.

One place decides what a valid config is. Every problem found is reported at once: a `ConfigError`
whose message has one line per problem, each naming the file, the key and what is wrong; the CLI
prints it and exits 2. Apprise URLs are read by apprise itself, the storage URL's database driver
must be importable, and bill numbers must lie where GovInfo's BILLSTATUS data does.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import shlex
import tomllib
import typing
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Optional
from urllib.parse import parse_qsl, quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from tracker import __version__, clock, secrets
from tracker.billnumbers import BillNumber, current_congress, ordinal, parse_bill_number
from tracker.changes import KINDS
from tracker.contacts import check_place
from tracker.records import state_bill_key
from tracker.sources import MEETING_SOURCES, SOURCES, BaseUrl
from tracker.states import STATES, phrase_pattern

DEFAULT_CONFIG = Path("config/tracker.toml")
WATCH_ID = r"^[a-z0-9][a-z0-9-]*$"
log = logging.getLogger(__name__)
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConfigError(Exception):
    """A config problem; str() is the one line shown to the operator."""


class FromEnvironment(str):
    """A value that is one `${NAME}` whole: the environment holds only text, so where its key takes
    a number or true/false the text is read as one (`port = "${PORT}"`), as `max_tries = "8"`
    written in the file is not."""


def _typed(value: FromEnvironment, annotation: Any) -> Any:
    """`value` as the number or true/false its key takes (None: its key takes neither)."""
    kinds = {a for a in (typing.get_args(annotation) or (annotation,)) if a in (int, float, bool)}
    text = value.strip()
    if bool in kinds and text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        if kind in kinds:
            try:
                return kind(text)
            except ValueError:
                continue
    return None


class Strict(BaseModel):
    # strict: a wrong type is a config error (docs/configuration.md), never coerced: `max_tries = "8"`,
    # `paused = 1` and `autothrottle = "yes"` are refused, as a misspelt key is. Fields that take
    # another form on purpose (a district written as a number, a bill number's text) convert it in
    # their own `mode="before"` validators; a number or true/false from the environment is read
    # as its key's type (`FromEnvironment`).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _environment_typed(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not any(_from_environment(v) for v in data.values()):
            return data
        typed = dict(data)
        for name, value in data.items():
            field_info = cls.model_fields.get(name)
            if field_info is None:
                continue
            if isinstance(value, FromEnvironment):
                typed[name] = _read_typed(value, field_info.annotation)
            elif isinstance(value, list) and (item := _item_annotation(field_info.annotation)) is not None:
                # `congresses = ["${CONGRESS}"]`: each item as the list's items are typed
                typed[name] = [_read_typed(v, item) if isinstance(v, FromEnvironment) else v for v in value]
        return typed


def _from_environment(value: Any) -> bool:
    """A value given whole by one `${NAME}`, or a list holding one."""
    return isinstance(value, FromEnvironment) or (
        isinstance(value, list) and any(isinstance(v, FromEnvironment) for v in value))


def _read_typed(value: FromEnvironment, annotation: Any) -> Any:
    """`value` as its key's number or true/false where it reads as one, else as given."""
    read = _typed(value, annotation)
    if read is None:
        return value
    secrets.forget(str(value))  # a number or true/false is no secret: masked, it hid every one said
    return read


def _item_annotation(annotation: Any) -> Any:
    """The items' type of a list key (`list[int]`, `list[int] | None`), else None."""
    for kind in (typing.get_args(annotation) if typing.get_origin(annotation) is not list else ()) or (annotation,):
        if typing.get_origin(kind) is list and typing.get_args(kind):
            return typing.get_args(kind)[0]
    return None


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


class TrackerSection(Strict):
    timezone: str = "America/New_York"
    contact: str = "https://github.com/tracker-org/tracker"
    log_file: str | None = None  # full detail (tracebacks, Scrapy's lines), rotated; relative to this file
    lock_timeout_minutes: float = Field(default=120, gt=0)  # a run holding the lock longer is reported

    _zone = field_validator("timezone")(_check_zone)


class StorageSection(Strict):
    url: str = "sqlite:///tracker.db"
    # How long each crawl's Run row is kept (a source's newest few, its newest good one and any a
    # change names always are): at 1,000 sources crawled every 15 minutes they are most of a
    # database's growth.
    keep_runs_days: int = Field(default=30, ge=1)

    @field_validator("url")
    @classmethod
    def _driver(cls, value: str) -> str:
        if problem := storage_problem(value):
            raise ValueError(problem)
        return value


def storage_problem(url: str) -> str | None:
    """Why SQLAlchemy could not open this kind of database here (unparseable URL, unknown database,
    driver not installed), or None. Nothing is connected to: that is the first crawl's job."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return "not a database URL (like 'sqlite:///tracker.db' or 'postgresql+psycopg://user@host/db')"
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        return f"unknown database kind {parsed.drivername!r} (SQLAlchemy has no dialect for it)"
    except ImportError as exc:
        return f"the driver for {parsed.drivername!r} cannot be imported ({exc})"
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        extra = ("install tracker's postgres extra (pip install '.[postgres]' in its source folder)"
                 if dialect.driver == "psycopg" else "install it")
        return (f"the {dialect.name} driver {dialect.driver!r} is not installed ({exc}); {extra}, or name "
                f"an installed driver in the URL ('{dialect.name}+DRIVER://...')")
    return None


class DigestSection(Strict):
    out: str = "site"
    templates: str | None = None  # folder whose templates override the bundled ones
    stale_hours: float = Field(default=26, gt=0)  # banner when the newest successful crawl is older
    # Where the digest is published: alerts link to its pages and a meeting's calendar entry there.
    url: BaseUrl | None = None


class AlertsSection(Strict):
    max_tries: int = Field(default=8, ge=1, le=100)
    retry_seconds: int = Field(default=300, ge=1)
    daily_at: str = "08:00"
    weekly_on: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = "monday"
    lease_seconds: int = Field(default=300, ge=10)
    # Notifier processes `tracker notify` runs side by side (PostgreSQL only: SQLite has one writer).
    workers: int = Field(default=1, ge=1, le=64)
    # How long a service may take to connect and to answer (apprise's `cto`/`rto`; a URL's own win).
    timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    # The SMTP server self-service subscribers' mail goes through: an apprise mailto/mailtos URL
    # without `to` (each person is its recipient). A secret: expanded from ${VARS}, never printed.
    mail_url: NotifyUrl | None = None
    # Permanent failures in a row (SMTP 5xx from a person's mail server) after which that person is
    # `bounced`: nothing more is owed them. A mail that goes through starts the count again.
    bounce_limit: int = Field(default=3, ge=1, le=100)

    @field_validator("mail_url")
    @classmethod
    def _mail_server_only(cls, value: NotifyUrl | None) -> NotifyUrl | None:
        if value is None:
            return None
        if value.url.split("://", 1)[0].lower() not in ("mailto", "mailtos"):
            raise ValueError("must be a mailto:// or mailtos:// apprise URL (the SMTP server subscribers' mail goes through)")
        if re.search(r"[?&]to=", value.url, re.IGNORECASE):
            raise ValueError("must not name a recipient (`to=`): each subscriber is one")
        return value

    @field_validator("daily_at")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"{value!r} is not a time like '08:00'")
        return value


class NotifyUrl(Strict):
    """An apprise URL: `template` keeps `${VAR}` unexpanded (hashed into delivery rows, safe to
    store); `url` is the expanded value, used only at send time and never printed."""

    template: str
    url: str

    def __repr__(self) -> str:
        return f"NotifyUrl({secrets.mask(self.template)!r})"

    __str__ = __repr__  # printed by mistake, it still shows no secret

    @model_validator(mode="after")
    def _apprise_reads_it(self, info: ValidationInfo) -> NotifyUrl:
        # Apprise loads every one of its plugins to read a URL (a quarter of a second at each start of
        # a process): a command that sends nothing (`load_config(read_by_apprise=False)`) checks only
        # that the URL has a scheme; the sending commands and `config check` have apprise read it.
        if info.context and not info.context.get("read_by_apprise", True):
            problem = None if "://" in self.url else _no_scheme(self.url)
        else:
            problem = apprise_problem(self.url)
        if problem:
            raise ValueError(problem)
        return self


class _Collect(logging.Handler):
    """Keeps apprise's own words about a URL (its log records) to explain a refusal."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def apprise_warnings() -> Iterator[list[str]]:
    """Apprise's own warning lines while the block runs: why a send failed, in its words. Its
    levels and handlers are left as they are (so `--verbose` still shows everything)."""
    logger = logging.getLogger("apprise")
    collect = _Collect()
    collect.setLevel(logging.WARNING)
    logger.addHandler(collect)
    try:
        yield collect.lines
    finally:
        logger.removeHandler(collect)


def apprise_problem(url: str) -> str | None:
    """Why apprise cannot deliver to this URL (unknown scheme, unreadable URL, a mail recipient that
    is no address), in apprise's own words, or None. Apprise's log lines are caught, not printed."""
    import apprise

    logger = logging.getLogger("apprise")
    collect = _Collect()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(collect)
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    try:
        plugin = apprise.Apprise.instantiate(url)
    except Exception as exc:  # apprise reports through its log; a raise is one more reason
        plugin = None
        collect.lines.append(str(exc))
    finally:
        logger.removeHandler(collect)
        logger.setLevel(level)
        logger.propagate = propagate
    said = [" ".join(line.split()).rstrip(".") for line in collect.lines if line.strip()]
    if plugin is None:
        scheme = url.split("://", 1)[0] if "://" in url else ""
        if not scheme:
            return _no_scheme(url)
        if not _known_scheme(scheme):
            return f"unknown apprise scheme '{scheme}://'"
        reasons = [line for line in said if not line.startswith(("Could not load", "Unparseable", "Unsupported"))]
        return _apprise_words((reasons or said or ["apprise gives no reason"])[0], url)
    for line in said:
        if dropped := re.match(r"Dropped invalid (.+?) \((.*)\) specified", line):
            return f"{dropped.group(1)} {dropped.group(2)!r} is not valid: apprise would drop it"
    if url.split("://", 1)[0].lower() in ("mailto", "mailtos"):
        # Each `to=` recipient becomes its own target (tracker/targets.py), so each must be one
        # apprise keeps: apprise skips a word that is no address without a word of its own.
        kept = [str(target[1]).lower() for target in getattr(plugin, "targets", None) or []]
        query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        for recipient in (r for r in re.split(r"[,;\s]+", query.get("to", "")) if r):
            if not any(address in recipient.lower() for address in kept):
                return f"To email {recipient!r} is not valid: apprise would drop it"
        if not kept:
            return "no valid mail recipient (`to=` needs an address)"
    return None


MAIL_EXAMPLE = "'mailtos://smtp.example.org?to=you@example.org' (its login, if any, as user:password@ before the host)"


def _no_scheme(url: str) -> str:
    """What is wrong with a URL apprise cannot read for want of `scheme://`, in words: a mail
    address or a web page's `mailto:` link is no apprise URL (apprise needs the server to send
    through), and `json:host` lacks its two slashes. The address itself is not repeated."""
    written = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):(?!//)", url.strip())
    if written and written.group(1).lower() in ("mailto", "mailtos"):
        return (f"a '{written.group(1)}:' mail link is not an apprise URL: apprise needs the mail server to send "
                f"through, like {MAIL_EXAMPLE}")
    if written and _known_scheme(written.group(1)):
        return f"'{written.group(1)}:' needs two slashes: apprise URLs are written '{written.group(1)}://...'"
    if re.fullmatch(r"[^@\s/:]+@[^@\s/:]+\.[A-Za-z]{2,}", url.strip()):
        return f"a mail address is not an apprise URL: apprise needs the mail server to send through, like {MAIL_EXAMPLE}"
    return "not an apprise URL: it needs a scheme, like 'mailtos://...' or 'json://host/path'"


def _apprise_words(line: str, url: str) -> str:
    """One of apprise's log lines about a URL it refuses, in words."""
    if line.startswith("Invalid ~From~ email specified"):
        fix = ("set from= to a whole address" if re.search(r"[?&]from=", url, re.I) else "add from= with an address")
        return (f"the sender's mail address is not valid (apprise makes it from the URL's user and host, or from=): "
                f"{fix}, like from=alerts@example.org")
    return "apprise cannot use this URL: " + line.replace("~", "")


def _known_scheme(scheme: str) -> bool:
    from apprise.manager_plugins import NotificationManager

    return scheme.lower() in NotificationManager()


class ServeSection(Strict):
    """`tracker serve`: the digest and the sign-up, confirm, unsubscribe and preference pages."""

    host: str = "127.0.0.1"  # behind a reverse proxy with TLS; see docs/operations.md
    port: int = Field(default=8080, ge=1, le=65535)
    # The public base of every link the tracker mails (https://alerts.example.org). Without it
    # nobody can sign up: a confirmation link must point somewhere a reader can open.
    public_url: BaseUrl | None = None
    confirm_hours: float = Field(default=48, gt=0, le=24 * 30)  # how long a confirmation link works
    # The key that signs the forms' CSRF tokens (a ${VAR}; a secret). Absent: made once and kept
    # in the store (table serve_keys).
    secret: str | None = Field(default=None, min_length=16)
    # Abuse limits of the sign-up form (docs/configuration.md): sign-ups a client address may send
    # an hour, sign-ups naming one mailbox an hour, and the least time between two mails to one
    # mailbox (a confirmation, or an active address's preferences link).
    signups_per_client_hour: int = Field(default=20, ge=1)
    signups_per_address_hour: int = Field(default=5, ge=1)
    # Sign-ups the whole server takes an hour, whoever sends them: many clients, each under its own
    # limit, must not make it mail without end (the sending domain's reputation is everyone's).
    signups_per_hour: int = Field(default=500, ge=1)
    resend_minutes: float = Field(default=15, ge=0)


class OperatorSection(Strict):
    notify: list[NotifyUrl] = []
    failures_before_alert: int = Field(default=3, ge=1)


class GovinfoSource(Strict):
    base_url: BaseUrl = "https://www.govinfo.gov"
    # A bill type with at least this many files to read is read from its ZIP package instead.
    package_min_files: int = Field(default=50, ge=1)
    package_max_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    # The most members a package may hold (the largest real one, the 118th Congress's hr: 10,564).
    package_max_members: int = Field(default=200_000, ge=1)
    # Bill files found through a sitemap (by title, not named) fetched one by one in a run; the rest
    # wait for the next runs, so one broken package never makes a run of hours.
    max_files_per_run: int = Field(default=1_000, ge=1)


class LegistarSource(Strict):
    base_url: BaseUrl = "https://webapi.legistar.com/v1"


class LegislatorsSource(Strict):
    """congress-legislators' JSON files: members of Congress, committees and their members."""

    base_url: BaseUrl = "https://unitedstates.github.io/congress-legislators"
    # False: never fetched, and what an earlier run stored is not used (alerts name no members).
    enabled: bool = True


class OpenStatesSource(Strict):
    """Open States API v3: state bills (and state legislators when no `people_dir` is given). Its
    free key allows 10 requests a minute and 250 a day; the spider keeps under both."""

    base_url: BaseUrl = "https://v3.openstates.org"
    api_key: str | None = None  # sent as X-API-KEY; a secret (masked everywhere)
    daily_budget: int = Field(default=250, ge=1)  # requests a UTC day, refused ones included
    per_minute: int = Field(default=10, ge=1, le=6000)  # requests a minute: the spider paces itself to it
    # A checkout of github.com/openstates/people (its `data/{state}/legislature/*.yml` and
    # `committees/*.yml`): legislators with their offices and committee chairs, read from disk
    # instead of the API (no request spent). Relative to the config file's folder.
    people_dir: str | None = None


class SourcesSection(Strict):
    govinfo: GovinfoSource = GovinfoSource()
    legistar: LegistarSource = LegistarSource()
    legislators: LegislatorsSource = LegislatorsSource()
    openstates: OpenStatesSource = OpenStatesSource()


class CrawlSection(Strict):
    """Politeness knobs. Defaults are gentle on government sites."""

    delay_seconds: float = Field(default=1.0, ge=0)
    concurrent_per_domain: int = Field(default=2, ge=1, le=32)
    autothrottle: bool = False
    timeout_seconds: float = Field(default=60, gt=0)
    max_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    obey_robots: bool = True
    max_retry_after_seconds: float = Field(default=300, ge=0)
    # the longest the reading of one answer may take (`spiders.base.read_in_time`)
    parse_seconds: float = Field(default=30, gt=0, le=3600)


class BillWatch(Strict):
    id: Annotated[str, Field(pattern=WATCH_ID)]
    name: str
    numbers: list[BillNumber] = []
    titles: list[str] = []
    congresses: list[int] = []
    title_contains: bool = False
    official_titles: bool = False

    @field_validator("numbers", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        """Every bad number is its own problem line (the message holds one line per number)."""
        if not isinstance(value, list):
            raise ValueError("must be a list of bill numbers like 'hr1470-117'")
        out, problems = [], []
        for item in value:
            try:
                if isinstance(item, BillNumber):
                    number = item
                elif isinstance(item, str):
                    number = parse_bill_number(item)
                else:
                    raise ValueError(f"{item!r} is not a bill number like 'hr1470-117'")
                if reason := congress_problem(number.congress):
                    raise ValueError(f"{number.key}: {reason}")
                out.append(number)
            except ValueError as exc:
                problems.append(str(exc))
        if problems:
            raise ValueError("\n".join(problems))
        return out

    @field_validator("congresses")
    @classmethod
    def _congresses(cls, value: list[int]) -> list[int]:
        problems = [f"{congress}: {reason}" for congress in value if (reason := congress_problem(congress))]
        if problems:
            raise ValueError("\n".join(problems))
        return value

    @model_validator(mode="after")
    def _something_to_watch(self) -> BillWatch:
        if not self.numbers and not self.titles:
            raise ValueError("a bill watch needs `numbers` or `titles`")
        return self


_STATE_NUMBER = re.compile(r"^\s*[A-Za-z][A-Za-z.]{0,5}(?:\s?[A-Za-z.]{1,4})?\s*\d{1,6}\s*[A-Za-z]?\s*$")


def _state_code(value: str) -> str:
    code = value.strip().lower()
    if code not in STATES:
        raise ValueError(f"unknown state {value!r}: use a two-letter code such as co, ny or dc")
    return code


class StateBillWatch(Strict):
    """A `[[bills]]` watch of state legislatures (Open States): named bills of one state and
    session (`state`, `session`, `numbers` in the state's own form, "SB 217"), and/or `keywords`
    searched in `states` (or `state`; neither: every state). Told apart from a federal bill watch by
    having `state`, `states`, `session` or `keywords`."""

    id: Annotated[str, Field(pattern=WATCH_ID)]
    name: str
    state: str | None = None
    states: list[str] = []
    session: str | None = None  # as Open States names it: "2020A", "2021", "191st", "2021-2022"
    numbers: list[str] = []
    keywords: list[str] = []

    @field_validator("state")
    @classmethod
    def _state(cls, value: str | None) -> str | None:
        return None if value is None else _state_code(value)

    @field_validator("states")
    @classmethod
    def _states(cls, value: list[str]) -> list[str]:
        out, problems = [], []
        for item in value:
            try:
                out.append(_state_code(item))
            except ValueError as exc:
                problems.append(str(exc))
        if problems:
            raise ValueError("\n".join(problems))
        return sorted(set(out))

    @field_validator("numbers")
    @classmethod
    def _numbers(cls, value: list[str]) -> list[str]:
        """"SB 217", "sb217", "HB 0004", "S.2963": letters then a number, said once per bad one."""
        problems = [f"{n!r} is not a state bill number like 'SB 217'" for n in value if not _STATE_NUMBER.match(n)]
        if problems:
            raise ValueError("\n".join(problems))
        return [" ".join(n.split()) for n in value]

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        for keyword in value:
            try:
                phrase_pattern(keyword)
            except ValueError:
                raise ValueError(f"keyword {keyword!r} has no words") from None
        return [" ".join(k.split()) for k in value]

    @model_validator(mode="after")
    def _what_and_where(self) -> StateBillWatch:
        if self.state and self.states:
            raise ValueError("give `state` or `states`, not both")
        if not self.numbers and not self.keywords:
            raise ValueError("a state bill watch needs `numbers` (with `state` and `session`) or `keywords`")
        if self.numbers and not (self.state and self.session):
            raise ValueError("`numbers` of state bills need `state` and `session` (e.g. state = \"co\", "
                             "session = \"2020A\")")
        if self.session and not self.state:
            raise ValueError("`session` needs `state` (sessions are named by each state)")
        return self

    @property
    def keyword_states(self) -> list[str] | None:
        """Where the keywords are searched: the states named, or None for every state."""
        if self.states:
            return self.states
        return [self.state] if self.state else None

    @property
    def number_keys(self) -> list[str]:
        """The named bills' keys (`co:2020a:sb217`)."""
        return [state_bill_key(self.state or "", self.session or "", n) for n in self.numbers]


def _bill_watch_kind(value: Any) -> str:
    """Which model a `[[bills]]` entry is (the tag names only appear in pydantic's error paths,
    which `_key_path` leaves out)."""
    if isinstance(value, dict):
        return STATE_TAG if {"state", "states", "session", "keywords"} & value.keys() else FEDERAL_TAG
    return STATE_TAG if isinstance(value, StateBillWatch) else FEDERAL_TAG


FEDERAL_TAG, STATE_TAG = "federal-bill-watch", "state-bill-watch"
AnyBillWatch = Annotated[
    Annotated[BillWatch, Tag(FEDERAL_TAG)] | Annotated[StateBillWatch, Tag(STATE_TAG)],
    Discriminator(_bill_watch_kind),
]


FIRST_BILLSTATUS_CONGRESS = 108


def congress_problem(congress: int) -> str | None:
    """Why no BILLSTATUS file can exist for this Congress, or None: GovInfo's BILLSTATUS data starts
    with the 108th Congress, and nothing exists after the next one (by the tracker's clock)."""
    if congress < FIRST_BILLSTATUS_CONGRESS:
        return f"GovInfo's BILLSTATUS data starts with the {ordinal(FIRST_BILLSTATUS_CONGRESS)} Congress"
    following = current_congress(clock.now().year) + 1
    if congress > following:
        return (f"the {ordinal(congress)} Congress is after the next one (the {ordinal(following)}): "
                "no bill of it can exist yet")
    return None


# One optional key per meeting source kind of the registry (`legistar = {...}`, `ical = "https://..."`),
# so a new kind needs no edit here.
_MeetingSources: type[BaseModel] = create_model(
    "_MeetingSources", __base__=Strict,
    **{name: (Optional[SOURCES[name].watch_value], None) for name in MEETING_SOURCES},  # noqa: UP045
)


class MeetingWatch(_MeetingSources):  # type: ignore[misc, valid-type]
    id: Annotated[str, Field(pattern=WATCH_ID)]
    name: str
    timezone: str | None = None
    keywords: list[str] = Field(default_factory=list)
    # Of a site listing many bodies (IQM2, CivicClerk...), the ones to follow: a meeting is kept
    # when one of these names is in its body's name or its title (spiders/listing.py). Empty: every body.
    bodies: list[str] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else _check_zone(value)

    @field_validator("bodies")
    @classmethod
    def _bodies(cls, value: list[str]) -> list[str]:
        if any(not name.strip() for name in value):
            raise ValueError("a body's name is empty")
        return [" ".join(name.split()) for name in value]

    @property
    def bodies_followed(self) -> list[str]:
        """`bodies` as they are matched (any case, any spacing), sorted: what the listing's cursor
        remembers, so following other bodies is a baseline, not news."""
        return sorted({name.casefold() for name in self.bodies})

    @model_validator(mode="after")
    def _one_source(self) -> MeetingWatch:
        given = [kind for kind in MEETING_SOURCES if getattr(self, kind) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a meeting watch needs exactly one source ({' | '.join(MEETING_SOURCES)}), got "
                + (", ".join(given) or "none")
            )
        if self.bodies and given == ["legistar"]:
            raise ValueError("bodies: a Legistar watch names its bodies in its own table "
                             "(legistar = { client = ..., bodies = [...] })")
        return self

    @property
    def source_kind(self) -> str:
        return next(kind for kind in MEETING_SOURCES if getattr(self, kind) is not None)

    @property
    def source(self) -> Any:
        """The watch's value for its source kind: a URL, or e.g. a LegistarWatch."""
        return getattr(self, self.source_kind)

    @property
    def source_id(self) -> str:
        return f"{self.source_kind}:{self.id}"


def kind_problem(pattern: str) -> str | None:
    """Why a change kind pattern (`meeting.*`, as a subscriber's `kinds` or `changes --kind` gives
    it) can match nothing, naming the known kinds; None when it matches one."""
    if any(fnmatch.fnmatchcase(kind, pattern) for kind in KINDS):
        return None
    return f"{pattern!r} matches no change kind (the kinds: {', '.join(KINDS)})"


# A reminder before a meeting (`reminders` of a subscriber): a duration before its start ("2d",
# "3h", "90m"), or the meeting's day at `[alerts] daily_at` in its body's zone ("morning").
MORNING = "morning"
_DURATION = re.compile(r"([1-9][0-9]{0,4})([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
LONGEST_REMINDER = timedelta(days=60)


def reminder_offset(text: str) -> timedelta | None:
    """How long before a meeting's start a reminder goes: "2d" is two days; None for "morning"
    (its time is the meeting day's `daily_at`). Raises ValueError, in words, for anything else."""
    if text == MORNING:
        return None
    found = _DURATION.fullmatch(text)
    if found is None:
        raise ValueError(f"{text!r} is not a reminder: give a time before the meeting like \"2d\", \"3h\" or "
                         f"\"90m\" (days, hours, minutes), or \"{MORNING}\" (the meeting's day at [alerts] daily_at)")
    offset = timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    if offset > LONGEST_REMINDER:
        raise ValueError(f"{text!r} is more than {LONGEST_REMINDER.days} days before the meeting: "
                         "meetings are rarely listed that far ahead")
    return offset


class Subscriber(Strict):
    id: Annotated[str, Field(pattern=WATCH_ID)]
    notify: list[NotifyUrl]
    follow: list[str] | None = None  # None = every watch
    mode: Literal["instant", "daily", "weekly"] = "instant"
    kinds: list[str] | None = None
    paused: bool = False
    # Where the subscriber votes: bill alerts then name their senators and representative.
    state: str | None = None  # two letters: MA, DC, PR...
    district: int | None = None  # 0 = at-large; omitted: senators only
    # Their state legislative districts as the state names them ("8", "Second Suffolk"): alerts
    # about their state's bills then name their state senator and representative.
    state_senate_district: str | None = None
    state_house_district: str | None = None
    # Reminders before meetings of followed bodies that carry a matching item or a followed matter
    # (tracker/reminders.py): `["2d", "morning"]`. None asked for: none sent.
    reminders: list[str] = Field(default_factory=list)

    @field_validator("reminders", mode="before")
    @classmethod
    def _reminders(cls, value: Any) -> Any:
        """Every bad value on its own line; the same time asked for twice ("1d" and "24h") too."""
        if not isinstance(value, list):
            return value  # pydantic says it is not a list
        problems: list[str] = []
        seen: dict[timedelta | None, str] = {}
        for text in value:
            if not isinstance(text, str):
                problems.append(f"{text!r} is not a reminder: write each as a quoted string like \"2d\" or \"morning\"")
                continue
            try:
                offset = reminder_offset(text)
            except ValueError as exc:
                problems.append(str(exc))
                continue
            if offset in seen:
                problems.append(f"{text!r} is the same time as {seen[offset]!r}: give each reminder once")
            seen.setdefault(offset, text)
        if problems:
            raise ValueError("\n".join(problems))
        return value

    # Each field is checked on its own (a model check runs only once every field is valid and so
    # would hide a second problem): `district` and the state districts read `state` from the fields
    # validated before them, and say nothing more when `state` itself is wrong.
    @field_validator("state")
    @classmethod
    def _state(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if problem := check_place(value, None):
            raise ValueError(problem)
        return value.strip().upper()

    @field_validator("district")
    @classmethod
    def _district(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None or "state" not in info.data:  # no district, or `state` already reported
            return value
        if info.data["state"] is None:
            raise ValueError("`district` needs `state`")
        if problem := check_place(info.data["state"], value):
            raise ValueError(problem)
        return value

    @field_validator("state_senate_district", "state_house_district", mode="before")
    @classmethod
    def _district_text(cls, value: Any) -> Any:
        """`8` or `"8"` or `"Second Suffolk"`: a number is taken as its text."""
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and not value.strip():
            raise ValueError("is empty: give the district as the state names it, like \"8\" or \"Second Suffolk\"")
        return value.strip() if isinstance(value, str) else value

    @field_validator("state_senate_district", "state_house_district")
    @classmethod
    def _state_district(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and "state" in info.data and info.data["state"] is None:
            raise ValueError(f"`{info.field_name}` needs `state`")
        return value

    @field_validator("notify")
    @classmethod
    def _some_target(cls, value: list[NotifyUrl]) -> list[NotifyUrl]:
        if not value:
            raise ValueError("needs at least one apprise URL")
        return value

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: list[str] | None) -> list[str] | None:
        problems = [problem for pattern in value or [] if (problem := kind_problem(pattern))]
        if problems:
            raise ValueError("\n".join(problems))  # one line each
        return value

    def wants(self, watch_id: str | None, kind: str) -> bool:
        if self.follow is not None and watch_id not in self.follow:
            return False
        return self.kinds is None or any(fnmatch.fnmatchcase(kind, p) for p in self.kinds)


class Config(Strict):
    tracker: TrackerSection = TrackerSection()
    storage: StorageSection = StorageSection()
    digest: DigestSection = DigestSection()
    alerts: AlertsSection = AlertsSection()
    operator: OperatorSection = OperatorSection()
    serve: ServeSection = ServeSection()
    sources: SourcesSection = SourcesSection()
    crawl: CrawlSection = CrawlSection()
    bills: list[AnyBillWatch] = []
    meetings: list[MeetingWatch] = []
    subscribers: list[Subscriber] = []
    # Where the file was; relative paths resolve against its folder. Not a TOML key.
    path: Path = Path("config/tracker.toml")

    @model_validator(mode="after")
    def _references(self) -> Config:
        problems = reference_problems({
            "bills": [{"id": w.id} for w in self.bills], "meetings": [{"id": w.id} for w in self.meetings],
            "subscribers": [{"id": s.id, "follow": s.follow} for s in self.subscribers]})
        if problems:
            raise ValueError("\n".join(f"{key}: {problem}" for key, problem in problems))
        return self

    # -- derived values -------------------------------------------------------------------
    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        path = Path(relative).expanduser()
        return path if path.is_absolute() else (self.base_dir / path)

    @property
    def database_url(self) -> str:
        """The storage URL with a relative SQLite path made relative to the config folder."""
        url = self.storage.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
            rest = url[len(prefix):]
            return prefix + str(self.resolve(rest).resolve())
        return url

    @property
    def digest_dir(self) -> Path:
        return self.resolve(self.digest.out)

    @property
    def watch_ids(self) -> list[str]:
        return [w.id for w in self.bills] + [w.id for w in self.meetings]

    @property
    def federal_bills(self) -> list[BillWatch]:
        """Bill watches of Congress (GovInfo)."""
        return [w for w in self.bills if isinstance(w, BillWatch)]

    @property
    def state_bills(self) -> list[StateBillWatch]:
        """Bill watches of state legislatures (Open States)."""
        return [w for w in self.bills if isinstance(w, StateBillWatch)]

    def bill_watch(self, watch_id: str) -> BillWatch | StateBillWatch | None:
        return next((w for w in self.bills if w.id == watch_id), None)

    def meeting_watch(self, watch_id: str) -> MeetingWatch | None:
        return next((w for w in self.meetings if w.id == watch_id), None)

    def display_zone(self, watch_id: str | None = None) -> ZoneInfo:
        watch = self.meeting_watch(watch_id) if watch_id else None
        return ZoneInfo((watch.timezone if watch and watch.timezone else None) or self.tracker.timezone)

    def user_agent(self) -> str:
        return f"tracker/{__version__} (+{self.tracker.contact}; legislation and meeting tracker)"


# -- loading ------------------------------------------------------------------------------


def reference_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, problem) for ids used twice and follows naming no watch. Read from the raw config, so
    these are reported together with every other problem."""
    def entries(section: str) -> list[dict[str, Any]]:
        value = data.get(section)
        return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []

    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for section in ("bills", "meetings"):
        for entry in entries(section):
            watch_id = entry.get("id")
            if isinstance(watch_id, str):
                if watch_id in seen:
                    problems.append((f"{section}[{watch_id}].id", f"watch id {watch_id!r} is used twice"))
                seen.add(watch_id)
    subscriber_ids: set[str] = set()
    for entry in entries("subscribers"):
        sub_id = entry.get("id")
        if isinstance(sub_id, str):
            if sub_id in subscriber_ids:
                problems.append((f"subscribers[{sub_id}].id", f"subscriber id {sub_id!r} is used twice"))
            subscriber_ids.add(sub_id)
        follow = entry.get("follow")
        for n, watch_id in enumerate(follow if isinstance(follow, list) else []):
            if isinstance(watch_id, str) and watch_id not in seen:
                problems.append((f"subscribers[{sub_id}].follow[{n}]", f"no watch has id {watch_id!r}"))
    return problems


def openstates_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """A state bill watch without an Open States key (read from the raw config, so it is reported
    with every other problem)."""
    bills = data.get("bills") if isinstance(data.get("bills"), list) else []
    states = [b for b in bills if isinstance(b, dict) and _bill_watch_kind(b) == STATE_TAG]
    sources = data.get("sources") if isinstance(data.get("sources"), dict) else {}
    openstates = sources.get("openstates") if isinstance(sources.get("openstates"), dict) else {}
    if states and not openstates.get("api_key"):
        return [("sources.openstates.api_key", f"bills[{states[0].get('id', 0)}] watches state bills: they need an "
                 "Open States API key (free: https://openstates.org/accounts/signup/), e.g. "
                 "api_key = \"${OPENSTATES_API_KEY}\"")]
    return []


def config_warnings(config: Config) -> list[str]:
    """What a valid config will not do that its writer likely expects (`config check` says it,
    exit 0): nothing watched, nobody alerted, nobody told of failures, nobody able to sign up."""
    out = []
    if not config.watch_ids:
        out.append("no watches ([[bills]], [[meetings]]): nothing will be crawled")
    if not config.subscribers:
        out.append("no [[subscribers]]: changes are recorded and shown in the digest, but nobody is alerted")
    elif all(s.paused for s in config.subscribers):
        out.append("every subscriber is paused: nobody is alerted")
    if not config.operator.notify:
        out.append("no [operator] notify: nobody is told when a source keeps failing or a run is stuck")
    if config.serve.public_url is not None and config.alerts.mail_url is None:
        out.append("[serve] public_url without [alerts] mail_url: sign-up is closed (no mail to confirm an address); "
                   "`tracker serve` serves the digest only")
    out += [warning for watch in config.meetings
            if (warning := _primegov_archive_warning(watch) or _civicclerk_days_warning(watch))]
    return out


def _civicclerk_days_warning(watch: MeetingWatch) -> str | None:
    """A CivicClerk address copied from the portal's requests often keeps the portal's month in its
    `$filter`; the crawl's window is joined to it with `and`, so once that month is past nothing is
    read. Its terms are left as written (an OData filter is not taken apart): the writer removes them."""
    if watch.source_kind != "civicclerk":
        return None
    filters = [value for name, value in parse_qsl(urlsplit(str(watch.source)).query) if name == "$filter"]
    if not any("startdatetime" in value.lower() for value in filters):
        return None
    return (f"meetings[{watch.id}]: its CivicClerk $filter names startDateTime, days of its own: the crawl's window is "
            "added to them with `and`, so once those days are past nothing is read; remove its startDateTime terms")


def _primegov_archive_warning(watch: MeetingWatch) -> str | None:
    """A PrimeGov watch of a year's archive (`ListArchivedMeetings?year=...`) lists that year's
    meetings once held: nothing of what is coming, and nothing at all once the year is over."""
    if watch.source_kind != "primegov":
        return None
    parts = urlsplit(str(watch.source))
    if "/listarchivedmeetings" not in parts.path.lower():
        return None
    year = dict(parse_qsl(parts.query)).get("year", "one year")
    upcoming = f"{parts.scheme}://{parts.netloc}/api/v2/PublicPortal/ListUpcomingMeetings"
    return (f"meetings[{watch.id}]: its PrimeGov list is the archive of {year}, meetings already held: it tells of "
            f"no meeting before it is held, and of none after {year}; the portal's meeting list is {upcoming}")


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("TRACKER_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG


def _label(items: list[Any], index: int) -> str:
    """A list entry's name in a key path: its `id` when it has one (`bills[eqia]`), else its index."""
    item = items[index]
    if isinstance(item, dict) and isinstance(item.get("id"), str | int):
        return str(item["id"])
    return str(index)


def _expand(value: Any, where: str, env: dict[str, str], problems: list[tuple[str, str]],
            encode: bool = False) -> Any:
    """Replace ${NAME} in every string (percent-encoded with `encode`, for a URL's user or
    password); remember substituted values as secrets. A variable that is not set is one problem
    (the text is left as written)."""
    if isinstance(value, str):
        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                problems.append((where, f"environment variable {name} is not set"))
                return match.group(0)
            secrets.register(env[name])
            if encode:
                secrets.register(quote(env[name], safe=""))
                return quote(env[name], safe="")
            return env[name]

        expanded = _VAR.sub(sub, value)
        whole = _VAR.fullmatch(value)
        return FromEnvironment(expanded) if whole and whole.group(1) in env and not encode else expanded
    if isinstance(value, list):
        return [_expand(v, f"{where}[{_label(value, i)}]", env, problems) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _expand(v, f"{where}.{k}" if where else k, env, problems) for k, v in value.items()}
    return value


def _expand_url(template: str, where: str, env: dict[str, str], problems: list[tuple[str, str]]) -> str:
    """A URL expanded, a `${VAR}` in its user or password percent-encoded: a password is put in
    the environment as it is, and one holding `@`, `/`, `:`, `%`, `?` or `#` would otherwise move
    the URL's host, cut the password short or be decoded into another one."""
    scheme = template.find("://")
    if scheme < 0:
        return str(_expand(template, where, env, problems))
    ends = [i for i in (template.find(c, scheme + 3) for c in "/?#") if i >= 0]
    userinfo = template.rfind("@", scheme + 3, min(ends, default=len(template)))
    if userinfo < 0:
        return str(_expand(template, where, env, problems))
    return (_expand(template[:userinfo], where, env, problems, encode=True)
            + _expand(template[userinfo:], where, env, problems))


def _strings(value: Any) -> Iterator[str]:
    """Every string in a parsed TOML value, however deep."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _notify_urls(raw: Any, where: str, env: dict[str, str], problems: list[tuple[str, str]]) -> Any:
    if not isinstance(raw, list):
        return raw
    out = []
    for i, template in enumerate(raw):
        if not isinstance(template, str):
            out.append(template)
            continue
        url = _expand_url(template, f"{where}[{i}]", env, problems)
        # A password written literally in the file is still a secret for output purposes.
        for password in secrets.url_passwords(url):
            secrets.register(password)
        out.append({"template": template, "url": url})
    return out


def _key_path(raw: dict[str, Any], loc: tuple[Any, ...]) -> str:
    """Turn a pydantic error location into `bills[eqia].numbers[2]`-style key names."""
    parts: list[str] = []
    node: Any = raw
    for step in loc:
        if isinstance(step, int):
            label = str(step)
            if isinstance(node, list) and step < len(node) and isinstance(node[step], dict):
                label = str(node[step].get("id", step))
            parts[-1:] = [f"{parts[-1]}[{label}]"] if parts else [f"[{label}]"]
            node = node[step] if isinstance(node, list) and step < len(node) else None
        else:
            if step == "function-after[_something_to_watch()]" or step in (FEDERAL_TAG, STATE_TAG):
                continue
            if step in ("template", "url") and isinstance(node, dict) and {"template", "url"} <= node.keys():
                continue  # a notify URL is named by its place in the list, as written
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return ".".join(p for p in parts if not p.startswith("function-")) or "(top level)"


def _problem_text(error: Any) -> list[str]:
    """The problem lines of one pydantic error (a validator may report several, one per line)."""
    if error["type"] == "extra_forbidden":
        return ["unknown key"]
    lines = str(error["msg"]).removeprefix("Value error, ").splitlines() or [""]
    if error["type"] not in ("value_error", "missing") and "input" in error:
        shown = error["input"]
        if isinstance(shown, str | int | float | bool):
            lines[-1] += f" (got {shown!r})"
    return lines


def _only(raw: dict[str, Any], parts: Collection[str]) -> dict[str, Any]:
    """The config's tables a command reads (`tracker`, `sources.legistar`), the rest left out."""
    kept: dict[str, Any] = {}
    for part in parts:
        top, _, sub = part.partition(".")
        if top not in raw:
            continue
        if not sub:
            kept[top] = raw[top]
        elif isinstance(raw[top], dict) and sub in raw[top]:
            kept.setdefault(top, {})[sub] = raw[top][sub]
    return kept


def unset_variables(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None
                    ) -> dict[str, list[str]]:
    """Each `${NAME}` the config names that the environment does not set, with the keys naming it
    (empty when the file cannot be read: the loading says why)."""
    env = dict(os.environ) if env is None else env
    try:
        raw = tomllib.loads(config_path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    unset: dict[str, list[str]] = {}
    for key, value in raw.items():
        problems: list[tuple[str, str]] = []
        _expand(value, key, env, problems)
        for where, problem in problems:
            unset.setdefault(problem.removeprefix("environment variable ").removesuffix(" is not set"),
                             []).append(where)
    return unset


def load_config(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None, *,
                parts: Collection[str] | None = None, read_by_apprise: bool = True) -> Config:
    """Read, expand and validate the config file. Raises ConfigError listing every problem found,
    one line each: `FILE: key.path: problem`. With `parts` (`"tracker"`, `"sources.legistar"`),
    only those tables are read: a command needing none of the rest (`sources detect`) is not
    refused for a secret it never uses. Without `read_by_apprise`, a notify URL is only checked for
    its scheme (for a command that sends nothing: apprise's plugins cost a quarter of a second)."""
    file = config_path(path)
    env = dict(os.environ) if env is None else env
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        init = "tracker config init" + ("" if file == DEFAULT_CONFIG else f" {shlex.quote(str(file))}")
        raise ConfigError(f"{file}: config file not found: `{init}` writes the sample config there to edit") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None
    if parts is not None:
        raw = _only(raw, parts)

    unset: list[tuple[str, str]] = []  # ${VAR} problems
    expanded: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "subscribers" and isinstance(value, list):
            subs = []
            for i, sub in enumerate(value):
                if isinstance(sub, dict):
                    label = _label(value, i)
                    sub = {
                        k: (_notify_urls(v, f"subscribers[{label}].notify", env, unset) if k == "notify"
                            else _expand(v, f"subscribers[{label}].{k}", env, unset))
                        for k, v in sub.items()
                    }
                subs.append(sub)
            expanded[key] = subs
        elif key == "alerts" and isinstance(value, dict) and isinstance(value.get("mail_url"), str):
            expanded[key] = {k: (_notify_urls([v], "alerts.mail_url", env, unset)[0] if k == "mail_url"
                                 else _expand(v, f"alerts.{k}", env, unset)) for k, v in value.items()}
        elif key == "operator" and isinstance(value, dict):
            expanded[key] = {
                k: (_notify_urls(v, "operator.notify", env, unset) if k == "notify"
                    else _expand(v, f"operator.{k}", env, unset))
                for k, v in value.items()
            }
        elif key == "meetings" and isinstance(value, list):
            # a source's address as a notify URL: a `${VAR}` in its login percent-encoded (a feed's
            # password holding "/", "?", "#" or "%" would otherwise move its host or path)
            expanded[key] = [
                {k: (_expand_url(v, f"meetings[{_label(value, i)}].{k}", env, unset) if isinstance(v, str)
                     and "://" in v else _expand(v, f"meetings[{_label(value, i)}].{k}", env, unset))
                 for k, v in item.items()} if isinstance(item, dict)
                else _expand(item, f"meetings[{_label(value, i)}]", env, unset)
                for i, item in enumerate(value)]
        elif key == "storage" and isinstance(value, dict) and isinstance(value.get("url"), str):
            expanded[key] = {k: (_expand_url(v, "storage.url", env, unset) if k == "url"
                                 else _expand(v, f"storage.{k}", env, unset)) for k, v in value.items()}
        else:
            expanded[key] = _expand(value, key, env, unset)

    # A password written literally before a host in any address of the file (a private feed's
    # `https://reader:PASSWORD@host/...`) is a secret too: a downloader's own error words
    # (`invalid hostname: reader:PASSWORD@host`) quote it outside any URL the patterns mask.
    for text in _strings(expanded):
        for password in secrets.url_passwords(text):
            secrets.register(password)
    # So is a key in a meeting source's address (`?signature=…`, `?client_secret=…`, a private
    # calendar's `/private-<hex>/` path), which `secrets.mask`'s patterns do not all know: read as
    # `sources detect` reads a pasted address.
    for text in _strings(expanded.get("meetings")):
        if re.match(r"(?i)(https?|webcal)://", text):
            secrets.keep_url_secrets(text)
    for meeting in expanded.get("meetings") or []:
        if isinstance(meeting, dict) and isinstance(meeting.get("legistar"), dict):
            secrets.register(meeting["legistar"].get("token"))
    serve = expanded.get("serve")
    if isinstance(serve, dict) and isinstance(serve.get("secret"), str):
        secrets.register(serve["secret"])  # even written in the file itself
    sources = expanded.get("sources")
    if isinstance(sources, dict) and isinstance(sources.get("openstates"), dict):
        key = sources["openstates"].get("api_key")
        secrets.register(key if isinstance(key, str) else None)  # even written in the file itself
    if isinstance(sources, dict) and "congress_gov" in sources:  # an older config: accepted, unused
        old = sources.pop("congress_gov")
        if isinstance(old, dict):
            secrets.register(old.get("api_key"))
        log.warning("%s: sources.congress_gov is no longer used (bills come from GovInfo); remove it", file)

    problems: list[tuple[str, str]] = list(unset)
    if "path" in expanded:
        problems.append(("path", "unknown key"))
        expanded.pop("path")
    try:
        config = Config.model_validate({**expanded, "path": file}, context={"read_by_apprise": read_by_apprise})
    except ValidationError as exc:
        config = None
        for error in exc.errors():
            if not error["loc"]:
                continue  # Config._references: reported below from the raw config, with the rest
            key = _key_path(expanded, tuple(error["loc"]))
            problems.extend((key, line) for line in _problem_text(error))
    problems.extend(reference_problems(expanded))
    problems.extend(openstates_problems(expanded))
    # A value with an unset variable is not also reported for what the variable's absence did to it.
    blamed = {key for key, _ in unset}
    shown: list[str] = []
    for key, problem in problems:
        if (key, problem) not in unset and any(key == b or key.startswith((b + "[", b + ".")) for b in blamed):
            continue
        line = secrets.mask(f"{file}: {key}: {problem}")
        if line not in shown:
            shown.append(line)
    # Folders named in the config must be there: a missing one would be passed over in silence (the
    # bundled templates used, no state legislator named)
    folders = [] if config is None else [
        ("sources.openstates.people_dir", config.sources.openstates.people_dir,
         "clone it: git clone --depth 1 https://github.com/openstates/people"),
        ("digest.templates", config.digest.templates, "a folder of the templates you change, under the bundled names")]
    for key, named, what in folders:
        if named and not (folder := config.resolve(named)).is_dir():  # type: ignore[union-attr]
            shown.append(f"{file}: {key}: no folder {folder} ({what})")
    if shown:
        raise ConfigError("\n".join(shown))
    assert config is not None
    return config
