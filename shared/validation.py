"""The 422 of a request the schema refuses, for people: the reason in Vietnamese and
English, the exact location (`["body", "legal_bases", 0, "number"]`), and never the
input echoed back (a 50 MB field must not come back as a 50 MB answer)."""

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

MAX_MESSAGE = 500

# pydantic's error types → the Vietnamese reason; `{...}` come from the error's context.
VIETNAMESE = {
    "missing": "thiếu trường bắt buộc",
    "extra_forbidden": "trường này không được nhận",
    "string_type": "phải là chuỗi ký tự",
    "string_too_short": "quá ngắn (ít nhất {min_length} ký tự)",
    "string_too_long": "quá dài (nhiều nhất {max_length} ký tự)",
    "string_pattern_mismatch": "không đúng dạng yêu cầu",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "int_from_float": "phải là số nguyên, không có phần lẻ",
    "float_type": "phải là số",
    "float_parsing": "phải là số",
    "decimal_type": "phải là số",
    "decimal_parsing": "phải là số",
    "bool_type": "phải là true hoặc false",
    "bool_parsing": "phải là true hoặc false",
    "greater_than": "phải lớn hơn {gt}",
    "greater_than_equal": "phải từ {ge} trở lên",
    "less_than": "phải nhỏ hơn {lt}",
    "less_than_equal": "phải nhiều nhất là {le}",
    "date_type": "phải là ngày (YYYY-MM-DD)",
    "date_parsing": "ngày không hợp lệ (YYYY-MM-DD)",
    "date_from_datetime_parsing": "ngày không hợp lệ (YYYY-MM-DD)",
    "datetime_type": "phải là thời điểm (ISO 8601)",
    "datetime_parsing": "thời điểm không hợp lệ (ISO 8601)",
    "datetime_from_date_parsing": "thời điểm không hợp lệ (ISO 8601)",
    "uuid_type": "phải là UUID",
    "uuid_parsing": "phải là UUID",
    "enum": "chỉ nhận một trong: {expected}",
    "literal_error": "chỉ nhận một trong: {expected}",
    "list_type": "phải là danh sách",
    "too_short": "quá ít phần tử",
    "too_long": "quá nhiều phần tử (nhiều nhất {max_length})",
    "dict_type": "phải là đối tượng JSON",
    "model_type": "phải là đối tượng JSON",
    "model_attributes_type": "phải là đối tượng JSON",
    "json_invalid": "JSON không hợp lệ",
    "json_type": "phải là JSON",
    "value_error": "giá trị không hợp lệ",
}


def explain(error: dict[str, Any]) -> dict[str, Any]:
    """One error as the answer shows it: type, location, reason in both languages."""
    kind = str(error.get("type", "value_error"))
    context = {key: str(value) for key, value in (error.get("ctx") or {}).items()}
    try:
        vietnamese = VIETNAMESE.get(kind, "giá trị không hợp lệ").format(**context)
    except (KeyError, IndexError):
        vietnamese = VIETNAMESE.get(kind, "giá trị không hợp lệ").split(" (")[0]
    message = f"{vietnamese} / {error.get('msg', 'invalid value')}"
    return {
        "type": kind,
        "loc": list(error.get("loc", ())),
        "msg": message[:MAX_MESSAGE],
    }


async def request_invalid(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return JSONResponse({"detail": [explain(e) for e in error.errors()]}, status_code=422)
