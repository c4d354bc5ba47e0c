"""The `tracker` command line; every command and option is documented in docs/cli.md.

Exit codes: 0 success; 1 the command ran but something failed (a source, a delivery), with the
rest done; 2 usage or config error, nothing done. `--quiet` prints only errors (cron mails output).

Argument parsing and printing only: what a command does is in the module it calls. Each command
imports that module inside its function, so a command loads only the stack it runs (Scrapy and
Twisted through tracker.crawl, apprise through tracker.alerts, Jinja2 through tracker.digest,
Alembic through the store's migrations): `config check`, `status --check` from monitoring and
`--help` start without the others.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import shutil
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib.resources import files
from pathlib import Path
from typing import Any, NoReturn

import click

from tracker import clock, logs, secrets
from tracker.config import (
    DEFAULT_CONFIG,
    Config,
    ConfigError,
    config_path,
    config_warnings,
    kind_problem,
    load_config,
    unset_variables,
)
from tracker.faults import describe_failure, disk_full
from tracker.logs import setup_logging
from tracker.safetext import terminal
from tracker.words import change_words, local_time


@dataclass
class Context:
    config_path: str | None
    quiet: bool
    verbose: bool
    _config: Config | None = None

    def config(self, parts: tuple[str, ...] | None = None, *, sends: bool = True) -> Config:
        """The config (exit 2 on a problem); with `parts`, only those tables (see `load_config`).
        A command that `sends` nothing leaves its notify URLs unread by apprise (`load_config`)."""
        if self._config is None:
            try:
                self._config = load_config(self.config_path, parts=parts, read_by_apprise=sends)
            except ConfigError as exc:
                fail_usage(str(exc))
            if self._config.tracker.log_file:
                try:
                    logs.attach_log_file(self._config.resolve(self._config.tracker.log_file))
                except OSError as exc:
                    fail_usage(f"{self._config.path}: tracker.log_file: cannot open: {exc}")
        return self._config

    def say(self, text: str) -> None:
        """A line (or lines) on stdout: a source's words in it cannot drive the terminal."""
        if not self.quiet:
            click.echo(terminal(secrets.mask(text)))


def invoked_as() -> str:
    """How to start this tracker again as the user did, so a printed next command runs as printed:
    `tracker` when the PATH finds this very script, else its path as typed (`.venv/bin/tracker`
    from the project root), else `python -m tracker.cli` with this Python."""
    script = sys.argv[0]
    if Path(script).name == "tracker" and Path(script).exists():
        found = shutil.which("tracker")
        if found and os.path.samefile(found, script):
            return "tracker"
        return shlex.quote(script)
    return f"{shlex.quote(sys.executable)} -m tracker.cli"


def fail_usage(message: str) -> NoReturn:
    for line in secrets.mask(message).splitlines() or [""]:
        click.echo(f"error: {line}", err=True)
    sys.exit(2)


def error_line(text: str) -> None:
    """A problem line on stderr (one line of at most 200 characters under --quiet), and in full
    in the log file."""
    text = secrets.mask(text)
    logs.record([text])
    click.echo(terminal(logs.shorten(text) if logs.current().quiet else text), err=True)


def error_lines(lines: list[str], collapse: Callable[[list[str]], list[str]]) -> None:
    """Problem lines; under --quiet repeated failures of one source or target become one line
    with a count (every line still goes to the log file)."""
    lines = [secrets.mask(line) for line in lines]
    logs.record(lines)
    for line in collapse(lines) if logs.current().quiet else lines:
        click.echo(terminal(line), err=True)


def open_store(config: Config, also_said: str | None = None) -> Any:
    """The store, or one line saying why not (after `also_said`, a problem found without it)."""
    from tracker.store import Store

    try:
        return Store(config.database_url)
    except Exception as exc:
        if also_said:
            error_line(also_said)
        if disk_full(exc):
            click.echo(disk_full_line(click.get_current_context().info_name, exc), err=True)
            sys.exit(1)
        fail_usage(cannot_open(config, exc))


def cannot_open(config: Config, exc: BaseException) -> str:
    """One line for a database that cannot be opened: the driver's first line, without
    SQLAlchemy's wrapping, its link or the driver's hint lines (cron would mail each as a problem).
    A SQLite file whose folder does not exist is named, with the folder (its path is relative to
    the config file's folder, not to where the command ran; SQLite only says "unable to open")."""
    line = f"{config.path}: storage.url: cannot open the database: {describe_failure(exc)}"
    url = config.database_url
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        file = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
        if not file.parent.is_dir():
            return f"{line} ({file}: its folder {file.parent} does not exist)"
    return line


pass_ctx = click.make_pass_decorator(Context)


def quiet_option(fn: Callable[..., Any] | None = None, *, help: str = "Print only errors.") -> Any:
    """Accept --quiet after the subcommand too (`tracker run --quiet`); `help` where a command's
    quiet output is more than its errors (`sources detect` still prints the block)."""
    if fn is None:
        return lambda command: quiet_option(command, help=help)

    def set_quiet(ctx: click.Context, _param: Any, value: bool) -> None:
        if value:
            obj = ctx.find_object(Context)
            if obj is not None:
                obj.quiet = True
                setup_logging(True, obj.verbose, keep_file=True)

    return click.option("--quiet", "-q", is_flag=True, expose_value=False, callback=set_quiet, help=help)(fn)


class TrackerGroup(click.Group):
    """Under --quiet a crash is one line too (cron mails it): the traceback goes to the log file
    and to --verbose, never to a quiet run's output."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            full = disk_full(exc)  # one line in every mode: a traceback says nothing more
            if not logs.current().quiet and not full:
                raise
            logging.getLogger("tracker.cli").error("tracker %s crashed", ctx.invoked_subcommand, exc_info=True,
                                                   extra={"file_only": True})
            if full:
                click.echo(disk_full_line(ctx.invoked_subcommand, exc), err=True)
                sys.exit(1)
            first = str(exc).splitlines()[0] if str(exc) else ""
            click.echo(logs.shorten(secrets.mask(f"tracker {ctx.invoked_subcommand}: failed: "
                                                 f"{type(exc).__name__}: {first}")), err=True)
            sys.exit(1)


def disk_full_line(command: str | None, exc: BaseException) -> str:
    return logs.shorten(secrets.mask(f"tracker {command}: stopped: the disk is full ({describe_failure(exc)}); "
                                     "what is owed is kept: run again once there is space"))


@click.group(cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Config file (default: $TRACKER_CONFIG, else config/tracker.toml).")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
@click.option("--verbose", "-v", is_flag=True, help="Log crawl details.")
@click.version_option(package_name="tracker")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, quiet: bool, verbose: bool) -> None:
    """Follow bills in Congress and local meetings; alert organizers when something moves."""
    setup_logging(quiet, verbose)
    ctx.obj = Context(config_path, quiet, verbose)
    # Checked once here: read later, a bad value surfaced as a problem of whichever config key
    # first asked for the time (`bills[x].numbers: Invalid isoformat string`).
    if (fixed := os.environ.get("TRACKER_NOW")) and ctx.invoked_subcommand:
        try:
            clock.parse_instant(fixed)
        except ValueError:
            fail_usage(f"TRACKER_NOW {fixed!r} is not an ISO 8601 time (like 2026-11-24T14:00:00Z)")


# -- config / db ----------------------------------------------------------------------------


@main.group("config")
def config_group() -> None:
    """Write or check the config file."""


def state_watch_words(watch: Any) -> str:
    """A state bill watch as `config check` says it: "CO 2020A SB 217", "keywords "qualified
    immunity" in CO, NM, NY" (or in every state)."""
    parts = [f"{(watch.state or '').upper()} {watch.session} {number}" for number in watch.numbers]
    if watch.keywords:
        where = ", ".join(s.upper() for s in watch.keyword_states) if watch.keyword_states else "every state"
        parts.append("keywords " + ", ".join(f'"{k}"' for k in watch.keywords) + f" in {where}")
    return "; ".join(parts)


@config_group.command("check")
@quiet_option
@pass_ctx
def config_check(ctx: Context) -> None:
    """Validate the config; print its watches, sources and subscribers (secrets masked)."""
    config = ctx.config()
    ctx.say(f"{config.path}: ok")
    ctx.say(f"storage: {secrets.mask(config.storage.url)}")
    for w in config.federal_bills:
        parts = [n.display + f" ({n.congress})" for n in w.numbers] + [f'title "{t}"' for t in w.titles]
        ctx.say(f"bill watch {w.id}: {w.name}: {', '.join(parts)}")
    for sw in config.state_bills:
        ctx.say(f"state bill watch {sw.id}: {sw.name}: {state_watch_words(sw)}")
    for w in config.meetings:
        ctx.say(f"meeting watch {w.id}: {w.name}: source {w.source_id}"
                + (f"; bodies: {', '.join(w.bodies)}" if w.bodies else "")
                + (f"; keywords: {', '.join(w.keywords)}" if w.keywords else ""))
    sources = (["govinfo"] if config.federal_bills else []) + (["openstates"] if config.state_bills else []) \
        + [w.source_id for w in config.meetings]
    if config.federal_bills and config.subscribers:  # whom to call about a bill
        sources.insert(1, "legislators" if config.sources.legislators.enabled else "legislators (switched off)")
    ctx.say(f"sources: {', '.join(sources) or 'none'}")
    for s in config.subscribers:
        follow = ", ".join(s.follow) if s.follow is not None else "every watch"
        targets = ", ".join(secrets.mask(t.template) for t in s.notify)
        paused = " (paused)" if s.paused else ""
        reminders = f"; reminders {', '.join(s.reminders)} before meetings" if s.reminders else ""
        ctx.say(f"subscriber {s.id}{paused}: {s.mode}; follows {follow}; to {targets}{reminders}")
    if config.operator.notify:
        ctx.say("operator: " + ", ".join(secrets.mask(t.template) for t in config.operator.notify))
    for warning in config_warnings(config):
        ctx.say(f"warning: {warning}")


@config_group.command("init")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@quiet_option
@pass_ctx
def config_init(ctx: Context, path: str | None) -> None:
    """Write the bundled sample config to PATH (default: --config, else config/tracker.toml); never overwrites."""
    target = Path(path or ctx.config_path or DEFAULT_CONFIG)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("xb") as out:  # "x": an existing file is never replaced
            out.write(files("tracker.sample").joinpath("tracker.toml").read_bytes())
    except FileExistsError:
        fail_usage(f"{target}: already exists; not overwritten (edit it, or name another file: "
                   "tracker config init PATH)")
    except OSError as exc:
        fail_usage(f"{target}: cannot write: {exc.strerror or exc}")
    named = "" if target == config_path() else f" --config {shlex.quote(str(target))}"  # what `check` reads
    ctx.say(f"{target}: written: the sample config, its watches to edit; subscribers and the operator are "
            "examples in comments")
    ctx.say(f"next: edit it, then check it with: {invoked_as()}{named} config check")


@main.group("db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command("upgrade")
@quiet_option
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    """Create or migrate the database."""
    from tracker.store import Store, current_revision

    config = ctx.config(sends=False)
    try:
        store = Store(config.database_url)
    except Exception as exc:
        fail_usage(cannot_open(config, exc))
    ctx.say(f"database at revision {current_revision(store.engine)}")


# -- crawl / notify / digest / run -------------------------------------------------------------


def do_crawl(ctx: Context, config: Config, store: Any, watches: tuple[str, ...] = ()) -> bool:
    from tracker.crawl import run_crawls

    unknown = [w for w in watches if w not in config.watch_ids]
    if unknown:
        fail_usage(f"--watch {unknown[0]}: no watch with that id in {config.path}")
    return say_crawled(ctx, run_crawls(config, store, watches or None))


def say_crawled(ctx: Context, reports: list[Any]) -> bool:
    """Each source's summary line and its problem lines; True when every source went well."""
    for report in reports:
        ctx.say(report.line())
    error_lines([line for report in reports for line in report.errors], logs.collapse_source_errors)
    return all(r.ok for r in reports)


def record_unrecorded(ctx: Context, config: Config, store: Any) -> None:
    """Before anything else: record what an earlier notifier sent but could not record (the disk
    was full), so it is never sent again. Raises while the database still cannot record it."""
    from tracker.alerts.journal import replay

    recorded = replay(store, config.base_dir)
    if recorded:
        one = recorded == 1
        ctx.say(f"notify: {recorded} {'delivery' if one else 'deliveries'} sent earlier (the database could not "
                f"record {'it' if one else 'them'} then) recorded as sent")


def forget_sign_ups(ctx: Context, config: Config, store: Any) -> None:
    """Sign-ups never confirmed are forgotten by every notify too, not only while `tracker serve`
    runs (people.prune_sign_ups); their addresses out of SQLite's write-ahead log too, as serve's
    forgetting does (`tracker serve` may hold the database open, so the log is not removed as
    this process ends)."""
    from tracker.people import prune_sign_ups, wipe_deleted

    with store.session() as session:
        forgotten = prune_sign_ups(session, clock.now(), config.serve.confirm_hours)
    if forgotten:
        wipe_deleted(store)
        ctx.say(f"notify: {forgotten} sign-up{'s' if forgotten != 1 else ''} never confirmed forgotten")


def do_notify(ctx: Context, config: Config, store: Any, *, bundles: bool = True) -> bool:
    """Forget sign-ups never confirmed, owe through a subscriber's current targets what was owed
    through one no longer in the config, close due bundles (`bundles`: only one runner of a cluster does), owe the reminders due now
    (every runner may: each is owed once), then send what is due."""
    from tracker.alerts.workers import notify_with, usable_workers
    from tracker.outbox import close_bundles, reowe_replaced
    from tracker.reminders import owe_reminders

    record_unrecorded(ctx, config, store)
    forget_sign_ups(ctx, config, store)
    moved = reowe_replaced(store, config)
    if moved:
        ctx.say(f"notify: {moved} deliver{'ies' if moved != 1 else 'y'} owed through a subscriber's current "
                "target (the one they were owed through left the config)")
    owed = close_bundles(store, config) if bundles else 0
    if owed:
        ctx.say(f"notify: {owed} bundle {'delivery' if owed == 1 else 'deliveries'} owed")
    reminders = owe_reminders(store, config)
    if reminders:
        ctx.say(f"notify: {reminders} reminder{'s' if reminders != 1 else ''} owed")
    workers = usable_workers(store, config)
    if workers < config.alerts.workers:
        ctx.say(f"notify: SQLite has one writer: 1 notifier worker used ([alerts] workers = {config.alerts.workers})")
    report = notify_with(store, config, workers)
    crashed = f", {report.crashed} died" if report.crashed else ""
    closed = "".join(f", {n} {what}" for n, what in ((report.dropped, "dropped (unsubscribed)"),
                                                     (report.bounced, "bounced"),
                                                     (report.untried, "not tried (their service timed out)")) if n)
    ctx.say(f"notify: {report.sent} sent, {report.failed} failed (will retry), {report.dead} dead{closed}"
            + (f" ({workers} workers{crashed})" if workers > 1 else ""))
    error_lines(report.lines, logs.collapse_deliveries)
    return not report.failed and not report.dead and not report.crashed and not report.unrecorded


def do_digest(ctx: Context, config: Config, store: Any, out: Path) -> bool:
    """Write the site; each page, feed or event left out is one line, a failed write one line
    (the old site stays). False when anything was left out or failed."""
    from tracker.digest import write_site

    skipped: list[str] = []
    try:
        path = write_site(store, config, out, skipped=skipped)
    except Exception as exc:
        error_line(f"digest: not written: {type(exc).__name__}: {' '.join(str(exc).split())}")
        return False
    error_lines(skipped, logs.collapse_digest)
    ctx.say(f"digest: {path / 'index.html'}")
    return not skipped


@main.command()
@click.option("--watch", "watches", multiple=True, metavar="ID", help="Only this watch (repeatable).")
@quiet_option
@pass_ctx
def crawl(ctx: Context, watches: tuple[str, ...]) -> None:
    """Fetch sources, store snapshots, record changes and owed deliveries."""
    config = ctx.config()
    store = open_store(config)
    sys.exit(0 if do_crawl(ctx, config, store, watches) else 1)


@main.command("notify")
@click.option("--test", "test_subscriber", metavar="SUBSCRIBER",
              help="Send a test message to each target of a config subscriber, or to person:N.")
@click.option("--retry-dead", is_flag=True, help="Put dead deliveries back in the queue.")
@quiet_option
@pass_ctx
def notify_cmd(ctx: Context, test_subscriber: str | None, retry_dead: bool) -> None:
    """Send owed deliveries that are due; retry failures with backoff."""
    config = ctx.config()
    if test_subscriber:
        from tracker.alerts.send import send_test
        from tracker.people import person_id_of

        person = person_id_of(test_subscriber)
        if person is not None:
            from tracker.alerts.peoplemail import TestRefused, send_person_test

            try:
                results = [send_person_test(config, open_store(config), person)]
            except TestRefused as refused:
                fail_usage(f"--test {test_subscriber}: {refused}")
        elif test_subscriber not in {s.id for s in config.subscribers}:
            fail_usage(f"--test {test_subscriber}: no subscriber with that id in {config.path} "
                       "(a self-service subscriber is person:N)")
        else:
            results = send_test(config, test_subscriber)
        for label, ok, error in results:
            if ok:
                ctx.say(f"{label}: sent")
            else:
                error_line(f"{label}: failed: {error}")
        sys.exit(0 if all(ok for _, ok, _ in results) else 1)
    store = open_store(config)
    if retry_dead:
        from tracker.outbox import retry_dead as requeue

        queued, closed = requeue(store, config)
        ctx.say(f"notify: {queued} dead deliver{'y' if queued == 1 else 'ies'} queued again"
                + (f"; {closed} closed unsent: subscriber no longer in the config" if closed else ""))
    sys.exit(0 if do_notify(ctx, config, store) else 1)


@main.command()
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output folder.")
@quiet_option
@pass_ctx
def digest(ctx: Context, out: str | None) -> None:
    """Write the static digest site."""
    config = ctx.config(sends=False)
    store = open_store(config)
    sys.exit(0 if do_digest(ctx, config, store, Path(out) if out else config.digest_dir) else 1)


@main.command()
@click.option("--cluster", is_flag=True,
              help="One of several machines on one PostgreSQL: crawl only the source groups (one per host) "
                   "this runner leases this cycle; the digest only when holding the digest lease.")
@click.option("--runner", "runner_id", metavar="NAME", default=None,
              help="This runner's name with --cluster (default: $TRACKER_RUNNER, else the machine's name).")
@click.option("--cycle-minutes", type=click.FloatRange(min=0.01), default=15.0, show_default=True,
              help="With --cluster: how often cron starts `tracker run`; a group crawled this cycle is not "
                   "crawled again until the next, and a dead runner's groups wait that long.")
@quiet_option
@pass_ctx
def run(ctx: Context, cluster: bool, runner_id: str | None, cycle_minutes: float) -> None:
    """Crawl, notify and write the digest, under a lock."""
    from tracker.lock import run_lock

    config = ctx.config()
    store = open_store(config)
    if cluster:
        from tracker.cluster import NotClustered, run_cluster

        try:
            sys.exit(run_cluster(store, config, runner_id, cycle_minutes, PrintingStages(ctx, config, store)))
        except NotClustered as exc:
            fail_usage(f"{config.path}: {exc}")
    with run_lock(store, config.base_dir) as held:
        if not held:
            from tracker.health import stale_lock
            from tracker.outbox import owe_operator

            stuck = stale_lock(store, config, config.base_dir)
            if stuck is None:
                ctx.say("another tracker run is in progress; nothing to do")
                sys.exit(0)
            with store.session() as session:
                owe_operator(session, config, stuck)
            # Printed even under --quiet; the operator's alert is sent from here, since the stuck
            # run will not send it.
            error_line(stuck.body)
            do_notify(ctx, config, store)
            sys.exit(1)
        record_unrecorded(ctx, config, store)
        ok = do_crawl(ctx, config, store)
        ok = do_notify(ctx, config, store) and ok
        ok = do_digest(ctx, config, store, config.digest_dir) and ok
    sys.exit(0 if ok else 1)


class PrintingStages:
    """The stages of `tracker run`, each printing what it did, for the cluster runner to call."""

    def __init__(self, ctx: Context, config: Config, store: Any) -> None:
        self.ctx, self.config, self.store = ctx, config, store

    def say(self, text: str) -> None:
        self.ctx.say(text)

    def problem(self, text: str) -> None:
        error_line(text)

    def before(self) -> None:
        record_unrecorded(self.ctx, self.config, self.store)

    def crawl(self, jobs: list[Any]) -> bool:
        from tracker.crawl import run_crawls

        return say_crawled(self.ctx, run_crawls(self.config, self.store, jobs=jobs))

    def notify(self, *, bundles: bool) -> bool:
        return do_notify(self.ctx, self.config, self.store, bundles=bundles)

    def digest(self) -> bool:
        return do_digest(self.ctx, self.config, self.store, self.config.digest_dir)


# -- status / changes ---------------------------------------------------------------------------


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--check", is_flag=True,
              help="For monitoring: print each problem (failing source, dead delivery, run lock held too "
                   "long) on one line; exit 1 if any, 0 if none.")
@click.option("--with-addresses", is_flag=True,
              help="Also list self-service subscribers' email addresses (otherwise only their counts are shown).")
@quiet_option
@pass_ctx
def status(ctx: Context, as_json: bool, check: bool, with_addresses: bool) -> None:
    """Where every watched thing stands, and source and delivery health."""
    from tracker.status import check_lines, status_lines
    from tracker.views import collect_status

    config = ctx.config(sends=check)  # monitoring's `--check` is told of a URL apprise cannot read
    if check:
        from tracker.alerts.journal import unrecorded
        from tracker.health import problems

        waiting = unrecorded(config.database_url, config.base_dir)  # files only: before the database opens
        owed = (f"{waiting} {'delivery' if waiting == 1 else 'deliveries'} sent but not recorded (the database "
                "could not record them): the next `tracker notify` or `tracker run` records them before it sends "
                "anything") if waiting else None
        store = open_store(config, also_said=owed)
        found = problems(store, config, config.base_dir) + ([owed] if owed else [])
        if as_json:
            click.echo(secrets.mask(json.dumps({"ok": not found, "problems": found}, indent=2)))
        else:
            for line in check_lines(found, config):
                click.echo(terminal(secrets.mask(line)))
            if not found:
                ctx.say("ok")
        sys.exit(1 if found else 0)
    view = collect_status(open_store(config), config, with_addresses=with_addresses)
    if as_json:
        click.echo(secrets.mask(json.dumps(view.to_json(), indent=2, ensure_ascii=False)))
        return
    for line in status_lines(view, config):
        ctx.say(line)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--since", metavar="ISO8601", help="Only changes detected at or after this time.")
@click.option("--watch", metavar="ID", help="Only this watch's changes.")
@click.option("--kind", metavar="KIND", help="Only this kind (globs like 'meeting.*' work).")
@quiet_option
@pass_ctx
def changes(ctx: Context, as_json: bool, since: str | None, watch: str | None, kind: str | None) -> None:
    """Recorded changes, oldest first."""
    from tracker.views import list_changes

    config = ctx.config(sends=False)
    since_at = None
    if since:
        try:
            since_at = clock.parse_instant(since)
        except ValueError:
            fail_usage(f"--since {since!r} is not an ISO 8601 time")
    if watch and watch not in config.watch_ids:
        fail_usage(f"--watch {watch}: no watch with that id in {config.path}")
    if kind and (problem := kind_problem(kind)):
        fail_usage(f"--kind {problem}")
    found = list_changes(open_store(config), since=since_at, watch=watch, kind=kind)
    if as_json:
        click.echo(json.dumps([change.to_json() for change in found], indent=2, ensure_ascii=False))
        return
    zone = config.display_zone()
    for change in found:
        when = local_time(change.detected_at, zone, "%Y-%m-%d %H:%M %Z")
        ctx.say(f"{change.id:>5} {when} {change_words(change.kind, change.data):<26} {change.summary}")


# -- sources ---------------------------------------------------------------------------------


@main.group("sources")
def sources_group() -> None:
    """Find the source of a council's meetings."""


# The config's tables `sources detect` reads: its User-Agent's contact and zone, the crawl's
# politeness, the Legistar API's address. Nothing else: no database, no subscriber, no secret.
DETECT_PARTS = ("tracker", "crawl", "sources.legistar")


@sources_group.command("detect")
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@quiet_option(help="Print only the block to paste (and problems).")
@pass_ctx
def sources_detect(ctx: Context, url: str, as_json: bool) -> None:
    """Fetch a meetings page or feed, name its platform, print the [[meetings]] block to paste."""
    from tracker import detect
    from tracker.crawl import fetch, preview

    url = detect.given_address(url)  # as a browser takes a paste: spaces around it, line breaks in it dropped
    if not re.match(r"^(https?|webcal)://[^\s/]+", url, re.I):
        # A host copied without its scheme (`nyc.legistar.com`): say the address to try instead.
        # a key in it is left out, as everywhere detect prints an address; read as starting at its
        # host ("//"), or a password before the host (`clerk:secret@host/api`) is no password found
        said = detect.shown(url) if "://" in url else detect.shown(f"//{url}").removeprefix("//")
        hint = f": try https://{said}" if re.match(r"^[\w-]+(\.[\w-]+)+(:\d+)?(/\S*)?$", url) else ""
        fail_usage(f"{said!r} is not an http(s) address{hint}")
    # Someone looking for a source may have no config yet: the defaults then (User-Agent, politeness).
    named = ctx.config_path or os.environ.get("TRACKER_CONFIG")
    config = ctx.config(DETECT_PARTS) if named or DEFAULT_CONFIG.exists() else Config()
    if (named or DEFAULT_CONFIG.exists()) and not ctx.quiet:
        # Detecting a page needs none of the config's secrets; each unset one said once, since the
        # watch being pasted will run with the rest of the file.
        for name, keys in unset_variables(ctx.config_path).items():
            click.echo(f"warning: {config.path}: environment variable {name} is not set ({', '.join(keys)}): "
                       "detect does not need it; `tracker run` will", err=True)
    zone = config.tracker.timezone
    batch = uuid.uuid4().hex  # robots.txt read once for every request of this detection
    result = detect.detect(re.sub(r"^webcal://", "https://", url, flags=re.I),
                           partial(fetch, config, max_bytes=detect.MAX_BYTES, batch=batch),
                           legistar_api=config.sources.legistar.base_url, zone=zone,
                           preview=partial(preview, config, batch=batch))
    if as_json:
        click.echo(secrets.mask(json.dumps(detect.as_json(result, zone), indent=2, ensure_ascii=False)))
    elif result.recognised is not None:
        text = detect.config_block(result, zone) if ctx.quiet else "\n".join(detect.report_lines(result, zone))
        click.echo(terminal(secrets.mask(text.rstrip("\n"))))
    if result.problem:
        error_line(result.problem)
    sys.exit(0 if result.ok else 1)


# -- demo -----------------------------------------------------------------------------------


@main.command()
@click.option("--host", default=None, help="Address to bind (default: [serve] host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port to bind (default: [serve] port, 8080).")
@quiet_option
@pass_ctx
def serve(ctx: Context, host: str | None, port: int | None) -> None:
    """Serve the digest and the sign-up, confirm, unsubscribe and preference pages."""
    config = ctx.config()
    if config.serve.public_url is None and config.alerts.mail_url is None:
        # a digest-only server, as set up: said, but not under --quiet (no problem to report)
        ctx.say(f"{config.path}: serving the digest only: sign-up needs [serve] public_url and [alerts] mail_url")
    elif config.serve.public_url is None or config.alerts.mail_url is None:
        missing = "[serve] public_url" if config.serve.public_url is None else "[alerts] mail_url"
        error_line(f"{config.path}: serving the digest only: sign-up needs {missing} too")
    if not (config.digest_dir / "index.html").is_file():
        # the front page and every digest page answer 404 until one is written: said, not guessed at
        error_line(f"{config.path}: no digest in {config.digest.out} yet: its pages answer 404 until `tracker digest` "
                   "or `tracker run` writes it")
    open_store(config).dispose()  # one clear line for a database that cannot be opened, migrated first
    from tracker.web import serve as run_server

    problem = run_server(config, host, port, said=ctx.say)
    if problem:
        error_line(problem)
    sys.exit(1 if problem else 0)


@main.command()
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Where to write the demo's data and digest (default: a new temporary folder).")
@quiet_option
@pass_ctx
def demo(ctx: Context, out: str | None) -> None:
    """Serve bundled recorded sources on 127.0.0.1, crawl twice, write a digest."""
    from tracker.demo import run_demo

    sys.exit(run_demo(Path(out) if out else None, say=ctx.say, error=error_line, command=invoked_as()))


def entry() -> None:
    """The `tracker` command: `main`, a usage error said in one line (`error: No such option
    '--bogus' (see tracker notify --help)`, exit 2, as every other usage or config error; click's
    own is three lines), then an exit that does not wait on a send given up at its
    deadline. Apprise's thread for it may wait on a stalled service as long as the service likes,
    and Python's exit joins such threads: a cron `tracker run` lingered after its work was done."""
    try:
        done = main(standalone_mode=False)
        code: int | str | None = done if isinstance(done, int) else 0
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx is not None else "tracker"
        click.echo(f"error: {exc.format_message().rstrip('.')} (see {command} --help)", err=True)
        code = 2
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except click.Abort:  # Ctrl-C or end of input at a prompt, as click says it
        click.echo("Aborted!", err=True)
        code = 1
    except SystemExit as exited:
        code = exited.code
    if isinstance(code, str):  # as Python's exit says it
        print(code, file=sys.stderr)
    status = code if isinstance(code, int) else 0 if code is None else 1
    if (sending := sys.modules.get("tracker.alerts.send")) is not None:  # loaded only by commands that send
        sending.end_process_if_abandoned(status)
    sys.exit(status)


if __name__ == "__main__":
    entry()
