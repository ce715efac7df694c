#!/usr/bin/env bash
# Fetches the dashboard's charting library (Apache ECharts, Apache-2.0) from the npm registry
# once, checks it against a pinned sha512, and copies the built file into the API's static
# folder (git-ignored). Nothing is fetched at run time and the pages never load a CDN.
# Usage: deploy/local/vendor-web-assets.sh   (needs npm; run by `make vendor`, part of setup)
set -euo pipefail

NAME=echarts
VERSION=5.6.0
INTEGRITY="sha512-oTbVTsXfKuEhxftHqL5xprgLoc0k7uScAwtryCgWF6hPYFLRwOUHiFmHGCBKP5NPFNkDVopOieyUqYGH8Fa3kA=="
HERE="$(cd "$(dirname "$0")/../.." && pwd)"
DEST="$HERE/cloud/api/dashboard/static/vendor"

if [ -f "$DEST/echarts.min.js" ] && [ "$(cat "$DEST/echarts.VERSION" 2>/dev/null)" = "$VERSION" ]; then
  echo "web assets: echarts $VERSION present"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "web assets: npm is missing; install Node.js and npm (apt-get install npm), then run make vendor" >&2
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "web assets: fetching $NAME@$VERSION from the npm registry"
(cd "$tmp" && npm pack "$NAME@$VERSION" --silent >/dev/null)
tarball="$tmp/$NAME-$VERSION.tgz"
got="sha512-$(python3 -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1],"rb").read()).digest()).decode())' "$tarball")"
if [ "$got" != "$INTEGRITY" ]; then
  echo "web assets: $NAME-$VERSION.tgz does not match its pinned sha512 ($got); refusing to use it" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$tmp" package/dist/echarts.min.js package/LICENSE package/NOTICE
mkdir -p "$DEST"
cp "$tmp/package/dist/echarts.min.js" "$DEST/echarts.min.js"
cp "$tmp/package/LICENSE" "$DEST/echarts.LICENSE"
cp "$tmp/package/NOTICE" "$DEST/echarts.NOTICE"
echo "$VERSION" > "$DEST/echarts.VERSION"
echo "web assets: echarts $VERSION -> ${DEST#"$HERE/"}/echarts.min.js"
