#!/bin/bash
# The platform's SCRAM users, topics and ACLs on docker-compose's broker, made as `admin`
# through the LOCAL listener (127.0.0.1 inside the container, SASL/PLAIN against the
# broker's static admin password): the SCRAM users do not exist yet when it starts.
# Idempotent; the healthcheck waits for /tmp/ketnghia-granted. The grants are the local
# stack's (shared/devstack/kafka_acls.py); tests/unit/test_compose.py holds them equal.
set -euo pipefail
rm -f /tmp/ketnghia-granted
bin=/opt/kafka/bin
admin_config=/tmp/admin.properties
umask 077
cat > "$admin_config" <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${ADMIN_KAFKA_PASSWORD}";
PROPERTIES
local_admin=(--bootstrap-server 127.0.0.1:9094 --command-config "$admin_config")
until "$bin/kafka-topics.sh" "${local_admin[@]}" --list >/dev/null 2>&1; do sleep 2; done

user() {  # name password
  "$bin/kafka-configs.sh" "${local_admin[@]}" --alter --entity-type users --entity-name "$1" \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=$2]"
}
topic() {  # name
  "$bin/kafka-topics.sh" "${local_admin[@]}" --create --if-not-exists --topic "$1" \
    --partitions 3 --replication-factor 1
}
grant() {  # user topic|group prefix operation...
  local who=$1 resource=$2 prefix=$3
  shift 3
  local operations=()
  for operation in "$@"; do operations+=(--operation "$operation"); done
  "$bin/kafka-acls.sh" "${local_admin[@]}" --add --allow-principal "User:$who" \
    --resource-pattern-type prefixed "--$resource" "$prefix" "${operations[@]}"
}

user admin "$ADMIN_KAFKA_PASSWORD"
user registry "$REGISTRY_KAFKA_PASSWORD"
user activities "$ACTIVITIES_KAFKA_PASSWORD"
user reporting "$REPORTING_KAFKA_PASSWORD"
user agency-demo "$AGENCY_DEMO_KAFKA_PASSWORD"

topic ketnghia.registry
topic ketnghia.activities
topic ketnghia.dead-letters

grant registry topic ketnghia.registry WRITE DESCRIBE
grant activities topic ketnghia.activities WRITE DESCRIBE
grant activities topic ketnghia.dead-letters WRITE DESCRIBE
grant activities topic ketnghia.registry READ DESCRIBE
grant activities group activities. READ
grant reporting topic ketnghia.dead-letters WRITE DESCRIBE
grant reporting topic ketnghia.registry READ DESCRIBE
grant reporting topic ketnghia.activities READ DESCRIBE
grant reporting group reporting. READ
grant agency-demo topic ketnghia.registry READ DESCRIBE
grant agency-demo topic ketnghia.activities READ DESCRIBE
grant agency-demo group agency-demo READ

touch /tmp/ketnghia-granted
echo "ketnghia: SCRAM users, topics and ACLs in place"
