"""`python -m services.registry.entrypoints.load_admin_units`: load both editions of the
administrative units and the 2025 lineage into the registry, and publish the lineage as
events on the registry's topic (skipped when this dataset version is already loaded)."""

import asyncio
import time
import uuid

from services.registry.adapters.admin_dataset import load_dataset
from services.registry.config import Settings
from services.registry.service_layer.admin_units import (
    lineage_published,
    load_admin_units,
    publish_lineage,
)
from services.registry.service_layer.projection import project
from shared.db import create_engine
from shared.eventstore import Recorder
from shared.progress import Meter


async def main(settings: Settings | None = None) -> None:
    settings = settings or Settings()
    started = time.perf_counter()
    print("đọc dữ liệu đơn vị hành chính / reading the administrative units…", flush=True)
    dataset = load_dataset()
    print(
        f"đọc {len(dataset.units)} đơn vị, {len(dataset.successions)} quan hệ kế thừa "
        f"({dataset.version}) in {time.perf_counter() - started:.1f} s"
    )
    engine = create_engine(settings.database_url, settings.database_schema)
    try:
        async with engine.begin() as conn:
            loaded = await load_admin_units(conn, dataset)
            if loaded:
                print(f"nạp vào PostgreSQL / loaded: {time.perf_counter() - started:.1f} s")
            if loaded or not await lineage_published(conn):
                recorder = Recorder(conn, settings.registry_topic, uuid.uuid4(), project)
                meter = Meter("sự kiện lineage.published / lineage events", every=0.5)
                published = await publish_lineage(recorder, dataset, meter)
                print(f"{published} sự kiện lineage.published trên {settings.registry_topic}")
    finally:
        await engine.dispose()
    outcome = "loaded" if loaded else "units already loaded"
    print(f"{dataset.version}: {outcome} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
