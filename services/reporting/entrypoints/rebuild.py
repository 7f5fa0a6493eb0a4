"""`python -m services.reporting.entrypoints.rebuild [--no-switch]`: rebuild every
projection from the beginning of the topics into fresh tables, showing progress, and
switch over when caught up (the service keeps answering from the old tables meanwhile)."""

import argparse
import asyncio

from services.reporting.config import Settings
from services.reporting.service_layer.rebuild import Progress, rebuild


def show(progress: Progress) -> None:
    print(progress.line(), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--no-switch", action="store_true", help="leave the result in <schema>_rebuild"
    )
    args = parser.parse_args()
    schema, progress = asyncio.run(rebuild(Settings(), switch=not args.no_switch, report=show))
    print(f"xong: các bảng báo cáo ở schema {schema!r} / done: projections in {schema!r}")
    print(progress.timeline())


if __name__ == "__main__":
    main()
