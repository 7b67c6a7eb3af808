#!/bin/sh
# Writes a small seed corpus for tests/fuzz/fuzz_dtls_connected.c into DIR.
# Input layout: [bit 0: target is the client] then operations (see the target).
set -eu
dir=${1:-tests/fuzz/corpus-dtls_connected}
mkdir -p "$dir"
seed() { printf "$2" > "$dir/$1"; }
for role in 0 1; do
  # real data both ways, then a replay and a truncation
  seed "real-$role" "\\00$role\\001\\020\\005\\040\\003\\004\\000\\020"
  # a changed tag byte, then the original; a changed header byte
  seed "flip-$role" "\\00$role\\002\\030\\000\\050\\001\\002\\010\\000\\003\\200"
  # records built from the input: short epoch-1 application data, epoch 2, epoch 0 alert, CCS
  seed "hdr-$role" "\\00$role\\006\\027\\376\\375\\000\\001\\005abcde\\006\\027\\376\\375\\000\\002\\040aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\006\\025\\376\\375\\000\\000\\002\\002\\050\\006\\024\\376\\375\\000\\001\\001\\001"
  # a raw datagram of two records
  seed "raw-$role" "\\00$role\\000\\000\\040\\027\\376\\375\\000\\001\\000\\000\\000\\000\\000\\001\\000\\003xyz\\026\\376\\375\\000\\000\\000\\000\\000\\000\\000\\002\\000\\001\\001"
done
echo "seeds written to $dir"
