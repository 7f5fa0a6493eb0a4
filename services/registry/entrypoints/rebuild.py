"""`python -m services.registry.entrypoints.rebuild`: derive the registry's read models
again from its event store, in one transaction (readers keep the old rows until it
commits)."""

import asyncio
import time

from services.registry.config import Settings
from services.registry.service_layer.projection import rebuild
from shared.db import create_engine


async def main() -> None:
    settings = Settings()
    engine = create_engine(settings.database_url, settings.database_schema)
    started = time.perf_counter()
    try:
        async with engine.begin() as conn:
            replayed = await rebuild(conn)
    finally:
        await engine.dispose()
    print(
        f"dựng lại từ {replayed} sự kiện trong {time.perf_counter() - started:.2f} s / "
        f"rebuilt from {replayed} events"
    )


if __name__ == "__main__":
    asyncio.run(main())
