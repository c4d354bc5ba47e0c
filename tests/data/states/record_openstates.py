"""How tracker/demo/data/openstates/api/*.json were made: the Open States API v3's own server
(github.com/openstates/api-v3, MIT; not part of this repository) run over a scratch PostgreSQL
database filled from `source.json` (constructed bill contents) and the openstates/people YAML in
`people/`, then asked over HTTP. Run it from a checkout of api-v3 with its dependencies installed:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/openstates_rec RRL_REDIS_PORT=6391 \
        python record_openstates.py load baseline            # fill the database
    uvicorn api.main:app --port 8766 &                        # the API's own server
    python record_openstates.py record baseline http://127.0.0.1:8766
    python record_openstates.py load later && python record_openstates.py record later http://...

Ids are derived (uuid5) from the bill and position, so both states give the same ids."""

from __future__ import annotations

import datetime
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parents[3] / "tracker" / "demo" / "data" / "openstates"
NS = uuid.UUID("6f1d2a34-5c1e-4b8e-9a61-0d7f3e2b9c10")
RECORD_KEY = "recording-key-unlimited"  # tier "unlimited": the recording itself is never limited
LIMITED_KEY = "recording-key-default"  # tier "default": 10 a minute, 250 a day
OFFICE_NOTES = {"capitol office": "capitol", "district office": "district", "primary office": "primary"}
INCLUDES = ["sponsorships", "abstracts", "other_titles", "other_identifiers", "actions", "sources",
            "documents", "versions", "votes", "related_bills"]


def uid(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NS, "/".join(map(str, parts)))


def stamp(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("+00", "+00:00") if text.endswith("+00") else text)


def load(state: str) -> None:
    from api.db import Base, SessionLocal, engine
    from api.db import models as m
    from openstates.metadata import STATES_BY_ABBR

    source = json.loads((HERE / "source.json").read_text())
    Base.metadata.drop_all(bind=engine)
    Base.metadata.create_all(bind=engine)
    db = SessionLocal()
    db.add(m.Profile(id="1", api_key=RECORD_KEY, api_tier="unlimited"))
    db.add(m.Profile(id="2", api_key=LIMITED_KEY, api_tier="default"))
    chambers: dict[tuple[str, str], m.Organization] = {}
    sessions: dict[tuple[str, str], m.LegislativeSession] = {}
    titles: dict[tuple[str, str], str] = {}
    updates = source["jurisdictions"][state]
    for key, meta in sorted(STATES_BY_ABBR.items()):
        abbr = key.lower()
        if abbr not in _fifty_two():
            continue
        when = stamp(updates.get(abbr, source["jurisdictions"]["other"]))
        j = m.Jurisdiction(id=meta.jurisdiction_id, name=meta.name, url=meta.url, classification="state",
                           division_id=meta.division_id, latest_bill_update=when, latest_people_update=when)
        db.add(j)
        db.add(m.Organization(id=meta.legislature_organization_id, name=meta.legislature_name,
                              classification="legislature", jurisdiction=j))
        db.add(m.Organization(id=meta.executive_organization_id, name=meta.executive_name,
                              classification="executive", jurisdiction=j))
        for chamber in meta.chambers:
            if chamber.chamber_type == "unicameral":
                chambers[(abbr, "legislature")] = chambers[(abbr, "upper")] = db.get(
                    m.Organization, meta.legislature_organization_id) or m.Organization(id="x")
                continue
            org = m.Organization(id=chamber.organization_id, name=chamber.name,
                                 classification=chamber.chamber_type, jurisdiction=j)
            db.add(org)
            chambers[(abbr, chamber.chamber_type)] = org
            titles[(abbr, chamber.chamber_type)] = chamber.title
        chambers[(abbr, "executive")] = db.get(m.Organization, meta.executive_organization_id)
        for s in source["sessions"].get(abbr, []):
            ls = m.LegislativeSession(jurisdiction=j, **s)
            db.add(ls)
            sessions[(abbr, s["identifier"])] = ls
    db.add(m.Jurisdiction(id="ocd-jurisdiction/country:us/state:co/place:denver/government", name="Denver",
                          url="https://www.denvergov.org", classification="municipality",
                          division_id="ocd-division/country:us/state:co/place:denver",
                          latest_bill_update=stamp(source["jurisdictions"]["other"]),
                          latest_people_update=stamp(source["jurisdictions"]["other"])))
    db.flush()
    committees = _people(db, m, chambers, titles)
    db.flush()
    for bill in source["bills"]:
        _bill(db, m, bill, state, chambers, sessions, committees)
    db.commit()


def _fifty_two() -> list[str]:
    from openstates.metadata import STATES_BY_ABBR

    return [a.lower() for a in STATES_BY_ABBR if a.lower() not in ("as", "gu", "mp", "vi", "us", "um", "za")]


def _people(db, m, chambers, titles) -> dict[tuple[str, str], str]:
    """The selected openstates/people YAML as openstates-core loads it: a current role, email,
    offices (or the older contact_details, one office per note); committees as organizations."""
    committees: dict[tuple[str, str], str] = {}
    for path in sorted((HERE / "people").glob("*/legislature/*.yml")):
        abbr = path.parts[-3]
        data = yaml.safe_load(path.read_text())
        role = next(r for r in data["roles"] if not r.get("end_date"))
        district = str(role["district"])
        kind = role["type"]
        division = f"ocd-division/country:us/state:{abbr}/sld{'u' if kind == 'upper' else 'l'}:" \
                   f"{district.lower().replace(' ', '_')}"
        person = m.Person(id=data["id"], name=data["name"], given_name=data.get("given_name", ""),
                          family_name=data.get("family_name", ""), image=data.get("image", ""),
                          gender=data.get("gender", ""), email=data.get("email", ""),
                          party=data["party"][0]["name"],
                          current_role={"title": titles.get((abbr, kind), ""), "org_classification": kind,
                                        "district": district, "division_id": division},
                          jurisdiction_id=chambers[(abbr, kind)].jurisdiction_id,
                          created_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
                          updated_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC), extras={})
        db.add(person)
        for office in data.get("offices") or []:
            db.add(m.PersonOffice(person_id=data["id"], classification=office.get("classification"),
                                  address=office.get("address"), voice=office.get("voice"),
                                  fax=office.get("fax"), name_=office.get("name", "")))
        for detail in data.get("contact_details") or []:
            note = detail.get("note", "")
            db.add(m.PersonOffice(person_id=data["id"], classification=OFFICE_NOTES.get(note.lower(), "district"),
                                  address=detail.get("address"), voice=detail.get("voice"),
                                  fax=detail.get("fax"), name_=note))
    for path in sorted((HERE / "people").glob("*/committees/*.yml")):
        abbr = path.parts[-3]
        data = yaml.safe_load(path.read_text())
        chamber = data.get("chamber", "legislature")
        parent = chambers.get((abbr, chamber))
        db.add(m.Organization(id=data["id"], name=data["name"], classification="committee",
                              parent_id=parent.id if parent is not None else None,
                              jurisdiction_id=parent.jurisdiction_id if parent is not None else None, extras={}))
        committees[(abbr, f"{chamber}:{data['name']}")] = data["id"]
    return committees


def _bill(db, m, spec, state, chambers, sessions, committees) -> None:
    abbr = spec["state"]
    later = state == "later"
    bill_id = f"ocd-bill/{uid(abbr, spec['session'], spec['identifier'])}"
    actions = [a for a in spec["actions"] if later or not a.get("later")]
    bill = m.Bill(id=bill_id, identifier=spec["identifier"], title=spec["title"],
                  classification=spec["classification"], subject=spec["subject"], extras={},
                  created_at=stamp(spec["created_at"]), updated_at=stamp(spec["updated_at"][state]),
                  from_organization=chambers[(abbr, spec["from"])],
                  legislative_session=sessions[(abbr, spec["session"])],
                  first_action_date=actions[0]["date"] if actions else None,
                  latest_action_date=actions[-1]["date"] if actions else None,
                  latest_action_description=actions[-1]["description"] if actions else None,
                  latest_passage_date=max((a["date"] for a in actions if "passage" in a["classification"]),
                                          default=None))
    db.add(bill)
    for n, a in enumerate(spec["abstracts"]):
        db.add(m.BillAbstract(id=uid(bill_id, "abstract", n), bill=bill, **a))
    withdrawn = set(spec.get("withdrawn_later") or []) if later else set()
    for n, s in enumerate(spec["sponsorships"]):
        if (s.get("later") and not later) or s["name"] in withdrawn or s["name"].split()[-1] in withdrawn:
            continue
        db.add(m.BillSponsorship(id=uid(bill_id, "sponsor", n), bill=bill, name=s["name"],
                                 entity_type=s.get("entity_type", "person"), person_id=s.get("person"),
                                 primary=s["primary"], classification=s["classification"]))
    action_rows = {}
    for n, a in enumerate(actions):
        row = m.BillAction(id=uid(bill_id, "action", a["date"], a["description"]), bill=bill,
                           organization=chambers[(abbr, a["org"])], description=a["description"],
                           date=a["date"], classification=a["classification"], order=n)
        db.add(row)
        action_rows[(a["date"], a["org"])] = row
        if a.get("committee"):
            key = next((k for k in committees if k[0] == abbr and k[1].endswith(":" + a["committee"])
                        and k[1].startswith(a["org"])), None)
            db.add(m.BillActionRelatedEntity(id=uid(bill_id, "related", n), action=row, name=a["committee"],
                                             entity_type="organization",
                                             organization_id=committees.get(key) if key else None))
    for v in spec["votes"]:
        if v.get("later") and not later:
            continue
        vote = m.VoteEvent(id=f"ocd-vote/{uid(bill_id, 'vote', v['identifier'])}", identifier=v["identifier"],
                           motion_text=v["motion_text"], motion_classification=v["motion_classification"],
                           start_date=v["start_date"], result=v["result"], extras={},
                           organization=chambers[(abbr, v["org"])], bill=bill,
                           # these two columns are UUIDs kept as text: ids, not related objects
                           legislative_session_id=str(sessions[(abbr, spec["session"])].id),
                           bill_action_id=str(action_rows[(v["start_date"], v["org"])].id)
                           if (v["start_date"], v["org"]) in action_rows else None)
        db.add(vote)
        for option, value in v["counts"].items():
            db.add(m.VoteCount(id=uid(vote.id, option), vote_event=vote, option=option, value=value))
        for source_url in spec["sources"][:1]:
            db.add(m.VoteSource(id=uid(vote.id, "source"), vote_event=vote, url=source_url, note=""))
    for n, v in enumerate(spec["versions"]):
        version = m.BillVersion(id=uid(bill_id, "version", n), bill=bill, note=v["note"], date=v["date"], extras={})
        db.add(version)
        db.add(m.BillVersionLink(id=uid(bill_id, "version-link", n), version=version, url=v["url"],
                                 media_type=v["media_type"]))
    for n, url in enumerate(spec["sources"]):
        db.add(m.BillSource(id=uid(bill_id, "source", n), bill=bill, url=url, note=""))
    db.flush()
    from sqlalchemy import text
    document = " ".join([spec["title"], *(a["abstract"] for a in spec["abstracts"]), spec.get("text", "")])
    db.execute(text("INSERT INTO opencivicdata_searchablebill (bill_id, search_vector) "
                    "VALUES (:bill, to_tsvector('english', :doc))"), {"bill": bill_id, "doc": document})


def get(base: str, path: str, params: list[tuple[str, str]], key: str | None) -> dict:
    url = f"{base}{urllib.parse.quote(path)}" + ("?" + urllib.parse.urlencode(params) if params else "")
    request = urllib.request.Request(url, headers={"X-API-KEY": key} if key else {})
    try:
        with urllib.request.urlopen(request) as response:
            status, body, kind = response.status, response.read(), response.headers.get("Content-Type")
    except urllib.error.HTTPError as error:
        status, body, kind = error.code, error.read(), error.headers.get("Content-Type")
    return {"request": {"path": path, "params": params, "key": "valid" if key == RECORD_KEY else
                        ("default-tier" if key == LIMITED_KEY else ("wrong" if key else None))},
            "status": status, "content_type": kind, "body": json.loads(body)}


def record(state: str, base: str) -> None:
    source = json.loads((HERE / "source.json").read_text())
    every = [("include", name) for name in INCLUDES]
    out: dict = {"state": state, "jurisdictions": None, "bills": [], "people": {}, "exchanges": []}
    out["jurisdictions"] = get(base, "/jurisdictions", [("classification", "state"), ("per_page", "52")],
                               RECORD_KEY)["body"]
    for spec in source["bills"]:
        path = f"/bills/{spec['state']}/{spec['session']}/{spec['identifier']}"
        out["bills"].append(get(base, path, every, RECORD_KEY)["body"])
    for abbr in sorted(source["sessions"]):
        out["people"][abbr] = get(base, "/people", [("jurisdiction", abbr), ("include", "offices"),
                                                    ("per_page", "50")], RECORD_KEY)["body"]["results"]
    asks = [
        ("/bills", [("jurisdiction", "co"), ("session", "2020A"), ("sort", "updated_asc"),
                    ("include", "actions"), ("include", "sponsorships"), ("include", "votes")], RECORD_KEY),
        ("/bills", [("jurisdiction", "ny"), ("sort", "updated_asc"), ("per_page", "1"), ("page", "2")], RECORD_KEY),
        ("/bills", [("jurisdiction", "co"), ("updated_since", "2020-06-09 00:00:00"), ("sort", "updated_asc")],
         RECORD_KEY),
        ("/bills", [("jurisdiction", "co"), ("updated_since", "2020-06-09T00:00:00"), ("sort", "updated_asc")],
         RECORD_KEY),
        ("/bills", [("jurisdiction", "co"), ("updated_since", "2020-06-09"), ("sort", "updated_asc")], RECORD_KEY),
        ("/bills", [("q", '"qualified immunity"'), ("sort", "updated_asc")], RECORD_KEY),
        ("/bills", [("q", "qualified immunity"), ("sort", "updated_asc")], RECORD_KEY),
        ("/bills", [("q", "immunity qualified"), ("sort", "updated_asc")], RECORD_KEY),
        ("/bills", [("jurisdiction", "nm"), ("q", '"qualified immunity"'), ("sort", "updated_asc")], RECORD_KEY),
        ("/bills", [("q", "SB 217"), ("jurisdiction", "co")], RECORD_KEY),
        ("/people", [("jurisdiction", "co"), ("include", "offices"), ("per_page", "5"), ("page", "2")], RECORD_KEY),
    ]
    if state == "baseline":
        asks += [
            ("/bills", [("jurisdiction", "co")], None),
            ("/bills", [("jurisdiction", "co")], "not-a-key"),
            ("/bills", [("jurisdiction", "co"), ("per_page", "21")], RECORD_KEY),
            ("/bills", [("jurisdiction", "co"), ("page", "2")], RECORD_KEY),
            ("/bills", [("jurisdiction", "co"), ("updated_since", "2020-06-09T00:00:00Z")], RECORD_KEY),
            ("/bills", [("jurisdiction", "co"), ("updated_since", "June 9")], RECORD_KEY),
            ("/bills", [("jurisdiction", "co"), ("include", "actions,votes")], RECORD_KEY),
            ("/bills", [("session", "2020A")], RECORD_KEY),
            ("/bills", [("jurisdiction", "co"), ("sort", "newest")], RECORD_KEY),
            ("/people", [("jurisdiction", "co"), ("per_page", "51")], RECORD_KEY),
            ("/jurisdictions", [("classification", "state"), ("per_page", "10"), ("page", "6")], RECORD_KEY),
        ]
    for path, params, key in asks:
        out["exchanges"].append(get(base, path, params, key))
    if state == "baseline":  # the free tier: the 11th request within one minute is a 429
        limited = [get(base, "/jurisdictions", [("classification", "state"), ("per_page", "1")], LIMITED_KEY)
                   for _ in range(11)]
        out["exchanges"].append({**limited[-1], "note": f"the 11th request with a default-tier key within "
                                 f"one minute; statuses {[r['status'] for r in limited]}"})
    target = HERE / "api" / f"{state}.json"
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {target} ({len(out['exchanges'])} exchanges) at {time.strftime('%H:%M:%S')}")


if __name__ == "__main__":
    if sys.argv[1] == "load":
        load(sys.argv[2])
    else:
        record(sys.argv[2], sys.argv[3])
