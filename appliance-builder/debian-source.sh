#!/bin/bash
# debian-source.sh PACKAGE[=VERSION] DIR: Debian's source of PACKAGE,
# unpacked with Debian's patches applied; prints the directory it made.
#
# The host's apt configuration is left as it is: the deb-src entries live
# in a private directory for this one call, made from the machine's own
# deb entries (so no archive host name is written anywhere here).
set -euo pipefail
want=${1:?usage: debian-source.sh PACKAGE[=VERSION] DIR}
dir=${2:?usage: debian-source.sh PACKAGE[=VERSION] DIR}
command -v dpkg-source >/dev/null || { echo "debian-source: dpkg-source missing (apt-get install dpkg-dev)" >&2; exit 1; }

priv=$(mktemp -d)
trap 'rm -rf "$priv"' EXIT
mkdir -p "$priv/parts" "$priv/lists/partial" "$priv/archives/partial"
: > "$priv/sources.list"
# one-line entries: "deb URI SUITE..." becomes "deb-src URI SUITE..."
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >> "$priv/sources.list"
done
# deb822 entries: the same stanzas with Types: deb-src
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed -E 's/^Types:.*/Types: deb-src/' "$f" > "$priv/parts/$(basename "$f")"
done
apt=(-o Dir::Etc::SourceList="$priv/sources.list" -o Dir::Etc::SourceParts="$priv/parts"
     -o Dir::State::Lists="$priv/lists" -o Dir::Cache::Archives="$priv/archives"
     -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root)
apt-get "${apt[@]}" -qq update >&2
mkdir -p "$dir"
cd "$dir"
if ! apt-get "${apt[@]}" -qq source "$want" >&2 2>"$priv/err"; then
    # the exact version may be gone from the archive: take the current one
    case $want in *=*) echo "debian-source: $want not in the archive; taking ${want%%=*}" >&2 ;;
        *) cat "$priv/err" >&2; exit 1 ;; esac
    apt-get "${apt[@]}" -qq source "${want%%=*}" >&2
fi
find "$dir" -mindepth 1 -maxdepth 1 -type d -name "${want%%=*}-*" | head -1
