#!/bin/sh
# Checks a selectjob distribution tarball (make dist) the way a cluster node without Swift would use it:
# unpacked in a temporary folder, run with a PATH and environment that hold no Swift toolchain, it
# validates a shipped job's schema file, selects from a plain .npy and writes the subset.
#   sh Tests/dist/check-dist.sh dist/selectjob-VERSION-linux-ARCH.tar.gz
set -eu
tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xzf "$tarball"
root=$(ls -d "$work"/selectjob-*)
bin="$root/bin/selectjob"
fail() { echo "dist-check: $*" >&2; exit 1; }

for file in README.md docs/runtime.md schemas/job.schema.json jobs/demo.json; do
    [ -f "$root/$(basename "$file")" ] || [ -f "$root/$file" ] || fail "the tarball lacks $file"
done
# No Swift runtime library is resolved at run time; the system libraries it needs are all found.
if ldd "$bin" | grep -i -E 'libswift|libFoundation|libdispatch|libBlocksRuntime|not found'; then
    fail "$bin needs libraries that a machine without Swift lacks (above)"
fi

# A 300 × 8 float32 .npy of three clusters, written with the standard library only.
python3 - "$work/feats.npy" <<'PY'
import random, struct, sys
random.seed(1)
rows, columns = 300, 8
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, columns)
header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
values = []
for r in range(rows):
    centre = (r % 3) * 4.0
    values += [centre + random.gauss(0, 1) + (j == r % 3) for j in range(columns)]
with open(sys.argv[1], "wb") as out:
    out.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
    out.write(struct.pack("<%df" % len(values), *values))
PY

clean_env() { env -i HOME="$work" PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"; }
clean_env sh -c 'command -v swift' >/dev/null 2>&1 && fail "swift is on the clean PATH; the check would prove nothing"
clean_env "$bin" --version >/dev/null || fail "selectjob --version failed"
clean_env "$bin" methods kmeans >/dev/null || fail "selectjob methods failed"
cd "$work"
clean_env "$bin" select feats.npy --method kmeans --budget 5% --db sel.sqlite -o subset.json --quiet \
    || fail "selectjob select failed"
python3 -c 'import json, sys; rows = json.load(open(sys.argv[1])); sys.exit(0 if len(rows) == 15 and rows == sorted(set(rows)) else 1)' \
    subset.json || fail "subset.json is not 15 sorted row indices"
clean_env "$bin" runs --db sel.sqlite >/dev/null || fail "selectjob runs failed"
echo "dist-check: $(basename "$tarball") runs without Swift ($(ldd "$bin" | wc -l) shared libraries, none of Swift's)"
