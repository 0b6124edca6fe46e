"""Property: the engine accepts a transition exactly when the pathway file allows it.

The oracle reads the TOML files directly (not the engine's parsed definitions): a transition is
legal when it exists, leaves the current stage (which is not an end), and the acting agency's
side and one of the user's roles are named. 10,000 random attempts over every pathway: no
illegal one is accepted, every legal one is (so the engine is not simply refusing all)."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casework.access.roles import Role
from casework.pathways.definitions import PATHWAYS_DIR, FieldKind, Side, TransitionDef, pathways
from casework.pathways.rules import (
    Acting,
    TransitionInvalid,
    TransitionRefused,
    check_move,
    parse_values,
)
from casework.workdays import WorkingDays

RAW = {path.stem: tomllib.loads(path.read_text("utf-8")) for path in PATHWAYS_DIR.glob("*.toml")}
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WORKDAYS = WorkingDays()
ATTEMPTS_PER_EXAMPLE = 50
EXAMPLES = 200
SEEN = {"attempts": 0, "accepted": 0, "refused": 0}


def _legal(pathway: str, stage: str, key: str, sides: set[str], roles: set[str]) -> bool:
    raw = RAW[pathway]
    transition = raw["transitions"].get(key)
    if transition is None or stage in ("", None):
        return False
    if raw["stages"][stage].get("terminal", False):
        return False
    return (
        stage in transition.get("from", [])
        and bool(sides & set(transition["sides"]))
        and bool(roles & set(transition["roles"]))
    )


def _valid_values(step: TransitionDef) -> dict[str, object]:
    values: dict[str, object] = {}
    later = (NOW + timedelta(days=30)).strftime("%Y-%m-%dT10:00")
    for spec in step.fields:
        if spec.kind is FieldKind.CHOICE:
            values[spec.name] = next(iter(spec.choices))
        elif spec.kind is FieldKind.YES_NO:
            values[spec.name] = "no"
        elif spec.kind is FieldKind.INTEGER:
            values[spec.name] = spec.minimum or 0
        elif spec.kind is FieldKind.DATE:
            values[spec.name] = NOW.date().isoformat()
        elif spec.kind is FieldKind.DATETIME:
            values[spec.name] = later
        else:
            values[spec.name] = "Fictional text"
    return values


ALL_KEYS = sorted({k for raw in RAW.values() for k in raw["transitions"]} | {"bogus"})
SIDES = st.sets(st.sampled_from([side.value for side in Side]), max_size=2)
ROLES = st.sets(st.sampled_from([role.value for role in Role]), min_size=1, max_size=3)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(pathway=st.sampled_from(sorted(RAW)), draw=st.data())
def _walk(pathway: str, draw: st.DataObject) -> None:
    definition = pathways()[pathway]
    stage = definition.starting()[0][1].to
    data: dict[str, Any] = {}
    for _ in range(ATTEMPTS_PER_EXAMPLE):
        # Half the attempts pick a transition that leaves this stage (often legal), half any.
        leaving = [k for k, t in RAW[pathway]["transitions"].items() if stage in t.get("from", [])]
        pool = leaving if leaving and draw.draw(st.booleans()) else ALL_KEYS
        key = draw.draw(st.sampled_from(pool))
        sides, roles = draw.draw(SIDES), draw.draw(ROLES)
        SEEN["attempts"] += 1
        acting = Acting(frozenset(Side(s) for s in sides), frozenset(Role(r) for r in roles))
        legal = _legal(pathway, stage, key, sides, roles)
        try:
            step = check_move(definition, stage, key, acting)
            checked = parse_values(
                step, _valid_values(step), known=data, now=NOW, workdays=WORKDAYS
            )
        except (TransitionRefused, PermissionError):
            assert not legal, f"{pathway}: {key} from {stage} by {sides}/{roles} refused"
            SEEN["refused"] += 1
            continue
        except TransitionInvalid:
            # A cross-field check (a disputed test's working days) refused valid-looking values:
            # the move itself was legal.
            assert legal
            continue
        assert legal, f"{pathway}: illegal {key} from {stage} by {sides}/{roles} accepted"
        SEEN["accepted"] += 1
        data.update(checked.plain)
        stage = step.to


def test_no_illegal_transition_is_accepted_in_ten_thousand_attempts() -> None:
    _walk()
    assert SEEN["attempts"] >= 10_000
    assert SEEN["accepted"] > 100
    assert SEEN["refused"] > 1000


@given(
    garbage=st.dictionaries(
        st.sampled_from(["test_result", "appointment_at", "tested_on", "place", "x"]),
        st.one_of(st.none(), st.integers(), st.text(max_size=30), st.booleans()),
    )
)
@settings(max_examples=300, deadline=None, derandomize=True)
def test_random_booking_values_are_refused_or_well_formed(garbage: dict[str, object]) -> None:
    step = pathways()["required_assessment"].transitions["book"]
    try:
        checked = parse_values(step, garbage, known={}, now=NOW, workdays=WORKDAYS)
    except TransitionInvalid:
        return  # refused, with problems named (parse_values never raises without any)
    # Accepted: every required field is there and every choice is one of the options.
    for spec in step.fields:
        if spec.kind is FieldKind.CHOICE:
            assert checked.plain[spec.name] in spec.choices
