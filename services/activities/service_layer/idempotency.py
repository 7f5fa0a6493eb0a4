"""`Idempotency-Key` on writes: the first request with a key does the work and its answer
is kept in the same transaction; a retry with the same key and body gets that answer and
creates nothing. A concurrent retry waits on the key's row until the first commits.

A key belongs to its caller (`scoped`): the same key sent by someone else is another key,
so no caller can ever be handed another's answer."""

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.activities.adapters.tables import idempotency_keys
from shared.errors import RuleViolation
from shared.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


def scoped(subject: str, key: str) -> str:
    """The key as stored: the caller's subject and the key sent, unambiguously joined."""
    return json.dumps([subject, key], ensure_ascii=False)


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def claim(conn: AsyncConnection, key: str, print_: str) -> Answer | None:
    """Claim `key` for this transaction; the kept answer if an earlier request had it."""
    claimed = await conn.scalar(
        insert(idempotency_keys)
        .values(key=key, fingerprint=print_, status=0, body={})
        .on_conflict_do_nothing()
        .returning(idempotency_keys.c.key)
    )
    if claimed is not None:
        return None
    kept = (await conn.execute(select(idempotency_keys).where(idempotency_keys.c.key == key))).one()
    if kept.fingerprint != print_:
        raise RuleViolation(
            "Idempotency-Key",
            "khóa này đã dùng cho một yêu cầu khác / the key was used for a different request",
            location="header",
        )
    return Answer(kept.status, kept.body)


async def remember(conn: AsyncConnection, key: str, answer: Answer) -> None:
    await conn.execute(
        update(idempotency_keys)
        .where(idempotency_keys.c.key == key)
        .values(status=answer.status, body=answer.body)
    )


async def once(
    uow: UnitOfWork,
    conn: AsyncConnection,
    key: str | None,
    print_: str,
    run: Callable[[], Awaitable[Answer]],
) -> tuple[Answer, bool]:
    """Run a write (whose handler joins this unit) and, with a key, keep its answer, all in
    one transaction: a retry gets the first answer back (and True) and records nothing.
    `conn` is the unit's connection."""
    async with uow:
        if key is not None:
            kept = await claim(conn, key, print_)
            if kept is not None:
                return kept, True
        answer = await run()
        if key is not None:
            await remember(conn, key, answer)
    return answer, False
