#!/usr/bin/env bash
# Installs the Debian packages footfall needs, skipping those already present.
# Usage: deploy/local/install-system-deps.sh   (root, or a user with sudo)
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Packages: PostgreSQL 15 (server, and headers to build TimescaleDB), a C tool chain for the
# TimescaleDB build, python3-venv, the shared libraries OpenCV's wheel loads at import, and
# Chromium (with a font) for the dashboard's headless browser tests, and systemd's
# systemd-analyze, which checks the production units (deploy/production/systemd).
wanted=(
  postgresql-15 postgresql-client-15 postgresql-server-dev-15
  build-essential cmake libssl-dev dpkg-dev debian-archive-keyring ca-certificates
  python3 python3-venv python3-dev
  libgl1 libglib2.0-0
  chromium fonts-dejavu-core
  systemd
)
# npm fetches the dashboard's charting library once at set-up (make vendor); never at run time.
if ! command -v npm >/dev/null 2>&1; then wanted+=(npm); fi

missing=()
for p in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
