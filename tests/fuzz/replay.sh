#!/bin/bash
# replay.sh: every seed and every regression input through both decoders,
# built without libFuzzer but with AddressSanitizer, LeakSanitizer and UBSan
# (build/tests/replay-*). A crash, a leak, undefined behaviour or a hang fails.
cd "$(dirname "$0")/../.."
. tests/lib.sh
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for h in daemon client; do
    for dir in tests/fuzz/corpus-$h tests/fuzz/regressions-$h; do
        for f in "$dir"/*; do
            [ -f "$f" ] || continue
            timeout 30 "build/tests/replay-$h" "$f" >"$out" 2>&1
            status=$?
            expect "replay_${h}_$(basename "$dir")_$(basename "$f")" "0" \
                "$status$([ $status = 0 ] || echo ": $(grep -m1 'ERROR\|runtime error' "$out")")"
        done
    done
done
finish
