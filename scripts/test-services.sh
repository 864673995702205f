#!/usr/bin/env bash
# Start the real servers the integration tests use (throw-away PostgreSQL cluster, mosquitto),
# run the given command with their addresses in the environment, then stop them.
#   scripts/test-services.sh pytest tests
# Exports: SAFECITY_TEST_PG_URL, SAFECITY_TEST_PG_ADMIN (pg_ctl/psql prefix), SAFECITY_TEST_MQTT_HOST/PORT,
#          SAFECITY_TEST_MOSQUITTO (binary), SAFECITY_TEST_GST_PYTHON (python with gi for the RTSP server)
set -euo pipefail
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PGPORT=${PGPORT:-55432}
MQTTPORT=${MQTTPORT:-18830}
D=$(mktemp -d /tmp/safecity-services.XXXXXX)
chmod 755 "$D"
cleanup() {
  set +e
  [ -n "${MQ_PID:-}" ] && kill "$MQ_PID" 2>/dev/null
  if [ -d "$D/pg" ]; then as_pg "$PGBIN/pg_ctl" -D "$D/pg" -m fast stop >/dev/null 2>&1; fi
  rm -rf "$D"
}
trap cleanup EXIT INT TERM
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  echo "test-services: PostgreSQL server binaries not found (expected /usr/lib/postgresql/*/bin/initdb);" \
       "install them with: apt-get install postgresql (see .ci/run)" >&2
  exit 3
fi
if [ "$(id -u)" = 0 ]; then chown postgres "$D"; fi
as_pg "$PGBIN/initdb" -D "$D/pg" -U postgres -A trust >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$D/pg" -l "$D/pg.log" -w start \
  -o "-p $PGPORT -k $D -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" >/dev/null
psql -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "CREATE DATABASE safecity_test" >/dev/null
export SAFECITY_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PGPORT/safecity_test"
export SAFECITY_TEST_PG_CTL="$PGBIN/pg_ctl"
export SAFECITY_TEST_PG_DATA="$D/pg"
export SAFECITY_TEST_PG_SOCKDIR="$D"
export SAFECITY_TEST_PG_PORT="$PGPORT"

MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
if [ ! -x "$MOSQ" ]; then echo "test-services: mosquitto not found; apt-get install mosquitto" >&2; exit 3; fi
"$MOSQ" -p "$MQTTPORT" >"$D/mosquitto.log" 2>&1 &
MQ_PID=$!
export SAFECITY_TEST_MQTT_HOST=127.0.0.1 SAFECITY_TEST_MQTT_PORT="$MQTTPORT" SAFECITY_TEST_MOSQUITTO="$MOSQ"
export SAFECITY_TEST_GST_PYTHON=/usr/bin/python3
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$MQTTPORT) 2>/dev/null && break; sleep 0.1; done
echo "test-services: PostgreSQL on $PGPORT, mosquitto on $MQTTPORT" >&2
"$@"
