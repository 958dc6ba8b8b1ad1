#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check-pages.sh TOP: the checks of selftests/man (see its Makefile), as TAP lines.
# mandoc (its -Tlint) and man-db (man --warnings, which runs groff) come from Debian's
# mandoc and man-db packages; without them the lint checks are skipped, with the reason.
set -uo pipefail
TOP=$1
MAN=$TOP/tools/man
# shellcheck source=../common/tap.sh
. "$TOP/selftests/common/tap.sh"

pages=()
for s in 1 3 4 7; do
	for f in "$MAN"/man$s/*.$s; do
		[ -e "$f" ] && pages+=("$f")
	done
done
if [ ${#pages[@]} -eq 0 ]; then
	tap_emit not-ok "man: pages exist under tools/man"
	tap_end man
	exit 1
fi

# A link page is one ".so manN/page.N" line; the page it names must exist.
is_link() { [ "$(wc -l < "$1")" -le 1 ] && grep -q '^\.so ' "$1"; }

for f in "${pages[@]}"; do
	rel=${f#"$MAN"/}
	if is_link "$f"; then
		target=$(sed -n 's/^\.so //p' "$f")
		if [ -f "$MAN/$target" ] && ! is_link "$MAN/$target"; then
			tap_emit ok "man: $rel links to $target"
		else
			tap_emit not-ok "man: $rel links to $target, which is not a page"
		fi
		continue
	fi
	if command -v mandoc >/dev/null; then
		out=$(mandoc -Tlint -W warning "$f" 2>&1)
		if [ -z "$out" ]; then
			tap_emit ok "man: $rel: mandoc -Tlint"
		else
			tap_emit not-ok "man: $rel: mandoc -Tlint"
			sed 's/^/# /' <<<"$out" | head -20
		fi
	else
		tap_emit skip "man: $rel: mandoc -Tlint" "no mandoc (apt-get install mandoc)"
	fi
	if command -v man >/dev/null && command -v groff >/dev/null; then
		out=$(cd "$MAN" && LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l -Tutf8 "$rel" 2>&1 >/dev/null)
		if [ -z "$out" ]; then
			tap_emit ok "man: $rel: man --warnings"
		else
			tap_emit not-ok "man: $rel: man --warnings"
			sed 's/^/# /' <<<"$out" | head -20
		fi
	else
		tap_emit skip "man: $rel: man --warnings" "no man-db/groff"
	fi
done

# Every public name has a section 3 page: the functions libgochan exports (its version
# script), the headers' inline functions and function-like macros (not _private_ ones).
names=$( (sed -n '/global:/,/local:/p' "$TOP/lib/libgochan.map" |
	  sed -n 's/^[[:space:]]*\([a-z_0-9]*\);$/\1/p'
	  grep -ho '^#define [A-Za-z_][A-Za-z0-9_]*(' "$TOP"/include/gochan/*.h |
	  sed 's/^#define //; s/($//'
	  grep -ho '^static inline [^(]*[^A-Za-z0-9_][a-z_][a-z0-9_]*(' "$TOP"/include/gochan/*.h |
	  sed 's/($//; s/.*[^A-Za-z0-9_]//') | grep -v '^_\|_$' | sort -u |
	  while read -r n; do	# (not old versions kept for binaries: no header declares them)
		grep -qw "$n" "$TOP"/include/gochan/*.h && echo "$n"
	  done)
missing=()
for n in $names; do
	[ -e "$MAN/man3/$n.3" ] || missing+=("$n")
done
if [ ${#missing[@]} -eq 0 ]; then
	tap_emit ok "man: every public name of libgochan has a section 3 page ($(wc -w <<<"$names") names)"
else
	tap_emit not-ok "man: every public name of libgochan has a section 3 page"
	echo "# no page for ${#missing[@]} of $(wc -w <<<"$names"): ${missing[*]}"
fi
for p in man4/gochan.4 man7/gochan.7 man1/gochan.1 man1/gochan-top.1; do
	if [ -e "$MAN/$p" ]; then
		tap_emit ok "man: $p exists"
	else
		tap_emit not-ok "man: $p exists"
	fi
done
# make install puts every page under MANDIR, make uninstall leaves nothing behind.
tmp=$(mktemp -d)
if make -s -C "$MAN" install DESTDIR="$tmp" PREFIX=/usr >/dev/null &&
   [ "$(find "$tmp" -type f | wc -l)" -eq ${#pages[@]} ] &&
   make -s -C "$MAN" uninstall DESTDIR="$tmp" PREFIX=/usr >/dev/null &&
   [ "$(find "$tmp" -type f | wc -l)" -eq 0 ]; then
	tap_emit ok "man: install puts down ${#pages[@]} pages, uninstall removes them"
else
	tap_emit not-ok "man: install puts down ${#pages[@]} pages, uninstall removes them"
	find "$tmp" -type f | sed 's/^/# left: /' | head
fi
rm -rf "$tmp"
tap_end man
