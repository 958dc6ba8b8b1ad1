# shellcheck shell=bash
# tools/bench/alloc/libs.sh - sourced by run.sh, ab.sh and cachemodel.sh (TOP set): where
# each allocator the benchmarks know lives. Peers are Debian's packages (run.sh installs
# missing ones); gochan is this tree's build.

ALLOC_LIBDIR=/usr/lib/x86_64-linux-gnu

# alloc_lib NAME: the malloc library to LD_PRELOAD for NAME (empty for glibc: none); any
# other NAME is taken as a path to a malloc build (a snapshot of lib/alloc, say)
alloc_lib() {
	case $1 in
	glibc) echo "" ;;
	mimalloc) echo "$ALLOC_LIBDIR/libmimalloc.so.2" ;;
	jemalloc) echo "$ALLOC_LIBDIR/libjemalloc.so.2" ;;
	tcmalloc) echo "$ALLOC_LIBDIR/libtcmalloc_minimal.so.4" ;;
	gochan) echo "$TOP/build/alloc/libgochan-malloc.so" ;;
	*) echo "$1" ;;
	esac
}
