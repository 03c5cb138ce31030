#!/bin/bash
# debian-source.sh PACKAGE=VERSION DIR: Debian's source of PACKAGE, unpacked
# with Debian's patches applied into DIR/PACKAGE; prints that directory.
#
# The host's apt configuration is read, never changed: every "deb" entry of
# /etc/apt/sources.list{,.d} becomes a "deb-src" entry in a private
# directory for this one call (so no archive host name is written anywhere
# here), and the indexes and caches go there too. The host's apt.conf.d
# stays in force (proxies, Check-Valid-Until), except its update hooks,
# which would act on the host's state.
set -euo pipefail
want=${1:?usage: debian-source.sh PACKAGE=VERSION DIR}
dir=${2:?usage: debian-source.sh PACKAGE=VERSION DIR}
pkg=${want%%=*}
command -v dpkg-source >/dev/null || { echo "debian-source: dpkg-source missing (apt-get install dpkg-dev)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/sources.list.d" "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/src"
# apt run as root downloads as the user _apt: let it reach $tmp (mktemp
# made it private) and write the source files into $tmp/src
chmod -R a+rX "$tmp"
if [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$tmp/src"; fi
# one-line entries (either kind of file may be absent)
{ cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
    sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' > "$tmp/sources.list"
# deb822 stanzas: every field of an enabled "deb" stanza, retyped
{ cat /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } | awk '
    function flush() {
        if (body != "" && types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no")
            printf "Types: deb-src\n%s\n", body
        body = types = enabled = ""
    }
    /^#/ { next }
    /^[ \t]*$/ { flush(); next }
    tolower($1) == "types:" { types = $0; sub(/^[^:]*:/, "", types); next }
    tolower($1) == "enabled:" { enabled = tolower($2) }
    { body = body $0 "\n" }
    END { flush() }' > "$tmp/sources.list.d/deb-src.sources"
[ -s "$tmp/sources.list" ] || [ -s "$tmp/sources.list.d/deb-src.sources" ] ||
    { echo "debian-source: no deb entries in /etc/apt/sources.list{,.d}" >&2; exit 1; }
printf '#clear APT::Update::Post-Invoke;\n#clear APT::Update::Post-Invoke-Success;\n' > "$tmp/apt.conf"
apt=(-c "$tmp/apt.conf"
     -o "Dir::Etc::SourceList=$tmp/sources.list"
     -o "Dir::Etc::SourceParts=$tmp/sources.list.d"
     -o "Dir::State::Lists=$tmp/lists"
     -o "Dir::Cache=$tmp/cache")
apt-get "${apt[@]}" -qq update >&2
# download where _apt may write, then unpack with Debian's patches applied
# (--no-check: apt has verified the files against the signed index, as a
# plain "apt-get source" does)
(cd "$tmp/src" && apt-get "${apt[@]}" -qq --download-only source "$want" >&2) || {
    echo "debian-source: apt-get source $want failed (no network, or the archive has moved on)" >&2
    exit 1
}
rm -rf "${dir:?}/$pkg"
mkdir -p "$dir"
dpkg-source -q --no-check -x "$tmp"/src/"${pkg}"_*.dsc "$dir/$pkg" >/dev/null
echo "$dir/$pkg"
