"""What the alert tests share: the one config writer they all use (`write_config`; `core_team` is
the usual subscriber, `team_config` the usual whole config), and changes owed the way a crawl owes
them (`store.ingest` with `owe_instant` in the change's own transaction)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from tracker import models as m
from tracker.changes import Change, dedupe_key
from tracker.config import Config, load_config
from tracker.outbox import owe_instant, sync_subscribers
from tracker.records import Bill, Item
from tracker.store import Store, ensure_watches, ingest

SECRET = "pa55-Secret-xyz"  # the webhook token of the core team's config (`team_config`)
HOOK_SECRET = "hook-Tok-9921"
POLICE = {"id": "police", "name": "Police accountability", "numbers": ["s35-117"]}
OTHER = {"id": "other", "name": "Other", "numbers": ["hr1-117"]}
STAGES = ["referred", "passed_senate", "passed_both", "to_president", "enacted"]  # a baseline, then 4 changes
WORDS = ["passed the Senate", "passed both chambers", "went to the President", "became law"]


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string
    return "[" + ", ".join(_toml(v) for v in value) + "]"


def _table(header: str, fields: dict[str, Any]) -> str:
    return header + "\n" + "".join(f"{key} = {_toml(value)}\n" for key, value in fields.items())


def write_config(folder: Path, *, subscribers: Iterable[dict[str, Any]], db_url: str | None = None,
                 alerts: dict[str, Any] | None = None, bills: Iterable[dict[str, Any]] = (POLICE,),
                 extra: str = "") -> Path:
    """`folder/tracker.toml`: storage, `[alerts]` (always written, so a test may add to it), the
    bill watches, the subscribers (each a dict of its keys), then `extra` TOML as it is."""
    parts = [_table("[storage]", {"url": db_url})] if db_url else []
    parts.append(_table("[alerts]", alerts or {}))
    parts += [_table("[[bills]]", bill) for bill in bills]
    parts += [_table("[[subscribers]]", subscriber) for subscriber in subscribers]
    path = folder / "tracker.toml"
    path.write_text("".join(parts) + extra)
    return path


def core_team(*notify: str, **keys: Any) -> dict[str, Any]:
    """The subscriber most alert tests have: `core-team`, following `police`, to these targets."""
    return {"id": "core-team", "notify": list(notify), "follow": ["police"], **keys}


def team_config(folder: Path, db_url: str, mail_port: int, hook_port: int, extra: str = "",
                to: str = "team@example.org", *, mail: bool = True, **subscriber: Any) -> Config:
    """The core team (mail with a `${SMTP_PASSWORD}` login and a webhook with a `${HOOK_TOKEN}`)
    following `police`, with an `other` watch nobody follows; three tries, a minute's backoff."""
    notify = [f"mailto://tracker:${{SMTP_PASSWORD}}@127.0.0.1:{mail_port}?smtp=127.0.0.1"
              f"&from=tracker@example.org&to={to}&user=&pass="] if mail else []
    notify.append(f"json://127.0.0.1:{hook_port}/hook?token=${{HOOK_TOKEN}}")
    path = write_config(folder, db_url=db_url, alerts={"max_tries": 3, "retry_seconds": 60, "daily_at": "08:00"},
                        bills=[POLICE, OTHER],
                        subscribers=[core_team(*notify, **subscriber)],
                        extra=extra)
    return load_config(path, env={"SMTP_PASSWORD": "", "HOOK_TOKEN": SECRET})


def fresh_store(config: Config) -> Store:
    """A store with the config's watches and its subscribers' follows recorded."""
    store = Store(config.database_url)
    with store.session() as session:
        ensure_watches(session, [(w.id, "bill", w.name) for w in config.bills])
        sync_subscribers(session, config)
    return store


def s35_differ(old: Bill | None, new: Bill, key: str) -> list[Change]:
    """S. 35's stage as a change (its own words and congress.gov page)."""
    if old is None or old.stage == new.stage:
        return []
    return [Change("bill.stage", key, f"S. 35 (117th) {new.stage.replace('_', ' ')}",
                   dedupe_key(key, "bill.stage", new.stage), {"from": old.stage, "to": new.stage},
                   "https://www.congress.gov/bill/117th-congress/senate-bill/35", "2021-02-12")]


def record(store: Store, config: Config, stage: str, key: str = "bill:s35-117", watch: str = "police") -> None:
    """S. 35 (or `key`) at `stage`, owing what its change owes."""
    content = Bill(number=key[5:], display="S. 35", congress=117, type="s", stage=stage,
                   title="Officer Eugene Goodman Congressional Gold Medal Act",
                   sponsor={"name": "Sen. Van Hollen, Chris [D-MD]"}, committees=[{"name": "Banking Committee"}])
    ingest(store, Item(key=key, kind="bill", source_id="govinfo", watch_ids=[watch], content=content),
           s35_differ, on_change=lambda session, change: owe_instant(session, change, config))


def stage_differ(old: Bill | None, new: Bill, key: str) -> list[Change]:
    if old is None or old.stage == new.stage:
        return []
    return [Change("bill.stage", key, f"{new.display} (117th) {new.stage.replace('_', ' ')}",
                   dedupe_key(key, "bill.stage", new.stage), {"from": old.stage, "to": new.stage},
                   f"https://www.congress.gov/bill/117th-congress/senate-bill/{new.number}", "2021-02-12")]


def walk_stages(store: Store, config: Config, bills: int, *, committees: bool = False) -> int:
    """Walk `bills` bills through STAGES; returns the number of changes (each owed to every target)."""
    for n in range(1, bills + 1):
        key = f"bill:s{n}-117"
        for stage in STAGES:
            content = Bill(number=key[5:], display=f"S. {n}", congress=117, type="s", stage=stage,
                           title=f"Derived test bill {n}", sponsor={"name": "Sen. Van Hollen, Chris [D-MD]"},
                           committees=[{"name": "Banking Committee"}] if committees else [])
            ingest(store, Item(key=key, kind="bill", source_id="govinfo", watch_ids=["police"], content=content),
                   stage_differ, on_change=lambda session, change: owe_instant(session, change, config))
    return bills * (len(STAGES) - 1)


def owe(config: Config, bills: int) -> Store:
    """A fresh store owing `bills` bills' walk through STAGES."""
    store = fresh_store(config)
    walk_stages(store, config, bills)
    return store


def tracker_env(**variables: str) -> dict[str, str]:
    """The environment of a `tracker` process: this one's, no TRACKER_CONFIG, plus `variables`."""
    env = {**os.environ, **variables}
    env.pop("TRACKER_CONFIG", None)
    return env


def statuses(store: Store) -> dict[str, int]:
    """Deliveries by status."""
    with store.session() as session:
        return dict(session.execute(select(m.Delivery.status, func.count()).group_by(m.Delivery.status)).all())
