#!/bin/sh
# list.sh FILE... > protocol-tests.h: T(name) for each TEST(name) defined in
# the files, in their order, so that no test is listed by hand.
sed -n 's/^TEST(\([a-z0-9_]*\)).*/T(\1)/p' "$@"
