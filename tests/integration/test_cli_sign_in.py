"""`ketnghia login`, `whoami` and `logout` against the real Keycloak, and the token every
other command then sends."""

import asyncio
import json
import stat
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from typer.testing import CliRunner

from services import cli
from shared.auth import Role
from tests.http import listening

runner = CliRunner()


@pytest.fixture
def environment(keycloak_issuer: str, tmp_path: Path) -> dict[str, str]:
    return {"AUTH_ISSUER": keycloak_issuer, "XDG_CONFIG_HOME": str(tmp_path), "KETNGHIA_TOKEN": ""}


def test_login_whoami_refresh_and_logout(environment: dict[str, str], tmp_path: Path) -> None:
    signed_in = runner.invoke(
        cli.app, ["login", "canbo.socongthuong"], input="ketnghia-demo\n", env=environment
    )
    assert signed_in.exit_code == 0, signed_in.output
    assert "ketnghia-demo" not in signed_in.output, "the password is not echoed"
    stored = tmp_path / "ketnghia" / "token.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600

    me = runner.invoke(cli.app, ["whoami"], env=environment)
    assert me.exit_code == 0, me.output
    assert Role.UNIT_CLERK.label in me.output
    assert "Sở Công Thương tỉnh Bình Thuận (6dd6e969-acbf-5c23-a429-4b92b079a264)" in me.output
    print(me.output)

    login = json.loads(stored.read_text())
    login["expires_at"] = time.time() - 1
    stored.write_text(json.dumps(login))
    assert runner.invoke(cli.app, ["whoami"], env=environment).exit_code == 0
    refreshed = json.loads(stored.read_text())
    assert refreshed["access_token"] != login["access_token"], "an expired token is refreshed"
    assert refreshed["expires_at"] > time.time()

    out = runner.invoke(cli.app, ["logout"], env=environment)
    assert out.exit_code == 0, out.output
    assert not stored.exists()
    refused = httpx.post(
        f"{environment['AUTH_ISSUER']}/protocol/openid-connect/token",
        data={"grant_type": "refresh_token", "client_id": "ketnghia-cli",
              "refresh_token": refreshed["refresh_token"]},
    )  # fmt: skip
    assert refused.status_code == 400, "Keycloak ended the session"

    anonymous = runner.invoke(cli.app, ["whoami"], env=environment)
    assert anonymous.exit_code == 1
    assert "not signed in: run `ketnghia login`" in anonymous.output


def test_a_wrong_password_stores_nothing(environment: dict[str, str], tmp_path: Path) -> None:
    refused = runner.invoke(cli.app, ["login", "quocgia"], input="sai\n", env=environment)
    assert refused.exit_code == 1
    assert "invalid_grant" in refused.output
    assert not (tmp_path / "ketnghia" / "token.json").exists()


async def test_calls_send_the_token_of_the_environment_first(environment: dict[str, str]) -> None:
    """`KETNGHIA_TOKEN` is sent as the bearer; without it or a stored sign-in, the call is
    refused before it is sent."""
    seen: list[str | None] = []
    reporting = FastAPI()

    @reporting.get("/reports/provinces/{province}/summary")
    def summary(request: Request) -> JSONResponse:
        seen.append(request.headers.get("Authorization"))
        return JSONResponse({"detail": "token không hợp lệ / invalid token"}, status_code=401)

    async with listening(reporting) as url:
        at = {**environment, "KETNGHIA_REPORTING_URL": url}
        unsigned = await asyncio.to_thread(
            runner.invoke, cli.app, ["report", "province", "60"], env=at
        )
        assert unsigned.exit_code == 1
        assert "not signed in" in unsigned.output
        assert seen == []
        with_token = {**at, "KETNGHIA_TOKEN": "from-the-environment"}
        answer = await asyncio.to_thread(
            runner.invoke, cli.app, ["report", "province", "60"], env=with_token
        )
    assert answer.exit_code == 1
    assert "401" in answer.output
    assert seen == ["Bearer from-the-environment"]
