"""Every request bounded before a route sees it: its body's size, and the characters of
its path and query.

- A body larger than `MAX_BODY_BYTES` (`MAX_UPLOAD_BYTES` on an upload route) is answered
  413 without being read: by its `Content-Length`, or, sent in chunks, as soon as the
  bytes received pass the limit. Nothing of it reaches the route, so nothing is written.
- A NUL character in the path or the query is answered 422: PostgreSQL cannot store it,
  and no code, id or name contains one.
- Security headers on every answer: no sniffing, no framing, no referrer to other sites.

An ASGI middleware rather than a FastAPI dependency: a dependency runs after the body has
been read (and an upload spooled to disk whole).
"""

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import HTTPException  # a starlette one, whose detail may be a list

from shared.bounds import MAX_BODY_BYTES, MAX_UPLOAD_BYTES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class BodyTooLarge(HTTPException):
    """The body being received passed its limit. An HTTP exception, so that FastAPI, which
    answers 400 for any other error met while it reads a body, lets it through as a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, [{"type": "body_too_large", "loc": ["request"], "msg": _said(limit)}])


class BoundedRequests:
    def __init__(
        self,
        app: ASGIApp,
        upload_paths: tuple[str, ...] = (),
        upload_limit: int = MAX_UPLOAD_BYTES,
    ) -> None:
        """`upload_paths`: paths (exact) whose POST takes a file, up to `upload_limit`."""
        self.app = app
        self.upload_paths = upload_paths
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_secured(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), *_missing(message)]
            await send(message)

        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            await _refuse(
                send_secured,
                422,
                "nul_character",
                "địa chỉ có ký tự NUL / the address contains a NUL character",
            )
            return
        limit = self.upload_limit if scope["path"] in self.upload_paths else MAX_BODY_BYTES
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(send_secured, limit)
            return
        received = 0

        async def receive_bounded() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, receive_bounded, send_secured)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(send_secured, limit)


def _missing(message: Message) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in message.get("headers", [])}
    return [(name, value) for name, value in SECURITY_HEADERS if name not in present]


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(send: Send, limit: int) -> None:
    await _refuse(send, 413, "body_too_large", _said(limit))


def _said(limit: int) -> str:
    return f"nội dung gửi lên lớn hơn {limit:,} byte / the body exceeds {limit:,} bytes"


async def _refuse(send: Send, status: int, kind: str, message: str) -> None:
    body = json.dumps(
        {"detail": [{"type": kind, "loc": ["request"], "msg": message}]}, ensure_ascii=False
    ).encode()
    await send({
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})
