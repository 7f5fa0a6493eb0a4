"""Schemathesis over the three APIs, every check it has, a bounded number of examples per
operation, signed in as the operations account against the demo's data: no input gets a
server error, and no answer falls outside what the OpenAPI document describes (status,
content type, schema). What the other checks find (a schema-valid request a business rule
refuses, an `Allow` header) is printed, not failed: the domain's rules are stricter than
a schema can say."""

import asyncio
import re
import sys
from pathlib import Path

import pytest

from shared.devstack.signing import OPERATIONS, LocalIssuer

EXAMPLES = 10
MUST_NOT = {
    "ST101": "server error",
    "ST102": "server error on an undeclared content type",
    "ST103": "status code the document does not list",
    "ST105": "content type the document does not list",
    "ST108": "answer that does not match its schema",
    "ST109": "answer that is not the JSON it says",
}
REPORTS = Path(__file__).resolve().parents[2] / ".local" / "schemathesis"


@pytest.mark.parametrize("service", ["registry", "activities", "reporting"])
async def test_no_input_gets_a_server_error_or_an_undocumented_answer(
    service: str,
    registry_url: str,
    activities_url: str,
    reporting_url: str,
    issuer: LocalIssuer,
    loaded: None,
) -> None:
    url = {"registry": registry_url, "activities": activities_url, "reporting": reporting_url}
    token = issuer.token(OPERATIONS, lifetime=3600)
    REPORTS.mkdir(parents=True, exist_ok=True)
    report = REPORTS / f"{service}.txt"
    with report.open("wb") as out:
        run = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "st"), "run", f"{url[service]}/openapi.json",
            "--checks", "all", "--max-examples", str(EXAMPLES), "--seed", "1",
            "--header", f"Authorization: Bearer {token}", "--no-color",
            stdout=out, stderr=asyncio.subprocess.STDOUT, cwd=REPORTS,
        )  # fmt: skip
        await asyncio.wait_for(run.wait(), 600)
    text = report.read_text(errors="replace")
    found = sorted(set(re.findall(r"^- (ST\d+) ", text, re.MULTILINE)))
    print(f"{service}: schemathesis found {found or 'nothing'} (report: {report})")

    assert "Loaded specification" in text, text[-2000:]
    assert not set(found) & set(MUST_NOT), {
        code: MUST_NOT[code] for code in found if code in MUST_NOT
    }
