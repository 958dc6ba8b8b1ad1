#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Description: gochan-top's counts equal those of a known workload.
#
# chan_workload (beside this script) sends N values on one channel, the
# first K of them only once its receiver sleeps, and closes the channel; it
# prints what a tracer must have counted.  Run under "gochan-top -- CMD",
# once with each program set (-m btf: tp_btf, -m tp: tracepoints), the
# tool's report must agree exactly on makes, sends, receives, elements
# and closes, and count at least K blocks, wakes and blocked receives in
# the histogram.  While the tool runs, bpftool prog show (a copy of the
# build host's, with its libraries, in bpftool/) must list its programs,
# and they must be gone once SIGINT has stopped it.  Prints TAP; skips
# (exit 4) without the module, its tracepoints or BPF.
#
# Written for busybox sh: it runs in the VM guest.

dir=$(cd "$(dirname "$0")" && pwd)
TOP=$dir/gochan-top
WORKLOAD=$dir/chan_workload
BPFTOOL=$dir/bpftool/run
N=200
K=5
OPS="make send recv block wake close select"
PLAN=11

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gochan_top.XXXXXX") || exit 1
top_pid=
cleanup() {
	[ -n "$top_pid" ] && kill "$top_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "TAP version 13"
skip_all() {
	echo "1..0 # SKIP $*"
	exit 4
}
[ -e /dev/gochan ] || skip_all "/dev/gochan is absent (module not loaded)"
tracefs=
for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
	[ -d "$d/events/gochan" ] && tracefs=$d && break
done
[ -n "$tracefs" ] || skip_all "no gochan tracepoints in tracefs"
[ -e /sys/kernel/btf/gochan ] || skip_all "the module has no BTF (/sys/kernel/btf/gochan)"

num=0
failed=0
result() {	# result OK|FAIL|SKIP DESCRIPTION [REASON]
	num=$((num + 1))
	case $1 in
	OK)   echo "ok $num $2" ;;
	SKIP) echo "ok $num $2 # SKIP $3" ;;
	*)    echo "not ok $num $2${3:+ # $3}"; failed=1 ;;
	esac
}
# field LINE KEY: the value of " KEY=" in LINE.
field() {
	echo " $1" | sed -n "s/.* $2=\([0-9][0-9]*\).*/\1/p"
}
show() {	# a file as TAP diagnostics
	sed 's/^/# /' "$1"
}

# check_counts MODE: tests 1-4 with gochan-top -m MODE around the workload.
check_counts() {
	mode=$1
	"$TOP" -m "$mode" -- "$WORKLOAD" $N $K >"$tmp/report" 2>"$tmp/err"
	rc=$?
	show "$tmp/report"
	show "$tmp/err"
	if [ $rc -eq 69 ]; then
		for t in "traces a command" "exact counts" "blocks and wakes" "recv histogram"; do
			result SKIP "$mode: $t" "$(head -n 1 "$tmp/err")"
		done
		return
	fi

	# 1. It ran the command, reported, and passed its status on.
	want=$(grep '^workload ' "$tmp/report")
	if [ $rc -eq 0 ] && [ -n "$want" ] &&
	   grep -q "^# gochan-top: .*, $mode\$" "$tmp/report"; then
		result OK "$mode: traces a command and exits with its status"
	else
		result FAIL "$mode: traces a command and exits with its status" "exit status $rc"
	fi

	# 2. Exact counts on the workload's channel.
	id=$(field "$want" id)
	got=$(grep "^chan id=$id " "$tmp/report")
	bad=
	for key in make send sent recv received close; do
		w=$(field "$want" $key)
		g=$(field "$got" $key)
		[ -n "$w" ] && [ "$w" = "$g" ] || bad="$bad $key=${g:-none}(want ${w:-?})"
	done
	[ "$(field "$got" errors)" = 0 ] || bad="$bad errors=$(field "$got" errors)(want 0)"
	if [ -n "$id" ] && [ -z "$bad" ]; then
		result OK "$mode: make, send, recv, elements moved and close equal the workload's"
	else
		result FAIL "$mode: make, send, recv, elements moved and close equal the workload's" \
			"channel ${id:-?}:$bad"
	fi

	# 3. At least the K forced blocks, each completed by a wake.
	min=$(field "$want" block_min)
	block=$(field "$got" block)
	wake=$(field "$got" wake)
	if [ -n "$block" ] && [ -n "$min" ] && [ "$block" -ge "$min" ] &&
	   [ "$wake" -ge "$min" ]; then
		result OK "$mode: blocks and wakes are at least the $K forced blocking receives"
	else
		result FAIL "$mode: blocks and wakes are at least the $K forced blocking receives" \
			"block=${block:-none} wake=${wake:-none} want >= ${min:-?}"
	fi

	# 4. The blocked receives are in the recv histogram, slots adding up.
	hist=$(grep '^hist op=recv count=' "$tmp/report")
	count=$(field "$hist" count)
	sum=0
	for c in $(grep '^hist op=recv lo_ns=' "$tmp/report" | sed 's/.* count=\([0-9]*\).*/\1/'); do
		sum=$((sum + c))
	done
	if [ -n "$count" ] && [ "$count" -ge "$K" ] && [ "$sum" -eq "$count" ]; then
		result OK "$mode: the recv wait histogram holds the blocked receives"
	else
		result FAIL "$mode: the recv wait histogram holds the blocked receives" \
			"count=${count:-none} slots=$sum want >= $K"
	fi
}

# One run first: a tool that cannot trace at all skips the whole file.
"$TOP" -d 0 >/dev/null 2>"$tmp/err"
if [ $? -eq 69 ]; then
	echo "1..0 # SKIP gochan-top: $(head -n 1 "$tmp/err")"
	exit 4
fi
echo "1..$PLAN"
check_counts btf
check_counts tp

# 9-10. bpftool sees the programs (either set) while the tool runs, and
# not after.
"$TOP" -d 120 >"$tmp/bg" 2>&1 &
top_pid=$!
listed=
if [ ! -x "$BPFTOOL" ]; then
	result SKIP "bpftool prog show lists its programs while it runs" "no bpftool copy in $dir/bpftool"
else
	i=0
	while [ $i -lt 100 ]; do
		"$BPFTOOL" prog show >"$tmp/progs" 2>&1
		for set in gt_btf gt_tp; do
			missing=
			for op in $OPS; do
				grep -q "name ${set}_$op " "$tmp/progs" ||
					missing="$missing ${set}_$op"
			done
			[ -z "$missing" ] && break
		done
		[ -z "$missing" ] && listed=1 && break
		kill -0 "$top_pid" 2>/dev/null || break
		sleep 0.2 2>/dev/null || sleep 1
		i=$((i + 1))
	done
	grep -E "name gt_" "$tmp/progs" | sed 's/^/# /'
	if [ -n "$listed" ]; then
		result OK "bpftool prog show lists its programs while it runs"
	else
		show "$tmp/bg"
		result FAIL "bpftool prog show lists its programs while it runs" "missing:$missing"
	fi
fi

kill -INT "$top_pid" 2>/dev/null
wait "$top_pid"
rc=$?
top_pid=
after=
if [ -x "$BPFTOOL" ]; then
	"$BPFTOOL" prog show >"$tmp/progs" 2>&1
	after=$(grep -E "name gt_" "$tmp/progs")
fi
if [ $rc -eq 0 ] && grep -q '^# gochan-top: ' "$tmp/bg" && [ -z "$after" ]; then
	result OK "SIGINT stops it with a report and its programs unloaded"
else
	show "$tmp/bg"
	result FAIL "SIGINT stops it with a report and its programs unloaded" \
		"exit status $rc${after:+, still loaded}"
fi

# 11. Live mode: a table each interval, with the channels of workloads
# that run meanwhile in it.  The workloads run only between the first
# table and the third, while the programs are attached: attaching and
# detaching patch the tracepoints' jump sites in the module's text, and
# under TCG a vCPU running through a site being patched by another now and
# then trapped on the stale int3 (an Oops in gochan_chan_send, 6.12 guest).
tables() { grep -c '^gochan-top - ' "$tmp/live"; }
# wait_tables N: until the tool has printed N tables or exited (30 s at most)
wait_tables() {
	i=0
	while [ $i -lt 300 ] && [ "$(tables)" -lt "$1" ] && kill -0 $live_pid 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
}
"$TOP" -i 1 -n 4 -r 5 >"$tmp/live" 2>&1 &
live_pid=$!
wait_tables 1
touch "$tmp/more"
while [ -e "$tmp/more" ]; do
	"$WORKLOAD" 50 0 >/dev/null || break
done &
wl=$!
wait_tables 3
rm -f "$tmp/more"
wait $wl
wait $live_pid
rc=$?
tables=$(tables)
rows=$(grep -cE '^ +[0-9]+ +[0-9]+ +8 +50 ' "$tmp/live")
show "$tmp/live"
if [ $rc -eq 0 ] && [ "$tables" -eq 4 ] && [ "$rows" -gt 0 ]; then
	result OK "live mode prints a table every interval, with the busy channels"
else
	result FAIL "live mode prints a table every interval, with the busy channels" \
		"exit status $rc, $tables tables, $rows workload rows"
fi

[ $num -eq $PLAN ] || echo "# gochan_top.sh: planned $PLAN, ran $num"
exit $failed
