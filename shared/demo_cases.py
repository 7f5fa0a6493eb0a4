"""The published cases of `../shared/product.md` as demo data, in one place: the registry's
demo records them (`services.registry.demo`), the activities' demo records what the units
did there (`services.activities.demo`), and the CLI and the tests name the same units and
assignments. Each service's demo reads them here, so no service imports another.

Ids are derived from the facts (UUID 5): every reader computes the same id for a unit or an
assignment without asking the registry. Where the published reports are silent, the demo
says so rather than invent a document: such programmes and assignments carry no legal
basis, and the notes below name each assumption.

- Bình Thuận: xã Đông Giang (Sở Công Thương leads 2024, Bảo hiểm xã hội tỉnh 2025; plan
  signed at the end of September 2024) and xã Hàm Cần (notice 417-TB/TU of 05/8/2024,
  signed 19/9/2024; the brief names no lead: the demo gives 2024 to Hội Nông dân, whose
  support fund lent the 200 million).
- Điện Biên: decision 2072/QĐ-UBND of 17/11/2021, ten bodies, 2021-2025, Điện Biên Đông's
  communes. The brief does not say which body helps which commune: the demo pairs them in
  the decision's order with the district's communes, xã Chiềng Sơ first.
- Hòa Bình: the 2021-2025 programme's units; Ngân hàng Chính sách xã hội with xã Mai Hịch.
- Quảng Nam: Tam Kỳ city with huyện Nam Giang (district twinning) and the land-border
  communes La Êê and La Dêê; Agribank with xã Lăng (Tây Giang).

Targets are pre-2025 units (edition `pre-2025`).
"""

import uuid
from dataclasses import dataclass, field
from typing import Any

DEMO = uuid.UUID("5d3c7a52-8f7e-4f43-9a57-6a0e1f0b2b11")


def demo_id(*parts: str) -> str:
    return str(uuid.uuid5(DEMO, "/".join(parts)))


@dataclass(frozen=True)
class Case:
    """One programme of one province, with its units and assignments."""

    province: str
    programme: str
    period: tuple[int, int]
    scope: str
    legal_bases: list[dict[str, str]]
    units: dict[str, str]  # name -> kind
    # (target kind, code, members, joined on, {year: lead}, legal basis number or None)
    assignments: list[tuple[str, str, list[str], str, dict[int, str], str | None]]
    classifications: list[dict[str, Any]] = field(default_factory=list)


SO_CONG_THUONG = "Sở Công Thương tỉnh Bình Thuận"
BHXH = "Bảo hiểm xã hội tỉnh Bình Thuận"
VP_DOAN = "Văn phòng Đoàn ĐBQH và HĐND tỉnh Bình Thuận"
HOI_NONG_DAN_BT = "Hội Nông dân tỉnh Bình Thuận"
VKS_BT = "Viện kiểm sát nhân dân tỉnh Bình Thuận"
NHNN_BT = "Ngân hàng Nhà nước chi nhánh Bình Thuận"
NOTICE_417 = {"number": "417-TB/TU", "issued_on": "2024-08-05", "issuer": "Tỉnh ủy Bình Thuận"}
DECISION_2072 = {
    "number": "2072/QĐ-UBND",
    "issued_on": "2021-11-17",
    "issuer": "UBND tỉnh Điện Biên",
}
DIEN_BIEN_BODIES = [
    "Sở Tài nguyên và Môi trường tỉnh Điện Biên",
    "Sở Lao động - Thương binh và Xã hội tỉnh Điện Biên",
    "Sở Công Thương tỉnh Điện Biên",
    "Sở Thông tin và Truyền thông tỉnh Điện Biên",
    "Sở Khoa học và Công nghệ tỉnh Điện Biên",
    "Tỉnh đoàn Điện Biên",
    "Liên đoàn Lao động tỉnh Điện Biên",
    "Cục Quản lý thị trường tỉnh Điện Biên",
    "Trường Cao đẳng Sư phạm Điện Biên",
    "Báo Điện Biên Phủ",
]
DIEN_BIEN_KINDS = ["department"] * 5 + ["mass_organisation"] * 2 + ["department"] * 3
# xã Chiềng Sơ, then the district's other communes in code order
DIEN_BIEN_DONG_COMMUNES = [
    "03211",
    "03205",
    "03208",
    "03214",
    "03370",
    "03371",
    "03373",
    "03376",
    "03379",
    "03382",
]
TAM_KY = "UBND thành phố Tam Kỳ"
AGRIBANK_QN = "Agribank chi nhánh tỉnh Quảng Nam"
NHCSXH_HB = "Ngân hàng Chính sách xã hội chi nhánh tỉnh Hòa Bình"

CASES = [
    Case(
        province="60",
        programme="Kết nghĩa, giúp đỡ xã đặc biệt khó khăn vùng đồng bào dân tộc thiểu số "
        "tỉnh Bình Thuận giai đoạn 2024-2025",
        period=(2024, 2025),
        scope="Xã đặc biệt khó khăn vùng đồng bào dân tộc thiểu số và miền núi",
        legal_bases=[NOTICE_417],
        units={
            SO_CONG_THUONG: "department",
            BHXH: "department",
            VP_DOAN: "department",
            HOI_NONG_DAN_BT: "mass_organisation",
            VKS_BT: "department",
            NHNN_BT: "bank",
        },
        assignments=[
            (
                "commune",
                "23074",  # xã Đông Giang, huyện Hàm Thuận Bắc
                [SO_CONG_THUONG, BHXH, VP_DOAN],
                "2024-09-30",
                {2024: SO_CONG_THUONG, 2025: BHXH},
                None,
            ),
            (
                "commune",
                "23116",  # xã Hàm Cần, huyện Hàm Thuận Nam
                [HOI_NONG_DAN_BT, VKS_BT, NHNN_BT],
                "2024-09-19",
                {2024: HOI_NONG_DAN_BT},
                "417-TB/TU",
            ),
        ],
        classifications=[
            {
                "code": "23074",
                "kind": "ethnic_minority_share",
                "value": 95,
                "effective_on": "2024-09-30",
                "source": "Báo cáo tại lễ ký kết kết nghĩa xã Đông Giang, 9/2024",
            },
            {
                "code": "23074",
                "kind": "poor_near_poor_rate",
                "value": 40,
                "effective_on": "2024-09-30",
                "source": "Báo cáo tại lễ ký kết kết nghĩa xã Đông Giang, 9/2024 (trên 40%)",
            },
        ],
    ),
    Case(
        province="11",
        programme="Giúp đỡ các xã đặc biệt khó khăn huyện Điện Biên Đông giai đoạn 2021-2025",
        period=(2021, 2025),
        scope="Các xã đặc biệt khó khăn huyện Điện Biên Đông",
        legal_bases=[DECISION_2072],
        units=dict(zip(DIEN_BIEN_BODIES, DIEN_BIEN_KINDS, strict=True)),
        assignments=[
            (
                "commune",
                commune,
                [body],
                "2021-11-17",
                dict.fromkeys(range(2021, 2026), body),
                "2072/QĐ-UBND",
            )
            for body, commune in zip(DIEN_BIEN_BODIES, DIEN_BIEN_DONG_COMMUNES, strict=True)
        ],
        classifications=[
            {
                "code": commune,
                "kind": "especially_disadvantaged",
                "value": True,
                "effective_on": "2021-11-17",
                "source": "Quyết định 2072/QĐ-UBND ngày 17/11/2021 của UBND tỉnh Điện Biên",
            }
            for commune in DIEN_BIEN_DONG_COMMUNES
        ],
    ),
    Case(
        province="17",
        programme="Kết nghĩa, giúp đỡ xã, xóm đặc biệt khó khăn tỉnh Hòa Bình giai đoạn 2021-2025",
        period=(2021, 2025),
        scope="Xã, xóm đặc biệt khó khăn",
        legal_bases=[],
        units={
            "Thanh tra tỉnh Hòa Bình": "department",
            "Trung tâm Khuyến nông tỉnh Hòa Bình": "department",
            "Kho bạc Nhà nước Hòa Bình": "department",
            "Ban Dân vận Tỉnh ủy Hòa Bình": "department",
            "Hội Nông dân tỉnh Hòa Bình": "mass_organisation",
            "Hội Liên hiệp Phụ nữ tỉnh Hòa Bình": "mass_organisation",
            NHCSXH_HB: "bank",
        },
        assignments=[("commune", "05257", [NHCSXH_HB], "2021-01-01", {}, None)],  # Mai Hịch
    ),
    Case(
        province="49",
        programme="Kết nghĩa, giúp đỡ các xã miền núi, biên giới tỉnh Quảng Nam "
        "giai đoạn 2021-2025",
        period=(2021, 2025),
        scope="Xã miền núi, xã biên giới đất liền; huyện đồng bằng kết nghĩa huyện miền núi",
        legal_bases=[],
        units={TAM_KY: "local_government", AGRIBANK_QN: "bank"},
        assignments=[
            ("district", "510", [TAM_KY], "2021-01-01", {2021: TAM_KY}, None),  # Nam Giang
            ("commune", "20698", [TAM_KY], "2021-01-01", {2021: TAM_KY}, None),  # La Êê
            ("commune", "20704", [TAM_KY], "2021-01-01", {2021: TAM_KY}, None),  # La Dêê
            ("commune", "20449", [AGRIBANK_QN], "2021-01-01", {2021: AGRIBANK_QN}, None),  # Lăng
        ],
        classifications=[
            {
                "code": code,
                "kind": "land_border",
                "value": True,
                "effective_on": "2021-01-01",
                "source": "Báo cáo kết quả kết nghĩa năm 2021, tỉnh Quảng Nam",
            }
            for code in ("20698", "20704")
        ],
    ),
]


def demo_assignment_id(province: str, kind: str, code: str) -> str:
    """The id the demo gives the assignment of `province`'s programme on (kind, code)."""
    [case] = [case for case in CASES if case.province == province]
    return demo_id("assignment", demo_id("programme", province, case.programme), kind, code)


def demo_unit_id(province: str, name: str) -> str:
    return demo_id("unit", province, name)
