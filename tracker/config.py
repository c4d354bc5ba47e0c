"""Load and validate the TOML config; every key is documented in docs/configuration.md.

One place decides what a valid config is. Every problem becomes a `ConfigError` whose message is
one line naming the file, the key and what is wrong; the CLI prints it and exits 2.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from tracker import secrets
from tracker.billnumbers import BillNumber, parse_bill_number
from tracker.changes import KINDS
from tracker.sources import MEETING_SOURCES, SOURCES, HttpUrl

DEFAULT_CONFIG = Path("config/tracker.toml")
WATCH_ID = r"^[a-z0-9][a-z0-9-]*$"
log = logging.getLogger(__name__)
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConfigError(Exception):
    """A config problem; str() is the one line shown to the operator."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class DigestSection(Strict):
    out: str = "site"
    templates: str | None = None  # folder whose templates override the bundled ones
    stale_hours: float = Field(default=26, gt=0)  # banner when the newest successful crawl is older


class AlertsSection(Strict):
    max_tries: int = Field(default=8, ge=1, le=100)
    retry_seconds: int = Field(default=300, ge=1)
    daily_at: str = "08:00"
    weekly_on: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = "monday"
    lease_seconds: int = Field(default=300, ge=10)

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


class OperatorSection(Strict):
    notify: list[NotifyUrl] = []
    failures_before_alert: int = Field(default=3, ge=1)


class GovinfoSource(Strict):
    base_url: HttpUrl = "https://www.govinfo.gov"


class LegistarSource(Strict):
    base_url: HttpUrl = "https://webapi.legistar.com/v1"


class LegislatorsSource(Strict):
    """congress-legislators' JSON files: members of Congress, committees and their members."""

    base_url: HttpUrl = "https://unitedstates.github.io/congress-legislators"


class SourcesSection(Strict):
    govinfo: GovinfoSource = GovinfoSource()
    legistar: LegistarSource = LegistarSource()
    legislators: LegislatorsSource = LegislatorsSource()


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
        if not isinstance(value, list):
            raise ValueError("must be a list of bill numbers like 'hr1470-117'")
        out = []
        for item in value:
            if isinstance(item, BillNumber):
                out.append(item)
            elif isinstance(item, str):
                out.append(parse_bill_number(item))
            else:
                raise ValueError(f"{item!r} is not a bill number like 'hr1470-117'")
        return out

    @field_validator("congresses")
    @classmethod
    def _congresses(cls, value: list[int]) -> list[int]:
        for congress in value:
            if not 93 <= congress <= 200:
                raise ValueError(f"{congress} is not a Congress with BILLSTATUS data (93rd onward)")
        return value

    @model_validator(mode="after")
    def _something_to_watch(self) -> BillWatch:
        if not self.numbers and not self.titles:
            raise ValueError("a bill watch needs `numbers` or `titles`")
        return self


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

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else _check_zone(value)

    @model_validator(mode="after")
    def _one_source(self) -> MeetingWatch:
        given = [kind for kind in MEETING_SOURCES if getattr(self, kind) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a meeting watch needs exactly one source ({' | '.join(MEETING_SOURCES)}), got "
                + (", ".join(given) or "none")
            )
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


class Subscriber(Strict):
    id: Annotated[str, Field(pattern=WATCH_ID)]
    notify: list[NotifyUrl]
    follow: list[str] | None = None  # None = every watch
    mode: Literal["instant", "daily", "weekly"] = "instant"
    kinds: list[str] | None = None
    paused: bool = False

    @field_validator("notify")
    @classmethod
    def _some_target(cls, value: list[NotifyUrl]) -> list[NotifyUrl]:
        if not value:
            raise ValueError("needs at least one apprise URL")
        return value

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: list[str] | None) -> list[str] | None:
        for pattern in value or []:
            if not any(fnmatch.fnmatchcase(kind, pattern) for kind in KINDS):
                raise ValueError(f"{pattern!r} matches no change kind ({', '.join(KINDS)})")
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
    sources: SourcesSection = SourcesSection()
    crawl: CrawlSection = CrawlSection()
    bills: list[BillWatch] = []
    meetings: list[MeetingWatch] = []
    subscribers: list[Subscriber] = []
    # Where the file was; relative paths resolve against its folder. Not a TOML key.
    path: Path = Path("config/tracker.toml")

    @model_validator(mode="after")
    def _references(self) -> Config:
        ids = [w.id for w in self.bills] + [w.id for w in self.meetings]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"watch id {dupes[0]!r} is used twice")
        sub_ids = [s.id for s in self.subscribers]
        dupes = sorted({i for i in sub_ids if sub_ids.count(i) > 1})
        if dupes:
            raise ValueError(f"subscriber id {dupes[0]!r} is used twice")
        for sub in self.subscribers:
            for watch_id in sub.follow or []:
                if watch_id not in ids:
                    raise ValueError(f"subscribers.{sub.id}.follow: no watch has id {watch_id!r}")
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

    def bill_watch(self, watch_id: str) -> BillWatch | None:
        return next((w for w in self.bills if w.id == watch_id), None)

    def meeting_watch(self, watch_id: str) -> MeetingWatch | None:
        return next((w for w in self.meetings if w.id == watch_id), None)

    def display_zone(self, watch_id: str | None = None) -> ZoneInfo:
        watch = self.meeting_watch(watch_id) if watch_id else None
        return ZoneInfo((watch.timezone if watch and watch.timezone else None) or self.tracker.timezone)

    def user_agent(self) -> str:
        from tracker import __version__

        return f"tracker/{__version__} (+{self.tracker.contact}; legislation and meeting tracker)"


# -- loading ------------------------------------------------------------------------------


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("TRACKER_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG


def _expand(value: Any, where: str, env: dict[str, str]) -> Any:
    """Replace ${NAME} in every string; remember substituted values as secrets."""
    if isinstance(value, str):
        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise ConfigError(f"{where}: environment variable {name} is not set")
            secrets.register(env[name])
            return env[name]

        return _VAR.sub(sub, value)
    if isinstance(value, list):
        return [_expand(v, f"{where}[{i}]", env) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _expand(v, f"{where}.{k}" if where else k, env) for k, v in value.items()}
    return value


def _notify_urls(raw: Any, where: str, env: dict[str, str]) -> Any:
    if not isinstance(raw, list):
        return raw
    out = []
    for i, template in enumerate(raw):
        if not isinstance(template, str):
            out.append(template)
            continue
        url = _expand(template, f"{where}[{i}]", env)
        # A password written literally in the file is still a secret for output purposes.
        for found in re.finditer(r"://[^/\s:@]+:([^/\s@]+)@", url):
            secrets.register(found.group(1))
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
            if step in ("template", "url", "function-after[_something_to_watch()]"):
                continue
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return ".".join(p for p in parts if not p.startswith("function-")) or "(top level)"


def load_config(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Config:
    """Read, expand and validate the config file. Raises ConfigError with a one-line message."""
    file = config_path(path)
    env = dict(os.environ) if env is None else env
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None

    try:
        expanded: dict[str, Any] = {}
        for key, value in raw.items():
            if key == "subscribers" and isinstance(value, list):
                subs = []
                for i, sub in enumerate(value):
                    if isinstance(sub, dict):
                        label = sub.get("id", i)
                        sub = {
                            k: (_notify_urls(v, f"subscribers[{label}].notify", env) if k == "notify"
                                else _expand(v, f"subscribers[{label}].{k}", env))
                            for k, v in sub.items()
                        }
                    subs.append(sub)
                expanded[key] = subs
            elif key == "operator" and isinstance(value, dict):
                expanded[key] = {
                    k: (_notify_urls(v, "operator.notify", env) if k == "notify" else _expand(v, f"operator.{k}", env))
                    for k, v in value.items()
                }
            else:
                expanded[key] = _expand(value, key, env)
    except ConfigError as exc:
        raise ConfigError(f"{file}: {exc}") from None

    for meeting in expanded.get("meetings") or []:
        if isinstance(meeting, dict) and isinstance(meeting.get("legistar"), dict):
            secrets.register(meeting["legistar"].get("token"))
    sources = expanded.get("sources")
    if isinstance(sources, dict) and "congress_gov" in sources:  # an older config: accepted, unused
        old = sources.pop("congress_gov")
        if isinstance(old, dict):
            secrets.register(old.get("api_key"))
        log.warning("%s: sources.congress_gov is no longer used (bills come from GovInfo); remove it", file)

    if "path" in expanded:
        raise ConfigError(f"{file}: path: unknown key")
    try:
        return Config.model_validate({**expanded, "path": file})
    except ValidationError as exc:
        error = exc.errors()[0]
        key = _key_path(expanded, tuple(error["loc"]))
        if error["type"] == "extra_forbidden":
            problem = "unknown key"
        else:
            problem = error["msg"].removeprefix("Value error, ")
            if error["type"] not in ("value_error", "missing") and "input" in error:
                shown = error["input"]
                if isinstance(shown, str | int | float | bool):
                    problem += f" (got {secrets.mask(repr(shown))})"
        more = len(exc.errors()) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise ConfigError(f"{file}: {key}: {secrets.mask(problem)}{suffix}") from None
