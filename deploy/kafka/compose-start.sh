#!/bin/bash
# docker-compose's broker: the official image's own start, with the platform's SCRAM users,
# topics and ACLs made beside it once the broker answers (grants.sh, idempotent).
set -euo pipefail
/ketnghia/grants.sh &
exec /etc/kafka/docker/run
