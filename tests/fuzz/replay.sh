#!/bin/bash
# replay.sh: every seed and every regression input through both decoders,
# built without libFuzzer (build/tests/replay-*). A crash or a hang fails.
cd "$(dirname "$0")/../.."
. tests/lib.sh
for h in daemon client; do
    for dir in tests/fuzz/corpus-$h tests/fuzz/regressions-$h; do
        for f in "$dir"/*; do
            [ -f "$f" ] || continue
            if timeout 30 "build/tests/replay-$h" "$f" >/dev/null 2>&1; then
                pass "replay_${h}_$(basename "$dir")_$(basename "$f")"
            else
                fail "replay_${h}_$(basename "$dir")_$(basename "$f")" "exit $?"
            fi
        done
    done
done
finish
