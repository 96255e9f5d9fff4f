#!/bin/sh
# Start pcscd (with the vsmartcard vpcd driver it loads from /etc/reader.conf.d) in the
# background unless it already runs, then wait for its socket. Idempotent; for CI and dev boxes.
# Usage: scripts/start-pcscd.sh [timeout-seconds]   (needs root, as pcscd does)
set -eu
SOCKET=/run/pcscd/pcscd.comm
TIMEOUT=${1:-15}
LOG=${PCSCD_LOG:-/tmp/tohyo-pcscd.log}

if [ -S "$SOCKET" ] && pgrep -x pcscd >/dev/null 2>&1; then
  echo "pcscd already running ($SOCKET)"
  exit 0
fi
if ! command -v pcscd >/dev/null 2>&1 && [ ! -x /usr/sbin/pcscd ]; then
  echo "pcscd is not installed (apt-get install pcscd vsmartcard-vpcd)" >&2
  exit 1
fi
PCSCD=$(command -v pcscd || echo /usr/sbin/pcscd)
# a stale socket from a killed pcscd would make clients hang
[ -S "$SOCKET" ] && rm -f "$SOCKET"
setsid "$PCSCD" --foreground >"$LOG" 2>&1 </dev/null &
echo $! > /tmp/tohyo-pcscd.pid
i=0
while [ ! -S "$SOCKET" ]; do
  i=$((i + 1))
  if [ "$i" -gt $((TIMEOUT * 10)) ]; then
    echo "pcscd did not create $SOCKET within ${TIMEOUT}s; log: $LOG" >&2
    exit 1
  fi
  sleep 0.1
done
echo "pcscd started (pid $(cat /tmp/tohyo-pcscd.pid), log $LOG)"
