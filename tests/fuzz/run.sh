#!/bin/bash
# run.sh SECONDS: each libFuzzer harness (clang, ASan) for SECONDS, starting
# from the seed corpus in the repo. New inputs go to build/fuzz/corpus-*;
# a crash is written to build/fuzz/ and should be copied into
# tests/fuzz/regressions-*/ to become a regression test.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-600}
out=build/fuzz
mkdir -p "$out"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iproto -Ibuild/gen -Icli -Idaemon -Itests -Ibuild/sysinc -I/usr/include/tirpc"
proto="proto/wire.c proto/names.c build/gen/ferry_xdr.c"
daemon=$(ls daemon/*.c | grep -v daemon/main.c)
clang $flags -Wno-unused-variable -o "$out/fuzz-daemon" tests/fuzz/fuzz-daemon.c $daemon $proto -ltirpc -lmd -lhivex -lpthread
clang $flags -Wno-unused-variable -o "$out/fuzz-client" tests/fuzz/fuzz-client.c cli/rpc/client.c cli/rpc/transfer.c cli/rpc/channel.c $proto -ltirpc
status=0
for h in daemon client; do
    mkdir -p "$out/corpus-$h"
    echo "fuzz-$h: $secs s" >&2
    "$out/fuzz-$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$out/crash-$h-" "$out/corpus-$h" tests/fuzz/corpus-$h \
        tests/fuzz/regressions-$h 2>&1 | tail -5 || status=1
done
exit $status
