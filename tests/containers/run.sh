#!/usr/bin/env bash
# The container test (issue 15 §1), for real with podman (rootful) and podman-compose: builds local stand-ins for the
# base images (base-images.sh: no registry is reachable), builds silo/Dockerfile and client/Meridian.Cli/Dockerfile
# unchanged with --pull=never, starts compose.yaml (two datacenters of two silos, PostgreSQL each, TLS, ACLs, secrets)
# and checks: both datacenters healthy and ready, an intention written in dc1 visible in dc2, a certificate from dc2
# verifying against dc1's root with openssl, a graceful stop on SIGTERM, compose down. Every wait has a deadline.
# Prints "containers: N passed, M failed" last; exit 0 only when nothing failed. Runs as root.
set -uo pipefail
# All in one function, parsed before it runs: editing this file while it runs cannot derail it.
main() {
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tests/containers"
export CONTAINERS_CONF="$HERE/containers.conf"
PROJECT=meridian-ci
SILO_IMAGE=localhost/meridian-silo:latest CLI_IMAGE=localhost/meridian-cli:latest
passed=0 failed=0
started=$(date +%s)
log() { echo "containers [$(( $(date +%s) - started ))s]: $*" >&2; }
pass() { passed=$((passed + 1)); log "PASS $*"; }
fail() { failed=$((failed + 1)); log "FAIL $*"; }
finish() { log "done"; echo "containers: $passed passed, $failed failed"; [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; exit $?; }

if [ "$(id -u)" != 0 ]; then fail "must run as root (rootful podman)"; finish; fi
need() { command -v "$1" >/dev/null 2>&1; }
missing=()
for t in podman podman-compose debootstrap runc openssl; do need "$t" || missing+=("$t"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -qq >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq podman podman-compose debootstrap runc openssl >/dev/null 2>&1
fi
for t in podman podman-compose debootstrap runc openssl; do need "$t" || { fail "$t is not installed"; finish; }; done

work=$(mktemp -d /tmp/meridian-containers.XXXXXX)
compose() { (cd "$ROOT" && MERIDIAN_SECRETS="$work/secrets" DC1_HTTP_PORT=$p1 DC2_HTTP_PORT=$p2 \
  timeout "$1" podman-compose -p "$PROJECT" -f compose.yaml "${@:2}"); }
cleanup() {
  [ -n "${p1:-}" ] && compose 120 down -v -t 5 >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# Stand-in base images (cached), then the project's Dockerfiles as they are.
if timeout 1500 "$HERE/base-images.sh"; then pass "stand-in base images"; else fail "stand-in base images"; finish; fi
build() { timeout 1200 podman build --pull=never --format docker -q -f "$ROOT/$1" -t "$2" "$ROOT" >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; return 1; }; }
if build silo/Dockerfile "$SILO_IMAGE"; then pass "silo image builds"; else fail "silo image builds"; finish; fi
if build client/Meridian.Cli/Dockerfile "$CLI_IMAGE"; then pass "CLI image builds"; else fail "CLI image builds"; finish; fi
if [ "$(podman image inspect -f '{{.Config.User}}' "$SILO_IMAGE")" = 1654 ]; then pass "silo image runs as the non-root user 1654"; else fail "silo image user is $(podman image inspect -f '{{.Config.User}}' "$SILO_IMAGE")"; fi

if timeout 300 env MERIDIAN_CLI_IMAGE=$CLI_IMAGE "$ROOT/scripts/compose-secrets.sh" "$work/secrets" >/dev/null; then pass "secrets (meridian tls, keygen)"; else fail "secrets"; finish; fi
if podman run --rm --pull=never --no-healthcheck --entrypoint /bin/sh "$SILO_IMAGE" -c 'ls /run/secrets /app/*.pem /app/*.b64 2>/dev/null | grep -q .'; then
  fail "the silo image holds secrets"; else pass "no secret in the silo image"; fi

# Free host ports for the published HTTP ports.
read -r p1 p2 < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
compose 60 down -v -t 5 >/dev/null 2>&1   # leftovers of an interrupted run
if compose 300 up -d >"$work/up.log" 2>&1; then pass "compose up"; else tail -n 30 "$work/up.log" >&2; fail "compose up"; finish; fi
ctr() { echo "${PROJECT}_$1_1"; }
SILOS=(dc1-a dc1-b dc2-a dc2-b)

# poll SECONDS COMMAND...: until the command succeeds or the deadline passes.
poll() { local deadline=$(( $(date +%s) + $1 )); shift; until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -ge "$deadline" ] && return 1; sleep 2; done; }
# podman-compose 1.0.3 does not wait on health, and without systemd podman runs no health timers: run the image's
# HEALTHCHECK (/health) by hand until it passes.
for dc in dc1 dc2; do
  ok=1
  for s in "$dc-a" "$dc-b"; do
    if ! poll 240 podman healthcheck run "$(ctr "$s")"; then
      ok=0; log "$s: $(podman exec "$(ctr "$s")" dotnet Meridian.Silo.dll probe health 2>&1 | tail -n 1)"; podman logs --tail 20 "$(ctr "$s")" >&2
    fi
  done
  if [ $ok = 1 ]; then pass "$dc healthy (HEALTHCHECK /health on both silos)"; else fail "$dc healthy"; fi
done
for s in "${SILOS[@]}"; do
  if poll 120 podman exec "$(ctr "$s")" dotnet Meridian.Silo.dll probe ready && podman exec "$(ctr "$s")" dotnet Meridian.Silo.dll probe live >/dev/null; then
    pass "$s ready and live (/health/ready, /health/live)"; else fail "$s ready: $(podman exec "$(ctr "$s")" dotnet Meridian.Silo.dll probe ready 2>&1 | tail -n 1)"; fi
done

# The CLI image on the compose network, with the client certificate and the management token.
mkdir -p "$work/out" && chown 1654:1654 "$work/out"
meridian() { timeout 60 podman run --rm --pull=never --network "${PROJECT}_default" -v "$work/secrets:/tls:ro" -v "$work/out:/out" "$CLI_IMAGE" \
  --ca-file /tls/meridian-agent-ca.pem --client-cert /tls/dc1-client-meridian-0.pem --client-key /tls/dc1-client-meridian-0-key.pem \
  --token-file /tls/management-token "$@"; }
DC2=(--gateway dc2-a:30000,dc2-b:30000 --datacenter dc2)
visible_in_dc2() { meridian "${DC2[@]}" intention list 2>/dev/null | grep -q 'web => .*db allow'; }
if meridian --gateway dc1-a:30000 intention upsert --source web --destination db --action allow >"$work/cli.log" 2>&1; then
  if poll 60 visible_in_dc2; then
    pass "intention written in dc1 visible in dc2"
  else fail "intention written in dc1 not visible in dc2: $(meridian "${DC2[@]}" intention list 2>&1 | tail -n 3)"; fi
else fail "intention upsert in dc1: $(tail -n 3 "$work/cli.log")"; fi

if meridian --gateway dc1-a:30000 ca roots --pem >"$work/dc1-roots.pem" 2>"$work/cli.log" \
   && meridian "${DC2[@]}" cert get --service api --out /out/api2 >"$work/cli.log" 2>&1 \
   && openssl verify -CAfile "$work/dc1-roots.pem" -untrusted "$work/out/api2/cert.pem" "$work/out/api2/cert.pem" >"$work/verify.log" 2>&1; then
  issuer=$(openssl x509 -in "$work/out/api2/cert.pem" -noout -issuer)
  pass "certificate from dc2 verifies against dc1's root (openssl verify; $issuer)"
else fail "certificate from dc2 against dc1's root: $(tail -n 3 "$work/cli.log" "$work/verify.log" 2>/dev/null)"; fi

# SIGTERM: each silo leaves its cluster and exits 0 well within the grace period (137 would be SIGKILL).
compose 200 stop -t 45 >/dev/null 2>&1
for s in "${SILOS[@]}"; do
  code=$(podman inspect -f '{{.State.ExitCode}}' "$(ctr "$s")" 2>/dev/null)
  if [ "$code" = 0 ]; then pass "$s stopped gracefully on SIGTERM (exit 0)"; else fail "$s stop: exit $code"; podman logs --tail 10 "$(ctr "$s")" >&2; fi
done
if compose 120 down -v -t 5 >/dev/null 2>&1 && [ -z "$(podman ps -a -q --filter "label=io.podman.compose.project=$PROJECT")" ]; then
  pass "compose down"; else fail "compose down left containers"; fi
finish
}
main "$@"
