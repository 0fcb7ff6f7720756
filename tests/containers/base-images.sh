#!/usr/bin/env bash
# Builds local stand-ins for the images the Dockerfiles and compose.yaml name (no container registry is reachable here):
#   mcr.microsoft.com/dotnet/sdk:10.0      Debian bookworm (debootstrap) + this machine's .NET SDK + its CA certificates
#   mcr.microsoft.com/dotnet/aspnet:10.0   Debian bookworm + this machine's .NET and ASP.NET Core runtimes
#   docker.io/library/postgres:15-bookworm Debian bookworm + Debian's postgresql-15, with an entrypoint that honours the
#                                          official image's POSTGRES_USER, POSTGRES_PASSWORD(_FILE), POSTGRES_DB, PGDATA
# Same names, tags, users (app 1654) and environment (APP_UID, DOTNET_RUNNING_IN_CONTAINER, ASPNETCORE_HTTP_PORTS) as
# the official images, so the project's files build and run unchanged with --pull=never. The debootstrap root is cached
# in $CACHE and the images in podman's store; they are rebuilt only when this machine's .NET or CA certificates change.
set -euo pipefail
CACHE=${MERIDIAN_CONTAINER_CACHE:-/var/cache/meridian-containers}
DOTNET_ROOT=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SDK=mcr.microsoft.com/dotnet/sdk:10.0 ASPNET=mcr.microsoft.com/dotnet/aspnet:10.0 POSTGRES=docker.io/library/postgres:15-bookworm
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$CACHE"
log() { echo "base-images: $*" >&2; }

sdk_version=$(dotnet --version)
runtime_version=$(ls "$DOTNET_ROOT/shared/Microsoft.NETCore.App" | sort -V | tail -n 1)
aspnet_version=$(ls "$DOTNET_ROOT/shared/Microsoft.AspNetCore.App" | sort -V | tail -n 1)
ca_sum=$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null | sha256sum | cut -c1-12)
pg_sum=$(sha256sum "$HERE/postgres-entrypoint.sh" | cut -c1-12)
stamp="sdk=$sdk_version runtime=$runtime_version aspnet=$aspnet_version ca=$ca_sum"

current() { [ "$(podman image inspect --format '{{ index .Config.Labels "meridian.standin" }}' "$1" 2>/dev/null || true)" = "$2" ]; }

# The Debian root the official images build on (bookworm), with the libraries .NET needs.
rootfs="$CACHE/$SUITE-rootfs.tar"
if [ ! -s "$rootfs" ]; then
  log "debootstrap $SUITE (once; cached in $rootfs)"
  tmp=$(mktemp -d "$CACHE/debootstrap.XXXXXX")
  if ! timeout 900 debootstrap --variant=minbase --include=ca-certificates,libicu72,libssl3,libstdc++6,libgcc-s1,zlib1g,tzdata \
      "$SUITE" "$tmp" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1; then
    log "debootstrap failed, see $CACHE/debootstrap.log"; rm -rf "$tmp"; exit 1
  fi
  chroot "$tmp" apt-get clean
  rm -rf "$tmp"/var/lib/apt/lists/*
  tar -C "$tmp" -cf "$rootfs.part" . && mv "$rootfs.part" "$rootfs"
  rm -rf "$tmp"
fi

# new_root DIR: the Debian root with the official .NET images' user app (1654).
new_root() {
  tar -C "$1" -xf "$rootfs"
  chroot "$1" groupadd --gid 1654 app
  chroot "$1" useradd --uid 1654 --gid 1654 --create-home --shell /bin/false app
}
# import DIR NAME STAMP [--change ...]: the directory as image NAME.
import() {
  local dir=$1 name=$2 label=$3; shift 3
  log "importing $name"
  tar -C "$dir" -c . | podman import --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "$@" --change "LABEL meridian.standin=\"$label\"" - "$name" >/dev/null
  rm -rf "$dir"
}
dotnet_env=(--change "ENV APP_UID=1654" --change "ENV DOTNET_RUNNING_IN_CONTAINER=true"
  --change "ENV DOTNET_VERSION=$runtime_version" --change "ENV ASPNET_VERSION=$aspnet_version")

if ! current "$ASPNET" "$stamp"; then
  dir=$(mktemp -d "$CACHE/image.XXXXXX"); new_root "$dir"
  mkdir -p "$dir/usr/share/dotnet"
  (cd "$DOTNET_ROOT" && cp -a --parents dotnet host "shared/Microsoft.NETCore.App/$runtime_version" \
    "shared/Microsoft.AspNetCore.App/$aspnet_version" LICENSE.txt "$dir/usr/share/dotnet/")
  ln -sf /usr/share/dotnet/dotnet "$dir/usr/bin/dotnet"
  import "$dir" "$ASPNET" "$stamp" "${dotnet_env[@]}" --change "ENV ASPNETCORE_HTTP_PORTS=8080"
fi

if ! current "$SDK" "$stamp"; then
  dir=$(mktemp -d "$CACHE/image.XXXXXX"); new_root "$dir"
  mkdir -p "$dir/usr/share/dotnet"
  parts=(dotnet host shared sdk sdk-manifests packs templates LICENSE.txt)
  [ -d "$DOTNET_ROOT/metadata" ] && parts+=(metadata)
  (cd "$DOTNET_ROOT" && cp -a --parents "${parts[@]}" "$dir/usr/share/dotnet/")
  ln -sf /usr/share/dotnet/dotnet "$dir/usr/bin/dotnet"
  # NuGet reaches nuget.org here only through a TLS-inspecting egress: trust this machine's CA certificates, and check
  # revocation offline as this machine's own dotnet does (NUGET_CERT_REVOCATION_MODE).
  mkdir -p "$dir/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/" 2>/dev/null || true
  chroot "$dir" update-ca-certificates >/dev/null 2>&1
  import "$dir" "$SDK" "$stamp" "${dotnet_env[@]}" --change "ENV DOTNET_SDK_VERSION=$sdk_version" \
    --change "ENV DOTNET_CLI_TELEMETRY_OPTOUT=1" --change "ENV DOTNET_NOLOGO=1" --change "ENV DOTNET_GENERATE_ASPNET_CERTIFICATE=false" \
    --change "ENV NUGET_CERT_REVOCATION_MODE=${NUGET_CERT_REVOCATION_MODE:-offline}"
fi

if ! current "$POSTGRES" "pg=$pg_sum"; then
  dir=$(mktemp -d "$CACHE/image.XXXXXX"); tar -C "$dir" -xf "$rootfs"
  log "installing postgresql-15 into the postgres stand-in"
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  chroot "$dir" sh -c 'echo "deb '"$MIRROR"' '"$SUITE"' main" > /etc/apt/sources.list && apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null && apt-get clean \
    && rm -rf /var/lib/apt/lists/*' >"$CACHE/postgres-apt.log" 2>&1 || { log "apt-get in the postgres root failed, see $CACHE/postgres-apt.log"; rm -rf "$dir"; exit 1; }
  : > "$dir/etc/resolv.conf"
  install -m 0755 "$HERE/postgres-entrypoint.sh" "$dir/usr/local/bin/docker-entrypoint.sh"
  import "$dir" "$POSTGRES" "pg=$pg_sum" --change "ENV PGDATA=/var/lib/postgresql/data" --change "ENV PG_MAJOR=15" \
    --change "STOPSIGNAL SIGINT" --change "EXPOSE 5432" --change 'ENTRYPOINT ["docker-entrypoint.sh"]' --change 'CMD ["postgres"]'
fi
log "ready ($stamp)"
