"""Pieces the services' answer models share (`services/*/entrypoints/answers.py`)."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, PlainSerializer, WithJsonSchema

Moment = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A moment, written as `datetime.isoformat` writes it (`+00:00`, as before the models)."""


class ActorOut(BaseModel):
    """Who made a change, as their token said."""

    subject: str
    name: str
    role: str
    units: list[str] = []


class Problem(BaseModel):
    """What a refused request is told: a reason (Vietnamese / English), or, for input the
    schema or a rule refuses, each field's location and reason."""

    detail: str | list[dict[str, Any]]


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "model": Problem}


PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: _problem("yêu cầu hỏng / a malformed request (its body or a header cannot be read)"),
    401: _problem("chưa đăng nhập / not signed in (a bearer token is missing or refused)"),
    403: _problem("không có quyền / signed in, but not allowed (the scope it lacks is named)"),
    404: _problem("không tìm thấy / no such thing"),
    409: _problem("xung đột / already exists, or changed since it was read (reload)"),
    413: _problem("quá lớn / the body exceeds its bound"),
    422: _problem("không hợp lệ / the input is refused, each field with its reason"),
    503: _problem("chưa sẵn sàng / the identity provider or a projection is not ready"),
}
"""The answers every route of a service may give besides its own, documented once."""
