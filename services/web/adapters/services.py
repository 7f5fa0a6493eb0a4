"""The three services' HTTP APIs, called with the signed-in person's token. The web app
never decides what someone may do: the service does, and its 403 or 422 is shown."""

from dataclasses import dataclass, field
from typing import Any

import httpx

from shared.consistency import HEADER as CONSISTENCY


class ServiceError(Exception):
    """A service answered 4xx/5xx, or did not answer: its status and reason."""

    def __init__(self, service: str, status: int, detail: Any) -> None:
        super().__init__(f"{service}: {status} {detail}")
        self.service = service
        self.status = status
        self.detail = detail

    @property
    def field_errors(self) -> dict[str, str]:
        """A 422's reasons by the field they name (the last part of `loc` that is a name:
        `["body", "quantity", "amount"]` → `quantity.amount`)."""
        found: dict[str, str] = {}
        if self.status == 422 and isinstance(self.detail, list):
            for error in self.detail:
                location = [str(part) for part in error.get("loc", [])[1:]]
                found.setdefault(".".join(location) or "form", str(error.get("msg", "")))
        return found

    @property
    def message(self) -> str:
        if isinstance(self.detail, list):
            return "; ".join(str(error.get("msg", error)) for error in self.detail)
        return str(self.detail)


@dataclass
class Services:
    """One client per service; `token` is the person's access token, `written` the
    consistency token of their last write (so what they read next includes it)."""

    clients: dict[str, httpx.AsyncClient]
    token: str
    written: list[str] = field(default_factory=list)

    async def call(self, service: str, method: str, path: str, **options: Any) -> httpx.Response:
        headers = {**options.pop("headers", {}), "Authorization": f"Bearer {self.token}"}
        if self.written:
            headers[CONSISTENCY] = self.written[-1]
        try:
            answer = await self.clients[service].request(method, path, headers=headers, **options)
        except httpx.HTTPError as error:
            reason = f"{service} không trả lời / does not answer"
            raise ServiceError(service, 503, reason) from error
        if answer.status_code >= 400:
            try:
                detail = answer.json().get("detail", answer.text)
            except ValueError:
                detail = answer.text[:500]
            raise ServiceError(service, answer.status_code, detail)
        if token := answer.headers.get(CONSISTENCY):
            self.written.append(token)
            del self.written[:-1]
        return answer

    async def get(self, service: str, path: str, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v is not None and v != ""}
        return (await self.call(service, "GET", path, params=query)).json()
