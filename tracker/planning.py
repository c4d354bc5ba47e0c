"""Which sources a crawl reads: one job per source (GovInfo for every bill watch of Congress,
congress-legislators when bill alerts name whom to call, Open States for every state bill watch,
one per meeting watch).

Its own module, below the crawl: status and the digest list the same sources (their health) and the
cluster groups them by host, none of which needs Scrapy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tracker.config import Config


@dataclass
class SourceJob:
    source_id: str
    kind: str  # a source kind of tracker/sources.py, hence its spider's name
    watch_ids: list[str]
    kwargs: dict[str, Any] = field(default_factory=dict)
    spider: type | None = None  # default: the spider named `kind` (tests pass their own)


def plan_sources(config: Config, watch_ids: Iterable[str] | None = None) -> list[SourceJob]:
    """Which sources to crawl for the chosen watches (all when None)."""
    chosen = set(watch_ids) if watch_ids else set(config.watch_ids)
    jobs: list[SourceJob] = []
    bills = [w for w in config.federal_bills if w.id in chosen]
    if bills:
        jobs.append(SourceJob("govinfo", "govinfo", [w.id for w in bills], {"watches": bills}))
        if config.subscribers and config.sources.legislators.enabled:  # alerts about those bills say whom to call
            jobs.append(SourceJob("legislators", "legislators", []))
    state_bills = [w for w in config.state_bills if w.id in chosen]
    if state_bills:  # one source for every state: one key, one daily budget
        jobs.append(SourceJob("openstates", "openstates", [w.id for w in state_bills], {"watches": state_bills}))
    for watch in config.meetings:
        if watch.id in chosen:
            jobs.append(SourceJob(watch.source_id, watch.source_kind, [watch.id], {"watch": watch}))
    return jobs
