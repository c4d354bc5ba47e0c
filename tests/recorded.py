"""Where the tests' recorded responses are: `tests/data/`, and the recordings the package ships for
`tracker demo` (`tracker/demo/data/`), which the tests read too rather than keeping a second copy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tracker.demo

TESTS = Path(__file__).parent / "data"
DEMO = Path(tracker.demo.__file__).parent / "data"


def federal(name: str) -> bytes:
    """A BILLSTATUS file by name (`BILLSTATUS-117s35.xml`, `pre-v3/BILLSTATUS-117s35.xml`)."""
    for place in (TESTS / "federal" / name, DEMO / "govinfo" / name):
        if place.exists():
            return place.read_bytes()
    raise FileNotFoundError(f"no recorded BILLSTATUS file {name}")


def local(relative: str) -> bytes:
    """A local-government recording by its path under tests/data/local (`ics/detroit_....ics`)."""
    for place in (TESTS / "local" / relative, DEMO / relative):
        if place.exists():
            return place.read_bytes()
    raise FileNotFoundError(f"no recorded file {relative}")


LEGISLATORS = ("legislators-current", "committees-current", "committee-membership-current",
               "legislators-district-offices")


def serve_legislators(replay: Any) -> str:
    """Serve the congress-legislators JSON (derived from the real YAML: tests/data/federal/legislators)
    from a loopback server; returns the `[sources.legislators] base_url` to configure."""
    for name in LEGISLATORS:
        replay.add(f"/congress-legislators/{name}.json", DEMO / "legislators" / f"{name}.json")
    return f"{replay.url}/congress-legislators"


def serve_openstates(replay: Any, state: str = "baseline", **options: Any) -> tuple[Any, str]:
    """Mount the loopback Open States API v3 holding a recorded state (`baseline`, `later`; see
    tracker/demo/data/openstates/SOURCES.md) under /openstates; returns the API (records, limits,
    request log) and the `[sources.openstates] base_url` to configure."""
    from tracker.demo.openstates_api import OpenStatesApi

    api = OpenStatesApi.recorded(state, prefix="/openstates", **options)
    replay.mount("/openstates", api)
    return api, f"{replay.url}/openstates"
