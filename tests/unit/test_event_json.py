"""The domains decide the contract's models; stored and published, they must be the JSON the
hand-built dicts were before (events already stored and consumers elsewhere read it), and
read back they must be the same models."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from services.activities.domain.activities import Activity, Quantity
from services.activities.domain.locks import Lock, ProvinceLocks
from services.activities.domain.plans import Commitment, Plan
from services.registry.domain.admin_units import Edition
from services.registry.domain.communes import Classification, ClassificationKind, CommuneRef
from shared.contract import Event, parse, to_json
from tests.unit.activities.test_activities import BICYCLES
from tests.unit.registry.test_assignments import nam_giang
from tests.unit.test_contract import decided_events

DONG_GIANG = {"edition": "pre-2025", "code": "23074"}
SHARE = {"sponsor_unit_id": "unit-so-cong-thuong", "value_vnd": 21_750_000}


def test_a_recording_is_the_json_it_always_was() -> None:
    [event] = Activity.record("a1", "60", BICYCLES).pending
    assert to_json(event.data) == {
        "activity_id": "a1", "province": "60", "assignment_id": "assignment-dong-giang",
        "commune": DONG_GIANG, "village_id": None, "occurred_on": "2024-09-30",
        "category": "scholarship_school_equipment",
        "description": "15 xe đạp cho học sinh nghèo", "value_vnd": 21_750_000,
        "contributions": [SHARE], "funding_source": "own_budget",
        "quantity": {"amount": "15", "unit": "chiếc"},
        "beneficiaries": [{"count": 15, "kind": "pupils", "group": "poor"}],
        "evidence": [], "commitment_id": None,
    }  # fmt: skip


def test_the_facts_an_import_names_its_rows_by_are_the_recording_s() -> None:
    """`Facts.data()` is written out for speed; it must say what the recording says."""
    fixed = replace(BICYCLES, description=" xe ", quantity=Quantity(Decimal("1.50"), "km"),
                    village_id="v1", evidence=("e1",), commitment_id="c1")  # fmt: skip
    for facts in (BICYCLES, fixed, replace(BICYCLES, quantity=None, beneficiaries=())):
        recorded = to_json(facts.recorded("a1", "60"))
        assert {"activity_id": "a1", "province": "60", **facts.data()} == recorded


def test_the_json_an_activity_writes_out_is_its_model_s() -> None:
    """A recording's and a correction's JSON come written out with the event (`Event.json`,
    for an import's speed); they must be what dumping the model gives."""
    fixed = replace(BICYCLES, description=" xe ", quantity=Quantity(Decimal("1.50"), "km"),
                    village_id="v1", evidence=("e1",), commitment_id="c1")  # fmt: skip
    for facts in (BICYCLES, fixed, replace(BICYCLES, quantity=None, beneficiaries=())):
        activity = Activity.record("a1", "60", BICYCLES)
        if facts != BICYCLES:
            activity.correct(facts, " sửa ")
        for event in activity.pending:
            assert event.json is not None
            assert event.json == to_json(event.data)


def test_fields_added_compatibly_stay_out_of_events_that_do_not_have_them() -> None:
    plan = Plan.create("a", 2025, "60", [Commitment("camera", "Lắp camera", None, 2)])
    plan.add(Commitment("x", " X ", "cash", None, 5, Quantity(Decimal("20"), "con")))
    created, added = (to_json(event.data) for event in plan.pending)
    assert created["commitments"] == [
        {"commitment_id": "camera", "description": "Lắp camera", "category": None, "quarter": 2}
    ]
    assert added == {
        "assignment_id": "a", "year": 2025, "commitment_id": "x", "description": "X",
        "category": "cash", "quarter": None, "planned_value_vnd": 5,
        "planned_quantity": {"amount": "20", "unit": "con"},
    }  # fmt: skip
    district = nam_giang()
    continued = district.continue_on_communes(["20551"], "Sắp xếp")[0]
    made = to_json(continued.pending[0].data)
    assert made["continues"] == "a-nam-giang"
    assert made["target"] == {"kind": "commune", "edition": "2025", "code": "20551",
                              "village_id": None}  # fmt: skip
    assert "continues" not in to_json(district.pending[0].data)


def test_values_travel_as_json_types_and_decimals_as_text() -> None:
    commune = CommuneRef(Edition.PRE_2025, "23074")
    values: list[tuple[ClassificationKind, bool | Decimal | int, object]] = [
        (ClassificationKind.ETHNIC_MINORITY_SHARE, Decimal("95.50"), "95.50"),
        (ClassificationKind.LAND_BORDER, True, True),
        (ClassificationKind.NEW_RURAL_CRITERIA_MET, 12, 12),
    ]
    for kind, value, carried in values:
        event = Classification("60", commune, kind, value, date(2024, 9, 30), " s ").recorded()
        assert to_json(event.data) == {"province": "60", "commune": DONG_GIANG, "kind": kind,
                                       "value": carried, "effective_on": "2024-09-30",
                                       "source": "s"}  # fmt: skip
    locks = ProvinceLocks("60")
    locks.lock(Lock("q2", 2025, None, ("pre-2025", "23074"), " r ", "b"))
    assert to_json(locks.pending[0].data) == {"province": "60", "lock_id": "q2", "year": 2025,
                                              "quarter": None, "commune": DONG_GIANG,
                                              "reason": "r", "by": "b"}  # fmt: skip


def test_every_decided_event_reads_back_as_the_model_it_was() -> None:
    for event in decided_events():
        stored = to_json(event.data)
        assert Event(parse(event.type, stored)) == event
        assert to_json(parse(event.type, stored)) == stored
