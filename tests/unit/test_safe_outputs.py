"""What leaves the services in files and headers cannot run or break out: formulas are
neutralised, file names and sheet titles made safe, requests bounded before any route."""

import csv
import io
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, UploadFile
from openpyxl import load_workbook
from pydantic import BaseModel

from shared.bounds import MAX_BODY_BYTES
from shared.guard import BoundedRequests
from shared.spreadsheets import (
    content_disposition,
    neutralised,
    sheet_title,
    write_csv,
    write_workbook,
)

HOSTILE = ['=HYPERLINK("http://x","bấm")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_cell_that_would_be_a_formula_is_written_as_text(text: str) -> None:
    book = load_workbook(io.BytesIO(write_workbook(["Nội dung"], [[text]])))
    sheet = book.worksheets[0]
    cell = sheet.cell(row=2, column=1)
    [_header, row] = list(
        csv.reader(io.StringIO(write_csv(["Nội dung"], [[text]]).decode("utf-8-sig")))
    )

    assert cell.data_type == "s"
    assert str(cell.value).startswith("'")  # as text (XML keeps a CR as a line feed)
    assert row == ["'" + text]


def test_numbers_and_plain_text_stay_as_they_are() -> None:
    assert neutralised(-5) == -5
    assert neutralised("Tặng 40 bộ sách") == "Tặng 40 bộ sách"
    assert neutralised(None) is None


def test_a_sheet_title_excel_refuses_is_made_acceptable() -> None:
    assert sheet_title("huyen-[49]/510:*?") == "huyen- 49 510"
    assert sheet_title("[]") == "Báo cáo"
    assert len(sheet_title("x" * 80)) == 31
    load_workbook(io.BytesIO(write_workbook(["A"], [], title="tinh-[60]")))  # Excel-valid


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("tinh-60.csv", "tinh-60.csv"),
        ("Báo cáo Đông Giang.xlsx", "Bao_cao_Dong_Giang.xlsx"),
        ('huyen-49-510".csv', "huyen-49-510.csv"),
        ("xa-\r\nSet-Cookie: a=b.csv", "xa-_Set-Cookie_a_b.csv"),
        ("tỉnh-六十.csv", "tinh-.csv"),
    ],
)
def test_a_file_name_cannot_break_out_of_its_header(name: str, fallback: str) -> None:
    header = content_disposition(name)

    assert header.startswith(f"attachment; filename=\"{fallback}\"; filename*=UTF-8''")
    assert header.isascii()
    assert "\r" not in header
    assert "\n" not in header
    assert header.count('"') == 2


async def _echo(request: Request) -> dict[str, Any]:
    return {"bytes": len(await request.body())}


class Thing(BaseModel):
    name: str


async def _thing(thing: Thing) -> dict[str, Any]:
    return {"bytes": len(thing.name)}


async def _upload(file: UploadFile) -> dict[str, Any]:
    return {"bytes": len(await file.read())}


def _app() -> FastAPI:
    app = FastAPI()
    app.add_api_route("/things", _echo, methods=["POST"])
    app.add_api_route("/imports", _echo, methods=["POST"])
    app.add_api_route("/model", _thing, methods=["POST"])
    app.add_api_route("/upload", _upload, methods=["POST"])
    app.add_middleware(BoundedRequests, upload_paths=("/imports",), upload_limit=2 * MAX_BODY_BYTES)
    return app


async def test_bodies_are_bounded_by_their_route_and_answers_carry_security_headers() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        fits = await client.post("/things", content=b"x" * MAX_BODY_BYTES)
        too_big = await client.post("/things", content=b"x" * (MAX_BODY_BYTES + 1))
        upload = await client.post("/imports", content=b"x" * (MAX_BODY_BYTES + 1))

        async def chunks() -> Any:
            for _ in range(3):
                yield b"x" * MAX_BODY_BYTES

        chunked = await client.post("/things", content=chunks())
        # read by FastAPI itself (a model, a file): a 413 too, not its 400 for a bad body
        model = await client.post("/model", content=chunks(),
                                  headers={"content-type": "application/json"})  # fmt: skip
        a_file = await client.post(
            "/upload", files={"file": ("big.csv", b"x" * (MAX_BODY_BYTES + 10))},
            headers={"transfer-encoding": "chunked"},
        )  # fmt: skip
        nul = await client.post("/things%00", content=b"{}")
        nul_query = await client.post("/things?x=%00", content=b"{}")

    assert fits.json() == {"bytes": MAX_BODY_BYTES}
    assert fits.headers["x-content-type-options"] == "nosniff"
    assert too_big.status_code == 413
    assert "262,144" in too_big.json()["detail"][0]["msg"]
    assert upload.json() == {"bytes": MAX_BODY_BYTES + 1}
    assert chunked.status_code == 413
    assert model.status_code == 413, model.text
    assert model.json()["detail"][0]["type"] == "body_too_large"
    assert a_file.status_code == 413, a_file.text
    assert (nul.status_code, nul_query.status_code) == (422, 422)
    assert nul.json()["detail"][0]["type"] == "nul_character"
    assert too_big.headers["x-frame-options"] == "DENY"
