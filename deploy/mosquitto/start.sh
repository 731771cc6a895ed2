#!/bin/sh
# Entry point of the mosquitto service: make or update the accounts the stack itself needs,
# then run the broker. The hub's and the health check's passwords come from the environment
# (HUB_MQTT_PASSWORD, MQTT_HEALTHCHECK_PASSWORD; MQTT_EVENTS_READER_PASSWORD if set), so a
# changed password takes effect at the next start. Device accounts added with
#   docker compose exec mosquitto mosquitto_passwd -b /mosquitto/accounts/passwd <sensor id> <pw>
# (then `docker compose kill -s HUP mosquitto`) are kept.
set -eu
file="${MOSQUITTO_ACCOUNTS_FILE:-/mosquitto/accounts/passwd}"
: "${HUB_MQTT_PASSWORD:?set HUB_MQTT_PASSWORD (the hub account)}"
: "${MQTT_HEALTHCHECK_PASSWORD:?set MQTT_HEALTHCHECK_PASSWORD (the health check account)}"
mkdir -p "$(dirname "$file")"
[ -f "$file" ] || : > "$file"
mosquitto_passwd -b "$file" hub "$HUB_MQTT_PASSWORD"
mosquitto_passwd -b "$file" healthcheck "$MQTT_HEALTHCHECK_PASSWORD"
if [ -n "${MQTT_EVENTS_READER_PASSWORD:-}" ]; then
    mosquitto_passwd -b "$file" events-reader "$MQTT_EVENTS_READER_PASSWORD"
fi
chmod 0600 "$file"
if id mosquitto >/dev/null 2>&1; then chown mosquitto:mosquitto "$file"; fi
[ "$#" -gt 0 ] || exit 0
exec "$@"
