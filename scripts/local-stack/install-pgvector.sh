#!/usr/bin/env bash
# Builds and installs pgvector for the local PostgreSQL server on Debian 12 (bookworm).
#
# Bookworm ships no postgresql-NN-pgvector package, so we build trixie's source package
# against the local server headers. Only a deb-src entry is added, and a pin keeps apt from
# ever installing trixie binaries should someone add a deb line later.
#
# Idempotent: exits at once when the extension is already installed. Run as root.
#   sudo scripts/local-stack/install-pgvector.sh
# Env: PG_MAJOR to pick a server version when several are installed (default: the newest).
set -euo pipefail

log() { printf 'install-pgvector: %s\n' "$*" >&2; }

detect_pg_major() {
  if [[ -n "${PG_MAJOR:-}" ]]; then
    echo "$PG_MAJOR"
    return
  fi
  # The server directories tell us what is installed; pg_config alone may be libpq's.
  local newest
  newest=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
  if [[ -n "$newest" ]]; then
    echo "$newest"
  elif command -v pg_config >/dev/null; then
    pg_config --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/'
  else
    log "no PostgreSQL server found under /usr/lib/postgresql"
    exit 1
  fi
}

major=$(detect_pg_major)
control="/usr/share/postgresql/$major/extension/vector.control"
if [[ -f "$control" ]]; then
  log "pgvector already installed for PostgreSQL $major ($control)"
  exit 0
fi

if [[ $EUID -ne 0 ]]; then
  log "must run as root (installs packages and writes into /usr)"
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  log "apt-get not found: install pgvector with your system's package manager"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
sources=/etc/apt/sources.list.d/meridian-trixie-src.sources
pin=/etc/apt/preferences.d/meridian-trixie-src

if [[ ! -f "$sources" ]]; then
  log "adding trixie deb-src entry ($sources)"
  cat >"$sources" <<'EOF'
# Added by Meridian's install-pgvector.sh: source packages only, to build pgvector.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi
if [[ ! -f "$pin" ]]; then
  cat >"$pin" <<'EOF'
# Added by Meridian's install-pgvector.sh: never install binaries from trixie.
Package: *
Pin: release n=trixie
Pin-Priority: -1
EOF
fi

log "apt-get update"
apt-get update -qq
log "installing build dependencies"
apt-get install -y -qq --no-install-recommends \
  "postgresql-server-dev-$major" dpkg-dev build-essential >/dev/null

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
cd "$workdir"
log "fetching pgvector source"
# apt warns about unsandboxed downloads when run as root; harmless here.
apt-get source -qq pgvector 2>&1 | grep -v -e "unsandboxed" -e "^W: " >&2 || true
srcdir=$(find . -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)
if [[ -z "$srcdir" ]]; then
  log "apt-get source pgvector produced no source tree"
  exit 1
fi

log "building $srcdir for PostgreSQL $major"
# OPTFLAGS="" drops -march=native so the build also runs on other CPUs (shared images, CI caches).
pg_config_bin="/usr/lib/postgresql/$major/bin/pg_config"
make -s -C "$srcdir" -j "$(nproc)" OPTFLAGS="" PG_CONFIG="$pg_config_bin" >/dev/null
make -s -C "$srcdir" install OPTFLAGS="" PG_CONFIG="$pg_config_bin" >/dev/null

if [[ ! -f "$control" ]]; then
  log "build finished but $control is missing"
  exit 1
fi
log "installed pgvector for PostgreSQL $major"
