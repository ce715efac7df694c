#!/usr/bin/env bash
# Builds and installs TimescaleDB (Apache-2.0 edition) for the system's PostgreSQL 15 from
# Debian trixie's source package, which builds cleanly against bookworm's PostgreSQL 15.
# Skips the build when the extension is already installed at the wanted version.
#
# The system's apt configuration is left untouched: a private sources list and package-list
# directory are used just for `apt-get source`.
#
# Usage: deploy/local/build-timescaledb.sh [WORK_DIR]
set -euo pipefail

PG_MAJOR=15
WANT_VERSION="${TIMESCALEDB_VERSION:-2.19.3}"
PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ ! -x "$PG_CONFIG" ]; then
  echo "build-timescaledb: $PG_CONFIG not found; install postgresql-server-dev-${PG_MAJOR} first (make system-deps)." >&2
  exit 1
fi

extdir="$("$PG_CONFIG" --sharedir)/extension"
libdir="$("$PG_CONFIG" --pkglibdir)"
if [ -f "$extdir/timescaledb--${WANT_VERSION}.sql" ] && [ -f "$libdir/timescaledb-${WANT_VERSION}.so" ]; then
  echo "timescaledb ${WANT_VERSION}: already installed"
  exit 0
fi

work="${1:-$(mktemp -d)}"
mkdir -p "$work/lists/partial"
cd "$work"

cat > sources.list <<SRC
deb-src http://deb.debian.org/debian trixie main
SRC

apt_opts=(
  -o "Dir::Etc::sourcelist=$work/sources.list"
  -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$work/lists"
  -o "APT::Get::List-Cleanup=0"
  -o "APT::Sandbox::User=root"
)

echo "timescaledb: fetching Debian trixie source package"
apt-get "${apt_opts[@]}" update -qq
rm -rf timescaledb-*/
apt-get "${apt_opts[@]}" source -qq --download-only "timescaledb=${WANT_VERSION}*" 2>/dev/null \
  || apt-get "${apt_opts[@]}" source -qq --download-only timescaledb
dsc="$(ls timescaledb_*.dsc | head -n 1)"
dpkg-source --no-check -x "$dsc" src >/dev/null

got_version="$(sed -n 's/^version = //p' src/version.config | head -n 1)"
echo "timescaledb: building ${got_version} (Apache-2.0 edition) against PostgreSQL ${PG_MAJOR}"
cmake -S src -B build -DCMAKE_BUILD_TYPE=Release -DPG_CONFIG="$PG_CONFIG" \
  -DAPACHE_ONLY=1 -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DUSE_TELEMETRY=OFF \
  -DWARNINGS_AS_ERRORS=OFF >build.log 2>&1 || { tail -n 30 build.log >&2; exit 1; }
make -C build -j"$(nproc)" >>build.log 2>&1 || { tail -n 30 build.log >&2; exit 1; }
$SUDO make -C build install >>build.log 2>&1 || { tail -n 30 build.log >&2; exit 1; }
echo "timescaledb ${got_version}: installed into $libdir"
