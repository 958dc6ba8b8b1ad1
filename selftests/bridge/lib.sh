# SPDX-License-Identifier: GPL-2.0
# selftests/bridge/lib.sh - sourced by the bridge tests: a real redis-server
# in a temporary directory, "hosts" (each an IPC namespace of its own, so
# that each has its own named channels, as separate machines would), the
# bridges and the local ends (bridge_peer) in them, TAP lines, and the
# cleanup that stops every process the test started, by its pid.
#
# Written for busybox sh: it runs in the VM guest.  Waits have generous
# upper bounds (TCG is slow and the machine shared); no check depends on
# how long anything took.

here=$(cd "$(dirname "$0")" && pwd)
GUEST=${BRIDGE_GUEST:-$here/../../tools/bridge/guest}
BRIDGE=$GUEST/gochan-bridge
REDIS=$GUEST/redis-server
CLI=$GUEST/redis-cli
PEER=$here/bridge_peer
KSFT_SKIP=4

num=0
failed=0
pids=		# processes to kill at exit
hosts=		# the hosts' namespace holders, killed last
chans=		# HOST:NAME of every channel made, unlinked at exit
tmp=

result() {	# result OK|FAIL DESCRIPTION [REASON]
	num=$((num + 1))
	case $1 in
	OK) echo "ok $num $2" ;;
	*)  echo "not ok $num $2${3:+ # $3}"; failed=1 ;;
	esac
}

show() {	# show FILE...: as TAP diagnostics
	for f in "$@"; do
		[ -s "$f" ] && sed "s|^|# ${f##*/}: |" "$f"
	done
	return 0
}

# Names stay in an IPC namespace that died until the module is unloaded
# (README, "Named channels"), and their rings count against the module's
# max_total_bytes: unlink them while their hosts still hold the namespaces.
cleanup() {
	for p in $pids; do
		kill -9 "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	for c in $chans; do
		nsenter -F -t "${c%%:*}" -i "$PEER" unlink "${c#*:}"
	done
	for p in $hosts; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -n "$tmp" ] && rm -rf "$tmp"
}

# begin PLAN: the TAP header, or skip the whole file.
begin() {
	echo "TAP version 13"
	skip=
	[ -e /dev/gochan ] || skip="/dev/gochan is absent (module not loaded)"
	[ -x "$BRIDGE" ] && [ -x "$REDIS" ] && [ -x "$CLI" ] ||
		skip="no $GUEST/{gochan-bridge,redis-server,redis-cli} (make -C tools/bridge)"
	[ -x "$PEER" ] || skip="no $PEER"
	if [ -n "$skip" ]; then
		echo "1..0 # SKIP $skip"
		exit $KSFT_SKIP
	fi
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/bridge.XXXXXX") || exit 1
	trap cleanup EXIT
	trap 'exit 1' INT TERM
	echo "1..$1"
}

# spawn CMD...: run CMD (a program, not a function: its pid must be the
# program's) in the background; its pid is in $last, and it is killed at
# exit if still running.
spawn() {
	"$@" &
	last=$!
	pids="$pids $last"
}

# spawn_on HOST CMD...: spawn CMD in HOST (nsenter -F execs it: same pid).
spawn_on() {
	_h=$1
	shift
	nsenter -F -t "$_h" -i "$@" &
	last=$!
	pids="$pids $last"
}

# wait_for SECS CMD...: until CMD succeeds (status 0), or 1 after SECS.
wait_for() {
	_t=$(($1 * 10))
	shift
	while ! "$@"; do
		_t=$((_t - 1))
		[ $_t -le 0 ] && return 1
		sleep 0.1
	done
	return 0
}

# wait_pid SECS PID: wait for PID to exit; its status, or 124 after SECS
# (then it is killed).
wait_pid() {
	_t=$(($1 * 10))
	while kill -0 "$2" 2>/dev/null && [ -d "/proc/$2" ] &&
	      ! grep -q '^State:.*Z' "/proc/$2/status" 2>/dev/null; do
		_t=$((_t - 1))
		if [ $_t -le 0 ]; then
			kill -9 "$2" 2>/dev/null
			wait "$2" 2>/dev/null
			return 124
		fi
		sleep 0.1
	done
	wait "$2"
}

# host_new VAR: a new host, an IPC namespace held by a sleeping process
# whose pid goes in VAR; on VAR CMD runs CMD in it.
host_new() {
	unshare -i sleep 100000 &
	last=$!
	hosts="$hosts $last"
	_self=$(readlink /proc/self/ns/ipc)
	wait_for 30 sh -c "[ \"\$(readlink /proc/$last/ns/ipc)\" != '$_self' ]" || {
		echo "# unshare -i did not make an IPC namespace"
		exit 1
	}
	eval "$1=$last"
}

on() {
	_h=$1
	shift
	nsenter -F -t "$_h" -i "$@"
}

# mkchan HOST NAME ELEM_SIZE CAPACITY: a named channel in HOST (mode
# 0666), unlinked at exit.
mkchan() {
	on "$1" "$PEER" make "$2" "$3" "$4" || exit 1
	chans="$chans $1:$2"
}

# redis_start: a redis-server on a free loopback port ($PORT) and a Unix
# socket ($SOCK), its data and append-only file (fsync always) in
# $tmp/redis; again after redis_stop, on the same port, socket and data.
SOCK=
PORT=
redis_start() {
	SOCK=$tmp/redis.sock
	if [ -z "$PORT" ]; then
		PORT=$((20000 + $$ % 20000))
		while netstat -ltn 2>/dev/null | grep -q ":$PORT "; do
			PORT=$((PORT + 1))
		done
	fi
	mkdir -p "$tmp/redis"
	spawn "$REDIS" --port "$PORT" --bind 127.0.0.1 --unixsocket "$SOCK" \
		--unixsocketperm 700 --dir "$tmp/redis" --appendonly yes \
		--appendfsync always --save "" --daemonize no \
		--logfile "$tmp/redis.log" "$@"
	redis_pid=$last
	wait_for 60 redis_ping || {
		echo "# redis-server did not start"
		show "$tmp/redis.log"
		exit 1
	}
}

redis_ping() {
	[ "$("$CLI" -s "$SOCK" ping 2>/dev/null)" = PONG ]
}

rcli() {
	"$CLI" -s "$SOCK" "$@"
}

# redis_stop: SIGTERM, as a service manager stops it; waits until it exited.
redis_stop() {
	kill -TERM "$redis_pid"
	wait_pid 60 "$redis_pid"
}

# conf FILE LINE...: write a bridge configuration file.
conf() {
	_f=$1
	shift
	printf '%s\n' "$@" >"$_f"
}

# bridge_start HOST NAME CONF: gochan-bridge -c CONF in HOST, its output
# in $tmp/NAME.log; its pid in $last.
bridge_start() {
	spawn_on "$1" "$BRIDGE" -c "$3" >"$tmp/$2.log" 2>&1
}

# bridge_stop PID: SIGTERM, then its exit status (124: it did not stop).
bridge_stop() {
	kill -TERM "$1" 2>/dev/null
	wait_pid 60 "$1"
}

# stats STREAM: gochan-bridge --stats for STREAM (the group gochan).
stats() {
	"$BRIDGE" --stats -r "unix:$SOCK" --map "in - $1" 2>&1
}

# drained STREAM: nothing pending and nothing left to read in the group.
drained() {
	stats "$1" | grep -q "^group $1 gochan .* pending=0 lag=0 "
}

# lines FILE...: the number of lines of FILEs together.
lines() {
	cat "$@" 2>/dev/null | wc -l
}

# at_least N FILE...: the FILEs hold N lines or more.
at_least() {
	_n=$1
	shift
	[ "$(lines "$@")" -ge "$_n" ]
}

# expect_values PRODUCER COUNT: "PRODUCER SEQ" for SEQ 0..COUNT-1.
expect_values() {
	seq 0 $(($2 - 1)) | sed "s/^/$1 /"
}

# field FILE KEY: the last value of " KEY=" in FILE.
field() {
	sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1" | tail -n 1
}

finish() {
	[ "$num" -eq "$1" ] || echo "# $(basename "$0"): planned $1, ran $num"
	exit $failed
}
