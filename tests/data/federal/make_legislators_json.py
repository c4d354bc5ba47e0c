"""Convert the real congress-legislators YAML to the JSON the project publishes beside it (same
structure, key for key), for tests and the demo:

    python tests/data/federal/make_legislators_json.py SOURCE_DIR

SOURCE_DIR holds the unchanged `*.yaml` files of unitedstates/congress-legislators. Values are kept
as YAML reads them (dates in these files are quoted strings, so none changes type).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

NAMES = ("legislators-current", "committees-current", "committee-membership-current",
         "legislators-district-offices")


def convert(source: Path, target: Path) -> None:
    """Write NAME.json in `target` for every NAME.yaml of `NAMES` in `source`."""
    for name in NAMES:
        data = yaml.load((source / f"{name}.yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        (target / f"{name}.json").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    convert(Path(sys.argv[1]), Path(__file__).resolve().parents[3] / "tracker" / "demo" / "data" / "legislators")
