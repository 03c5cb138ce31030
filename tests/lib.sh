# lib.sh: helpers for the shell tests. Each test prints "PASS name" or
# "FAIL name: why"; finish prints "N passed, N failed".
passed=0
failed=0
FERRY=${FERRY:-$PWD/build/ferry}

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# expect NAME WANT GOT: equal strings
expect() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected [$2], got [$3]"; fi
}

# expect_status NAME WANT CMD...: the command's exit status
expect_status() {
    local name=$1 want=$2 got
    shift 2
    "$@" >/dev/null 2>&1 && got=0 || got=$?
    expect "$name" "$want" "$got"
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
}
