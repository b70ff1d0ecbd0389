"""The home municipality: which ASSS member the reports are written for and the scorecard defaults to.

One setting (STYRINGSDATA_HOME_MUNICIPALITY), checked here before anything is built, and passed to dbt as a
var together with the date lateness is judged against. The ASSS members are the dbt var
`asss_municipalities` (what the marts compare); a code that is not one of them stops the run, naming the
setting, and a retired code is named with its successor from the KLASS lineage (the newest KLASS answer
in the landing zone, else the bundled snapshot).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path

import yaml

from styringsdata.paths import DBT_PROJECT_DIR
from styringsdata.sources.klass import KlassError, build_lineage, parse_changes

SETTING = "STYRINGSDATA_HOME_MUNICIPALITY"
# Under the snapshot folder (STYRINGSDATA_SNAPSHOT_DIR): KLASS classification 131's changes as bundled.
BUNDLED_KLASS = Path("data.ssb.no") / "api" / "klass" / "v1" / "classifications" / "131" / "changes"
# The members' names as the ASSS agreement lists them (seed 000 §1); the codes are today's.
MEMBER_NAMES = {
    "0301": "Oslo", "4601": "Bergen", "5001": "Trondheim", "1103": "Stavanger", "3201": "Bærum",
    "4204": "Kristiansand", "3107": "Fredrikstad", "1108": "Sandnes", "5501": "Tromsø", "3301": "Drammen",
    "3203": "Asker", "3205": "Lillestrøm",
}


class HomeMunicipalityError(ValueError):
    pass


@functools.cache
def asss_members() -> tuple[str, ...]:
    """Today's codes of the 12 ASSS members, as the dbt project compares them."""
    document = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return tuple(document["vars"]["asss_municipalities"])


def member_name(code: str) -> str:
    return MEMBER_NAMES.get(code, code)


def members_listed() -> str:
    return ", ".join(f"{c} {member_name(c)}" for c in asss_members())


def form_problem(value: str) -> str | None:
    """What is wrong with the setting's form (the Settings field's parser), before membership is looked up."""
    code = value.strip()
    return None if code.isdigit() and len(code) == 4 else \
        f"expected the four-digit code of an ASSS member (today's codes: {members_listed()})"


def check_home_municipality(value: str, landing_dir: Path | None = None, snapshot_dir: Path | None = None) -> str:
    """The code when it is one of today's ASSS members; otherwise an error naming the setting and what to set."""
    code = value.strip()
    members = asss_members()
    if code in members:
        return code
    expected = members_listed()
    problem = form_problem(value)
    if problem:
        raise HomeMunicipalityError(f"{SETTING}={value!r}: {problem}")
    successors = _successors(code, landing_dir, snapshot_dir)
    if successors:
        old_name, changed_on, targets = successors
        named = " and ".join(f"{c} {n}" for c, n in targets)
        members_among = [c for c, _ in targets if c in members]
        advice = (f"; set {SETTING}={members_among[0]}" if len(members_among) == 1 else "")
        raise HomeMunicipalityError(
            f"{SETTING}={value!r}: {code} {old_name} is a retired municipality code (KLASS: changed "
            f"{changed_on.isoformat()}); today's code{' is' if len(targets) == 1 else 's are'} {named}{advice}")
    raise HomeMunicipalityError(f"{SETTING}={value!r}: not the code of an ASSS member (today's codes: {expected})")


def _successors(code: str, landing_dir: Path | None,
                snapshot_dir: Path | None) -> tuple[str, dt.date, list[tuple[str, str]]] | None:
    body = _klass_changes(landing_dir, snapshot_dir)
    if body is None:
        return None
    try:
        lineage = [row for row in build_lineage(parse_changes(body)) if row.from_code == code
                   and row.to_code != code]
    except KlassError:
        return None
    if not lineage:
        return None
    return lineage[0].from_name, lineage[0].changed_on, sorted({(r.to_code, r.to_name) for r in lineage})


def _klass_changes(landing_dir: Path | None, snapshot_dir: Path | None) -> bytes | None:
    """The newest KLASS classification 131 changes this installation has: landed, else bundled."""
    if landing_dir is not None:
        landed = sorted((landing_dir / "klass" / "131-changes").glob("*/changes.json"))
        if landed:
            return landed[-1].read_bytes()
    bundled = sorted((snapshot_dir / BUNDLED_KLASS).glob("GET-*.json")) if snapshot_dir is not None else []
    if not bundled:
        return None
    return json.loads(bundled[0].read_text(encoding="utf-8"))["response"]["body"].encode("utf-8")


def dbt_vars(home: str, as_of: dt.date) -> dict[str, str]:
    """What dbt builds for: the marts mark the home member and judge lateness against `as_of`."""
    return {"home_municipality": home, "as_of_date": as_of.isoformat()}
