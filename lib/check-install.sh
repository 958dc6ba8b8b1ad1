#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Host-side checks of the built library, no kernel module needed:
#  1. libgochan.so exports exactly the functions of libgochan.map, each with
#     a version, and its soname carries the major version; a name with
#     only an old version (a compat one, name@NODE, no name@@NODE) is no
#     longer declared in a header;
#  2. "make install DESTDIR=..." gives a tree a program can build against
#     with pkg-config alone (<gochan/kchan.h> finds <linux/gochan.h> there,
#     <gochan/alloc.h> is there), linked shared and static, and the program
#     runs.
# Usage: check-install.sh BUILD_DIR MAP_FILE
set -eu

O=$1
MAP=$2
fail() { echo "check-install: FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. Exports.  The map lists names between "global:" and "local:".
want=$(sed -n '/global:/,/local:/p' "$MAP" | sed -n 's/^[[:space:]]*\([a-z_0-9]*\);$/\1/p' | sort)
# (functions, and the few variables an inline function of a header reads: go_wb_enabled_)
have=$(nm -D --defined-only "$O/libgochan.so" | awk '$2 ~ /^[TBD]$/ { print $3 }' | sort)
have_names=$(printf '%s\n' "$have" | sed 's/@.*//' | sort)
[ "$want" = "$have_names" ] || fail "exports differ from $MAP:
$(printf '%s\n' "$want" > "$tmp/want"; printf '%s\n' "$have_names" | diff "$tmp/want" - || true)"
printf '%s\n' "$have" | grep -qv '@@\{0,1\}LIBGOCHAN_' &&
	fail "an export has no LIBGOCHAN_ version: $have"
# name@@NODE: the version programs link against; name@NODE alone: a compat one
printf '%s\n' "$have" | sed -n 's/@@LIBGOCHAN_.*//p' | sort -u > "$tmp/current"
ncurrent=$(wc -l < "$tmp/current")
ncompat=$(( $(printf '%s\n' "$have" | wc -l) - ncurrent ))
for name in $(printf '%s\n' "$have_names" | sort -u | comm -23 - "$tmp/current"); do
	grep -qw "$name" "$(dirname "$0")"/../include/gochan/*.h &&
		fail "$name has only a compat version, but a header declares it"
done
soname=$(readelf -d "$O/libgochan.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libgochan.so.0" ] || fail "soname is '$soname'"
echo "check-install: exports: $ncurrent symbols, all versioned, and $ncompat compat" \
     "versions; soname $soname"

# 2. An installed tree.
# The default PREFIX, so build/lib/gochan.pc is not regenerated for another.
make -s -C "$(dirname "$0")" install DESTDIR="$tmp/root" >/dev/null
pc=$(find "$tmp/root" -name gochan.pc)
[ -n "$pc" ] || fail "no gochan.pc installed"
cat > "$tmp/t.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <gochan/alloc.h>
#include <gochan/kchan.h>

int main(void)
{
	struct gochan_stat st;
	int64_t t = gochan_now_ns();
	unsigned char *p;

	/* fd -1 is never a channel: -EBADF from the library, errno untouched. */
	errno = 1234;
	if (gochan_stat(-1, &st) != -EBADF || errno != 1234)
		return 1;
	if (t <= 0 || gochan_now_ns() < t)
		return 2;
	/* The span allocator is in the library too. */
	p = galloc(100, GALLOC_ZERO);
	if (!p || gsize(p) < 100 || p[99] != 0)
		return 3;
	gfree(p);
	puts("ok");
	return 0;
}
C
export PKG_CONFIG_SYSROOT_DIR="$tmp/root"
export PKG_CONFIG_LIBDIR="$(dirname "$pc")"
cflags=$(pkg-config --cflags gochan)
libs=$(pkg-config --libs gochan)
ver=$(pkg-config --modversion gochan)
libdir=$(pkg-config --variable=libdir gochan)
case $libdir in "$tmp/root"/*) ;; *) libdir=$tmp/root$libdir ;; esac	# pkgconf adds the sysroot, pkg-config does not
${CC:-cc} -Wall -Werror $cflags -o "$tmp/t-shared" "$tmp/t.c" $libs
${CC:-cc} -Wall -Werror -static $cflags -o "$tmp/t-static" "$tmp/t.c" $libs
[ "$(LD_LIBRARY_PATH="$libdir" "$tmp/t-shared")" = ok ] || fail "shared program"
[ "$("$tmp/t-static")" = ok ] || fail "static program"
readelf -d "$tmp/t-shared" | grep -q 'NEEDED.*\[libgochan.so.0\]' || fail "program does not need libgochan.so.0"
echo "check-install: pkg-config gochan $ver: shared and static programs build and run"
