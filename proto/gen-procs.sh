#!/bin/sh
# gen-procs.sh ferry.x > procs.h
#
# Reads the procedure lines of the program block in ferry.x and writes the
# one list both sides are built from:
#   FERRY_PROCS(P)  expands P(NUM, name, ArgType, RetType, DIR) per procedure
#   FERRY_TYPES(T)  expands T(Type) once per distinct argument/result type
# DIR is NONE, DOWNLOAD or UPLOAD, from the @download / @upload tag. `void`
# becomes ferry_void so that every procedure has the same shape.
set -eu
awk '
function ty(t) { return t == "void" ? "ferry_void" : t }
/^[ \t]*program[ \t]/ { inprog = 1 }
inprog && /^[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]+FERRY_[A-Z0-9_]+[ \t]*\([A-Za-z0-9_]+\)[ \t]*=[ \t]*[0-9]+;/ {
    line = $0
    dir = "NONE"
    if (line ~ /@download/) dir = "DOWNLOAD"
    if (line ~ /@upload/) dir = "UPLOAD"
    sub(/\/\*.*/, "", line)
    gsub(/[();=]/, " ", line)
    split(line, w, " ")
    ret = ty(w[1]); macro = w[2]; arg = ty(w[3]); num = w[4]
    name = tolower(substr(macro, 7))
    n++
    procs[n] = sprintf("  P(%s, %s, %s, %s, %s) \\", num, name, arg, ret, dir)
    checks[n] = sprintf("_Static_assert(%s == %s, \"gen-procs.sh misread %s\");", macro, num, macro)
    if (!(arg in seen)) { seen[arg] = 1; types[++nt] = arg }
    if (!(ret in seen)) { seen[ret] = 1; types[++nt] = ret }
}
END {
    if (n == 0) { print "gen-procs.sh: no procedures found" > "/dev/stderr"; exit 1 }
    print "/* Generated from ferry.x by gen-procs.sh: do not edit. */"
    print "#ifndef FERRY_PROCS_H"
    print "#define FERRY_PROCS_H"
    print "#define FERRY_NPROCS " n
    print "#define FERRY_PROCS(P) \\"
    for (i = 1; i <= n; i++) print procs[i]
    print ""
    print "#define FERRY_TYPES(T) \\"
    for (i = 1; i <= nt; i++) print "  T(" types[i] ") \\"
    print ""
    for (i = 1; i <= n; i++) print checks[i]
    print "#endif"
}' "$1"
