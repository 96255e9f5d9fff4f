#!/bin/sh
# The Debian packages tohyo's tests use: the PC/SC stack with the virtual reader (pcscd,
# vsmartcard-vpcd), what pyscard builds with (libpcsclite-dev, swig, gcc, python3-dev),
# PostgreSQL, libsodium, Chromium with a Japanese font for the browser tests, and npm (to fetch
# axe-core once). Installs the missing ones when run as root; otherwise prints the command to run
# with sudo and exits 2. Prints nothing and exits 0 when everything is there.
#
#   scripts/system-packages.sh
set -eu
PACKAGES="pcscd vsmartcard-vpcd libpcsclite-dev swig gcc python3-dev postgresql libsodium23 \
chromium fonts-ipafont-gothic"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "system packages missing:$missing" >&2
  echo "install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing" >&2
  exit 2
fi
echo "== installing system packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
