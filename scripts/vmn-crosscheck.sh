#!/bin/sh
# Verificatum's own verifier judges tohyo's shuffles (docs/vmn.md §9).
#
# Usage: scripts/vmn-crosscheck.sh VERIFICATUM_PREFIX [N ...]
#   VERIFICATUM_PREFIX: where an installed Verificatum (vmn 3.1.0) has bin/vmnv and bin/vog.
#   N: numbers of ciphertexts (default: 10 1000).
#
# For each group (modp2048, secp256k1) and each N, `tohyo mix vmn-demo` writes a proof directory
# of two tohyo mixers (width 1) and `vmnv -shuffle -v` verifies it; for the first N also a full
# mix (`--decrypt`: two mixers, then the joint decryption, width 2) for `vmnv -mix -v`.
# When a proof of shuffle fails, vmnv 3.1.0 still exits 0 (and prints nothing without -v), so
# its verdict is read from its verbose output: ACCEPTED when it exits 0 and completes with no
# line saying "failed" or "Too few proofs are valid".
# A copy with one byte of a proof changed must be REFUSED, which shows the verdict is read
# right. Prints one verdict line per run; exits 1 if any verdict is not the expected one.
set -eu

if [ $# -lt 1 ] || [ ! -x "$1/bin/vmnv" ]; then
  echo "usage: $0 VERIFICATUM_PREFIX [N ...]   (VERIFICATUM_PREFIX/bin/vmnv must exist)" >&2
  exit 2
fi
PREFIX=$1
shift
SIZES=${*:-10 1000}
HERE=$(cd "$(dirname "$0")/.." && pwd)
TOHYO=${TOHYO:-$HERE/.venv/bin/tohyo}
[ -x "$TOHYO" ] || TOHYO=tohyo
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vmn-crosscheck.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PATH=$PREFIX/bin:$PATH
export PATH
# Verificatum's tools want a random source; vmnv draws nothing secret from it
VERIFICATUM_RANDOM_SOURCE=$WORK/random_source
VERIFICATUM_RANDOM_SEED=$WORK/random_seed
export VERIFICATUM_RANDOM_SOURCE VERIFICATUM_RANDOM_SEED
vog -rndinit RandomDevice /dev/urandom >/dev/null

echo "Verificatum: vmnv $(vmnv -version)   tohyo: $(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo unknown)"
status=0

verdict() {  # verdict DIR [shuffle|mix] -> prints ACCEPTED or REFUSED, and vmnv's time
  out=$WORK/vmnv.out
  if vmnv "-${2:-shuffle}" -v "$1/protInfo.xml" "$1" >"$out" 2>&1 \
    && grep -q "Completed verification" "$out" \
    && ! grep -q "failed\|Too few proofs are valid" "$out"; then
    echo "ACCEPTED ($(sed -n 's/.*Completed verification after.*(\([0-9]*\) ms).*/\1 ms/p' "$out"))"
  else
    echo "REFUSED ($(grep -m1 "failed\|Too few\|ERROR" "$out" | sed 's/^[0-9 :]*//'))"
  fi
}

for group in modp2048 secp256k1; do
  for n in $SIZES; do
    dir=$WORK/$group-$n
    made=$("$TOHYO" mix vmn-demo "$dir" --group "$group" --ciphertexts "$n" --mixers 2 \
      --sid "tohyoCrosscheck$n")
    made=$(echo "$made" | head -1)
    v=$(verdict "$dir")
    echo "$group N=$n: vmnv $v   [tohyo: ${made#*; }]"
    case $v in ACCEPTED*) ;; *) status=1 ;; esac
  done
  first=$(echo "$SIZES" | awk '{print $1}')
  mix=$WORK/$group-mix
  "$TOHYO" mix vmn-demo "$mix" --group "$group" --ciphertexts "$first" --width 2 \
    --mixers 2 --decrypt --sid "tohyoCrosscheckMix" >/dev/null
  v=$(verdict "$mix" mix)
  echo "$group N=$first width 2, mix with decryption: vmnv $v"
  case $v in ACCEPTED*) ;; *) status=1 ;; esac
  # one changed byte in mixer 1's reply must be refused
  bad=$WORK/$group-tampered
  cp -r "$WORK/$group-$first" "$bad"
  python3 -c "import sys; p=sys.argv[1]; d=bytearray(open(p,'rb').read()); d[-1]^=1; open(p,'wb').write(d)" \
    "$bad/proofs/PoSReply01.bt"
  v=$(verdict "$bad")
  echo "$group tampered PoSReply01.bt: vmnv $v"
  case $v in REFUSED*) ;; *) status=1 ;; esac
done
exit $status
