#!/usr/bin/env bash
# Makes the secrets compose.yaml mounts, in DIR (default ./secrets), with the `meridian` CLI image (IMAGE, default
# localhost/meridian-cli:latest): the transport TLS CA and a server certificate per datacenter (`meridian tls`), a client
# certificate for the CLI, a CA key-encryption key per datacenter and the ACL secret-hash key (`meridian keygen`), the
# initial management token, and a PostgreSQL password and connection string per datacenter. Every file is owned by the
# images' user (uid 1654) with mode 0600. It never overwrites a file that exists.
set -euo pipefail
DIR=${1:-./secrets}
IMAGE=${MERIDIAN_CLI_IMAGE:-localhost/meridian-cli:latest}
ENGINE=${CONTAINER_ENGINE:-podman}
APP_UID=1654
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
chown "$APP_UID:$APP_UID" "$DIR" && chmod 700 "$DIR"
cli() { "$ENGINE" run --rm --pull=never --user "$APP_UID" -v "$DIR:/work" -w /work "$IMAGE" "$@" >/dev/null; }
random() { head -c 24 /dev/urandom | base64 | tr -d '/+=' ; }
write() { [ -e "$DIR/$1" ] || (umask 077; printf '%s\n' "$2" > "$DIR/$1"); }

[ -e "$DIR/meridian-agent-ca.pem" ] || cli tls ca create
for dc in dc1 dc2; do
  [ -e "$DIR/$dc-server-meridian-0.pem" ] || cli tls cert create --server --dc "$dc"
  [ -e "$DIR/$dc-kek.b64" ] || cli keygen --out "$dc-kek.b64"
  pw=$(random)
  write "$dc-db-password" "$pw"
  write "$dc-db-connection" "Host=$dc-db;Port=5432;Database=meridian;Username=meridian;Password=$(cat "$DIR/$dc-db-password")"
done
[ -e "$DIR/dc1-client-meridian-0.pem" ] || cli tls cert create --client --dc dc1
[ -e "$DIR/acl-hash.key" ] || cli keygen --out acl-hash.key
write management-token "$(cat /proc/sys/kernel/random/uuid)"
chown -R "$APP_UID:$APP_UID" "$DIR"
chmod 600 "$DIR"/*
echo "compose-secrets: $DIR"
