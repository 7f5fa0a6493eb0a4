"""Classifications, villages, sponsor units and programmes: what each records, and what
it refuses."""

from datetime import date
from decimal import Decimal

import pytest

from services.registry.domain.admin_units import Edition
from services.registry.domain.communes import (
    Classification,
    ClassificationKind,
    CommuneRef,
    Village,
    VillageKind,
)
from services.registry.domain.programmes import LegalBasis, Period, Programme
from services.registry.domain.sponsor_units import SponsorUnit, SponsorUnitKind
from shared.contract import to_json
from shared.errors import RuleViolation

DONG_GIANG = CommuneRef(Edition.PRE_2025, "23074")
DECISION_2072 = LegalBasis("2072/QĐ-UBND", date(2021, 11, 17), "UBND tỉnh Điện Biên")


def classify(kind: ClassificationKind, value: bool | Decimal | int) -> Classification:
    return Classification("60", DONG_GIANG, kind, value, date(2024, 9, 30), "Báo cáo 9/2024")


def test_a_classification_records_its_value_date_and_source() -> None:
    event = classify(ClassificationKind.ETHNIC_MINORITY_SHARE, Decimal("95.5")).recorded()
    assert event.type == "vn.ketnghia.registry.commune.classified.v1"
    data = to_json(event.data)
    assert data["value"] == "95.5"  # decimals travel as text, never as floats
    assert data["commune"] == {"edition": "pre-2025", "code": "23074"}
    assert data["effective_on"] == "2024-09-30"


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        (ClassificationKind.LAND_BORDER, 1, "true or false"),
        (ClassificationKind.POOR_NEAR_POOR_RATE, True, "a number"),
        (ClassificationKind.POOR_NEAR_POOR_RATE, Decimal("100.1"), "0-100"),
        (ClassificationKind.NEW_RURAL_CRITERIA_MET, 20, "0-19"),
        (ClassificationKind.NEW_RURAL_CRITERIA_MET, Decimal("9.5"), "whole number"),
    ],
)
def test_a_value_that_does_not_fit_its_kind_is_refused(
    kind: ClassificationKind, value: bool | Decimal | int, reason: str
) -> None:
    with pytest.raises(RuleViolation, match=reason) as violation:
        classify(kind, value)
    assert violation.value.field == "value"


def test_a_village_is_recorded_under_its_commune() -> None:
    village = Village("v1", "60", DONG_GIANG, VillageKind.THON, " Thôn 1 ")
    village.register()
    [event] = village.pending
    assert to_json(event.data)["commune"] == {"edition": "pre-2025", "code": "23074"}
    assert to_json(event.data)["name"] == "Thôn 1"
    with pytest.raises(RuleViolation, match="name"):
        Village("v2", "60", DONG_GIANG, VillageKind.BAN, "  ")


def test_a_sponsor_unit_cannot_be_its_own_parent() -> None:
    with pytest.raises(RuleViolation) as violation:
        SponsorUnit("u1", "11", "Sở Công Thương", SponsorUnitKind.DEPARTMENT, parent_id="u1")
    assert violation.value.field == "parent_id"


def test_a_programme_cites_each_document_once() -> None:
    programme = Programme("p", "11", "Điện Biên Đông", Period(2021, 2025), "", (DECISION_2072,))
    programme.create()
    assert to_json(programme.pending[0].data)["legal_bases"][0]["number"] == "2072/QĐ-UBND"
    with pytest.raises(RuleViolation, match="already cites"):
        programme.add_legal_basis(DECISION_2072)
    amended = LegalBasis("15/QĐ-UBND", date(2023, 1, 9), "UBND tỉnh Điện Biên")
    programme.add_legal_basis(amended)
    assert to_json(programme.pending[1].data)["legal_basis"]["number"] == "15/QĐ-UBND"
    rebuilt = Programme.from_events(programme.pending)
    assert (rebuilt.legal_bases, rebuilt.version) == ((DECISION_2072, amended), 2)
    with pytest.raises(RuleViolation, match="already cites"):
        rebuilt.add_legal_basis(amended)
