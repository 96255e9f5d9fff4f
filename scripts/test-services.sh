#!/bin/sh
# Bring up what the tests use and print the environment they need, for `eval`:
#   eval "$(sh scripts/test-services.sh)"
# - axe-core from the npm registry (cached in ~/.cache/tohyo) for the accessibility scans;
# - pcscd with the vpcd virtual reader (scripts/start-pcscd.sh);
# - a throwaway PostgreSQL cluster in /tmp/tohyo-test-pg on port 54329, unless
#   TOHYO_TEST_PG_DSN is already set (scripts/start-postgres.sh).
# pcscd and PostgreSQL need root; as another user the script says what to run and stops.
set -eu
here=$(dirname "$0")
PYTHON=${PYTHON:-python3}
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
"$PYTHON" "$here/../tests/web/axe_core.py" >&2
if [ "$(id -u)" -ne 0 ] && ! pgrep -x pcscd >/dev/null 2>&1; then
  echo "pcscd is not running; start it as root: sudo sh scripts/start-pcscd.sh" >&2
  exit 2
fi
sh "$here/start-pcscd.sh" >&2
if [ -z "${TOHYO_TEST_PG_DSN:-}" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "no test database: run 'sudo sh scripts/start-postgres.sh /tmp/tohyo-test-pg 54329'" >&2
    echo "and export the TOHYO_TEST_PG_DSN it prints" >&2
    exit 2
  fi
  sh "$here/start-postgres.sh" /tmp/tohyo-test-pg 54329 | grep '^export '
fi
