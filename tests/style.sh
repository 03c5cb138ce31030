#!/bin/bash
# style.sh: the code as .clang-format says, files small enough to read, and
# each side of the protocol kept to its own headers.
cd "$(dirname "$0")/.."
. tests/lib.sh

sources=$(find cli daemon proto embed tests appliance-builder -name '*.[ch]' | sort)
bad=$(for f in $sources; do clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || echo "$f"; done)
expect code_follows_clang_format "" "$bad"

# about 400 lines for a source file, 600 for a test; longer only with a
# "long file:" comment saying why
long=$(for f in $sources tests/*.sh; do
    n=$(wc -l < "$f")
    case $f in tests/*) max=650 ;; *) max=450 ;; esac
    [ "$n" -gt $max ] && ! grep -q 'long file:' "$f" && echo "$f ($n lines)"
done)
expect files_are_small "" "$long"

# no check reads $? after a command substitution has reset it
expect status_is_read_before_substitutions "0 found" "$(python3 tests/status.py tests/*.sh | tail -1)"

# no file of the host program refers, through others, back to itself
expect cli_files_import_no_loops "0 loops" "$(python3 tests/imports.py build | tail -1)"
expect cli_includes_no_daemon_header "" "$(grep -l '#include "daemon.h"' $(find cli -name '*.[ch]'))"
expect daemon_includes_no_cli_header "" \
    "$(grep -lE '#include "(rpc|io|launch|guest|output|cmd)/' $(find daemon -name '*.[ch]'))"
finish
