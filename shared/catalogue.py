"""The lists an activity is recorded against, part of the published contract and kept as
data: categories of support, units of quantity, beneficiary kinds and groups, funding
sources. Codes are stable English names
(they travel in events); labels are what people read, and what import sheets may use."""

from types import MappingProxyType

CATEGORIES = MappingProxyType(
    {
        "cash": "Tiền mặt",
        "gifts_in_kind": "Quà tặng bằng hiện vật",
        "breeding_stock_seedlings": "Con giống, cây giống",
        "production_model": "Mô hình sản xuất",
        "credit_loan": "Tín dụng, cho vay vốn",
        "infrastructure_road": "Hạ tầng: đường giao thông",
        "infrastructure_lighting": "Hạ tầng: điện chiếu sáng",
        "infrastructure_water": "Hạ tầng: nước sinh hoạt",
        "infrastructure_classroom": "Hạ tầng: phòng học",
        "infrastructure_house": "Hạ tầng: nhà ở (nhà đại đoàn kết)",
        "infrastructure_camera": "Hạ tầng: camera an ninh",
        "scholarship_school_equipment": "Học bổng, đồ dùng học tập",
        "health": "Y tế: khám bệnh, cấp thuốc",
        "training_technology_transfer": "Tập huấn, chuyển giao kỹ thuật",
        "policy_legal_communication": "Tuyên truyền chính sách, pháp luật",
        "culture_sport_exchange": "Giao lưu văn hóa, thể thao",
        "security_order": "An ninh, trật tự",
        "digital_transformation": "Chuyển đổi số",
        "advice_cooperative_ocop": "Tư vấn hợp tác xã, sản phẩm OCOP",
        "survey_planning": "Khảo sát, lập kế hoạch",
    }
)

QUANTITY_UNITS = (
    "chiếc",
    "con",
    "cây",
    "suất",
    "hộ",
    "lớp",
    "km",
    "bộ",
    "cái",
    "người",
    "lượt",
    "phần",
    "tấn",
    "kg",
    "m",
    "công trình",
    "mô hình",
)

BENEFICIARY_KINDS = MappingProxyType({"households": "Hộ", "persons": "Người", "pupils": "Học sinh"})

BENEFICIARY_GROUPS = MappingProxyType(
    {
        "poor": "Hộ nghèo",
        "near_poor": "Hộ cận nghèo",
        "policy_families": "Gia đình chính sách",
        "pupils": "Học sinh",
        "ethnic_minority": "Đồng bào dân tộc thiểu số",
        "elderly": "Người cao tuổi",
        "children": "Trẻ em",
        "general": "Người dân",
    }
)

FUNDING_SOURCES = MappingProxyType(
    {
        "own_budget": "Kinh phí của đơn vị",
        "mobilised": "Vận động, xã hội hóa",
        "credit": "Tín dụng, vốn vay",
    }
)

SPONSOR_UNIT_KINDS = MappingProxyType(
    {  # the registry's kinds of sponsor unit (`SponsorUnitKind`), as people read them
        "department": "Sở, ban, ngành",
        "mass_organisation": "Mặt trận, đoàn thể",
        "armed_forces": "Lực lượng vũ trang",
        "bank": "Ngân hàng",
        "enterprise": "Doanh nghiệp",
        "local_government": "UBND huyện, thị xã, thành phố",
    }
)
