#!/bin/bash
# run.sh: every test, with one total at the end: "N passed, N failed".
# Each part prints PASS/FAIL lines and its own "N passed, N failed" line,
# which this adds up.
cd "$(dirname "$0")/.."
total_pass=0
total_fail=0

part() {
    local name=$1 out status
    shift
    echo "== $name"
    out=$(timeout 2400 "$@" 2>&1)   # a hang is a failure, not a stuck CI
    status=$?
    echo "$out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed$'
    local line
    line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
    if [ -z "$line" ]; then
        echo "FAIL $name: ended without a summary (exit $status)"
        total_fail=$((total_fail + 1))
        return
    fi
    total_pass=$((total_pass + $(echo "$line" | cut -d' ' -f1)))
    total_fail=$((total_fail + $(echo "$line" | cut -d' ' -f3)))
    if [ "$status" != 0 ] && [ "$(echo "$line" | cut -d' ' -f3)" = 0 ]; then
        echo "FAIL $name: exit status $status"
        total_fail=$((total_fail + 1))
    fi
}

part style tests/style.sh
part protocol env FERRYD=build/ferryd build/tests/protocol
part cli tests/cli.sh
part hostile tests/hostile.sh
part fuzz-replay tests/fuzz/replay.sh
part appliance tests/appliance.sh
part forensic tests/forensic.sh
part trust tests/trust.sh
part emptyroot tests/emptyroot.sh
part resume tests/resume.sh
part session tests/session.sh
part direct tests/direct.sh
part manyimages tests/manyimages.sh
part kvm tests/kvm.sh
part crypt tests/crypt.sh
part evidence tests/evidence.sh
part deleted tests/deleted.sh

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
