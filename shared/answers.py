"""Pieces the services' answer models share (`services/*/entrypoints/answers.py`)."""

from datetime import datetime
from typing import Annotated

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
