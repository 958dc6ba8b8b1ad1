#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: values per second and latency through gochan-bridge
# (a channel on "host A" -> bridge -> Redis stream -> bridge -> a channel on
# "host B"), beside Redis alone doing the same with hiredis (XADD pipelined
# in batches of 64, XREADGROUP + XACK in batches of 64), in the same run:
# 64-byte and 4 KiB values, one and eight producers, one receiver; then one
# value at a time, for the latency of a value alone.  Not asserted: make
# bench prints it.
#
# Copied to build/tools/bridge/bench.sh, beside the bridge's guest bundle
# (guest/) it uses; make bench runs it in a guest (mk/targets/bridge.mk).
# Written for busybox sh.
#
# BRIDGE_BENCH_VALUES (default 20000) values per run of 64 bytes, a quarter
# as many of 4 KiB.

here=$(cd "$(dirname "$0")" && pwd)
G=${BRIDGE_GUEST:-$here/guest}
N=${BRIDGE_BENCH_VALUES:-20000}
BATCH=64

if [ ! -e /dev/gochan ] || [ ! -x "$G/gochan-bridge-bench" ]; then
	echo "bench.sh: needs /dev/gochan and $G (make -C tools/bridge)" >&2
	exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bridge-bench.XXXXXX") || exit 1
pids=
chans=
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for c in $chans; do
		"$B" unlink "$c"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
B=$G/gochan-bridge-bench
SOCK=$tmp/redis.sock

# No persistence: this measures the broker and the bridge, not a disk.
"$G/redis-server" --port 0 --unixsocket "$SOCK" --dir "$tmp" --save "" \
	--appendonly no --daemonize no --logfile "$tmp/redis.log" &
pids=$!
i=0
until [ "$("$G/redis-cli" -s "$SOCK" ping 2>/dev/null)" = PONG ]; do
	i=$((i + 1))
	[ $i -gt 300 ] && { echo "bench.sh: redis-server did not start" >&2; exit 1; }
	sleep 0.1
done

# bridges SIZE STREAM: channels a and b, bridge A (out a) and B (in b).
bridges() {
	"$B" make "a$1" "$1" 256 && "$B" make "b$1" "$1" 256 || exit 1
	chans="$chans a$1 b$1"
	"$G/gochan-bridge" -r "unix:$SOCK" -n bench-a -i 0 -b $BATCH \
		--map "out a$1 $2" 2>>"$tmp/bridge.log" &
	bridge_pids="$!"
	"$G/gochan-bridge" -r "unix:$SOCK" -n bench-b -i 0 -b $BATCH \
		--map "in b$1 $2" 2>>"$tmp/bridge.log" &
	bridge_pids="$bridge_pids $!"
	pids="$pids $bridge_pids"
	started=$((started + 2))
	i=0
	until [ "$(cat "$tmp/bridge.log" 2>/dev/null | grep -c bridging)" -ge $started ]; do
		i=$((i + 1))
		[ $i -gt 600 ] && { cat "$tmp/bridge.log" >&2; exit 1; }
		sleep 0.1
	done
}
started=0

stop_bridges() {
	for p in $bridge_pids; do
		kill "$p"
		wait "$p"
	done
}

# field LINE KEY
field() {
	echo " $1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"
}

echo "gochan-bridge: channel -> bridge -> Redis stream -> bridge -> channel, against"
echo "Redis alone with hiredis (XADD pipelined by $BATCH; XREADGROUP COUNT $BATCH + XACK),"
echo "one receiver, Redis and both bridges on this machine (unix socket, no persistence)"
printf '%6s %5s %12s %12s %6s %18s %18s\n' size prod "redis val/s" "bridge val/s" ratio \
	"redis p50/p99 us" "bridge p50/p99 us"
for size in 64 4096; do
	n=$N
	[ $size -gt 64 ] && n=$((N / 4))
	bridges $size "bench:s$size"
	for prod in 1 8; do
		broker=$("$B" broker "$SOCK" $size $prod $n $BATCH) || exit 1
		bridge=$("$B" bridge "a$size" "b$size" $prod $n) || exit 1
		br=$(field "$broker" rate)
		bb=$(field "$bridge" rate)
		printf '%6s %5s %12s %12s %5s%% %18s %18s\n' $size $prod "$br" "$bb" \
			"$(awk "BEGIN { printf \"%.0f\", 100 * $bb / $br }")" \
			"$(field "$broker" p50_us)/$(field "$broker" p99_us)" \
			"$(field "$bridge" p50_us)/$(field "$bridge" p99_us)"
	done
	rtt_broker=$("$B" broker-rtt "$SOCK" $size 200) || exit 1
	rtt_bridge=$("$B" bridge-rtt "a$size" "b$size" 200) || exit 1
	echo "  one $size-byte value at a time: redis p50 $(field "$rtt_broker" p50_us) us (p99 $(field "$rtt_broker" p99_us)), bridge p50 $(field "$rtt_bridge" p50_us) us (p99 $(field "$rtt_bridge" p99_us))"
	stop_bridges
done
