"""The service's one request middleware (`shared.service.RequestFrame`), on a small app."""

import uuid

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Request
from prometheus_client import REGISTRY

from shared import consistency
from shared.errors import RuleViolation
from shared.service import CORRELATION_HEADER, RequestFrame, expected_version

EVENT = uuid.UUID("6f1c1a7e-5b1e-4a43-9d55-0c6a3f0e2a11")


def app() -> FastAPI:
    made = FastAPI()
    made.add_middleware(RequestFrame)

    @made.post("/things/{thing}", status_code=201)
    async def write(thing: str, request: Request) -> dict[str, str]:
        if thing == "refused":
            consistency.note("t", "k", EVENT)
            raise HTTPException(422, "no")
        consistency.note("ketnghia.things", f"thing:{thing}", EVENT)
        return {"correlation_id": str(request.state.correlation_id)}

    return made


def requests(route: str, status: str) -> float:
    labels = {"method": "POST", "route": route, "status": status}
    return REGISTRY.get_sample_value("ketnghia_http_request_duration_seconds_count", labels) or 0.0


@pytest.fixture
def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app()), base_url="http://frame")


async def test_a_write_answers_with_its_correlation_id_and_consistency_token(
    client: httpx.AsyncClient,
) -> None:
    sent = str(uuid.uuid4())
    before = requests("/things/{thing}", "201")

    answer = await client.post("/things/a", headers={CORRELATION_HEADER: sent})

    assert answer.status_code == 201
    assert answer.headers[CORRELATION_HEADER] == sent
    assert answer.json() == {"correlation_id": sent}
    assert answer.headers[consistency.HEADER] == f"ketnghia.things:{EVENT}"
    assert requests("/things/{thing}", "201") == before + 1


async def test_a_refused_write_has_no_token_and_a_bad_correlation_id_is_replaced(
    client: httpx.AsyncClient,
) -> None:
    before = requests("/things/{thing}", "422")

    answer = await client.post("/things/refused", headers={CORRELATION_HEADER: "not-a-uuid"})

    assert answer.status_code == 422
    assert consistency.HEADER not in answer.headers
    assert uuid.UUID(answer.headers[CORRELATION_HEADER]).version == 4
    assert requests("/things/{thing}", "422") == before + 1


async def test_a_path_no_route_matches_is_counted_as_unmatched(client: httpx.AsyncClient) -> None:
    before = requests("unmatched", "404")

    answer = await client.post("/nothing/here")

    assert answer.status_code == 404
    assert CORRELATION_HEADER in answer.headers
    assert requests("unmatched", "404") == before + 1


@pytest.mark.parametrize(
    ("sent", "version"), [('"3"', 3), ('W/"3"', 3), ("3", 3), (None, None), ('"0"', 0),
                          ('"999999999999999999"', 10**18 - 1)],
)  # fmt: skip
def test_if_match_names_a_version_in_ascii_digits(sent: str | None, version: int | None) -> None:
    assert expected_version(sent) == version


@pytest.mark.parametrize("sent", ['"²"', '"٣"', '"３"', '"1000000000000000000"', '""', '"-1"',
                                  '"1e3"', '"9' + "0" * 5_000 + '"'])  # fmt: skip
def test_if_match_refuses_what_is_no_version(sent: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        expected_version(sent)
    assert refused.value.field == "If-Match"
