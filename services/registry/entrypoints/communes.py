"""HTTP routes about one commune: its villages, classifications and who helps it."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from services.registry.domain.admin_units import Edition
from services.registry.domain.communes import Classification, CommuneRef, Village
from services.registry.entrypoints.answers import (
    ClassificationOut,
    HelpersOut,
    VillageOut,
    VillageRegistered,
)
from services.registry.entrypoints.dependencies import Write
from services.registry.entrypoints.schemas import ClassificationIn, Code, VillageIn
from services.registry.service_layer import access, commands, queries
from shared.service import Caller, Connection

router = APIRouter(
    prefix="/communes/{edition}/{code}",
    tags=["Xã, thôn bản (communes, villages)"],
)
CommuneCode = Annotated[Code, Path(description="mã xã trong phiên bản đó / the commune's code")]


@router.get("/helpers", response_model=HelpersOut)
async def helpers(
    edition: Edition,
    code: CommuneCode,
    conn: Connection,
    caller: Caller,
    on: Annotated[date | None, Query(description="ngày; mặc định hôm nay / default today")] = None,
) -> dict[str, Any]:
    """Những đơn vị nào giúp xã vào ngày D: which sponsor units help the commune on a day
    (the assignments the caller may read)."""
    day = on or date.today()
    return {
        "commune": {"edition": edition, "code": code},
        "on": day,
        "assignments": access.readable_helpers(
            caller, await queries.helpers_of_commune(conn, edition, code, day)
        ),
    }


@router.post("/villages", status_code=201, response_model=VillageRegistered)
async def register_village(
    edition: Edition, code: CommuneCode, body: VillageIn, write: Write
) -> dict[str, Any]:
    village = Village(body.id, body.province, CommuneRef(edition, code), body.kind, body.name)
    await commands.register_village(write.uow, write.caller, village)
    return {"id": village.id, **body.model_dump(exclude={"id"})}


@router.get("/villages", response_model=list[VillageOut])
async def villages(edition: Edition, code: CommuneCode, conn: Connection) -> list[dict[str, Any]]:
    return await queries.list_villages(conn, edition, code)


@router.post("/classifications", status_code=201, response_model=list[ClassificationOut])
async def classify(
    edition: Edition,
    code: CommuneCode,
    body: ClassificationIn,
    write: Write,
) -> list[dict[str, Any]]:
    """Ghi một phân loại của xã, có ngày hiệu lực và nguồn; returns all of the commune's."""
    classification = Classification(
        body.province,
        CommuneRef(edition, code),
        body.kind,
        body.value,
        body.effective_on,
        body.source,
    )
    await commands.classify_commune(write.uow, write.caller, classification)
    return await queries.classifications(write.conn, edition, code)


@router.get("/classifications", response_model=list[ClassificationOut])
async def classifications(
    edition: Edition, code: CommuneCode, conn: Connection
) -> list[dict[str, Any]]:
    return await queries.classifications(conn, edition, code)
