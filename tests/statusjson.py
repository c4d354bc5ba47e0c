"""What `tracker status --json` and `tracker changes --json` print, for tests that check it without a
subprocess: the typed views of tracker/views.py, serialised as the CLI does."""

from __future__ import annotations

from typing import Any

from tracker.config import Config
from tracker.store import Store
from tracker.views import collect_status, list_changes


def status_json(store: Store, config: Config) -> dict[str, Any]:
    return collect_status(store, config).to_json()


def changes_json(store: Store, **filters: Any) -> list[dict[str, Any]]:
    return [change.to_json() for change in list_changes(store, **filters)]
