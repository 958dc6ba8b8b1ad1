#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Description: gochan-bridge loses no value when a bridge or the broker
# fails:
#  1. a consuming bridge killed with SIGKILL while it holds unacknowledged
#     values (prefetch=8 into a channel nobody receives from): another
#     host's bridge claims them after claim-idle and delivers them; every
#     value arrives exactly once (the killed one had sent none);
#  2. redis-server not answering (SIGSTOP) mid-stream: the producer's
#     channel fills and its sender blocks (back-pressure, no buffer growing
#     in the bridge);
#  3. the producing bridge killed with SIGKILL while it waits for the reply
#     to a batch, and redis-server killed too (its append-only file, fsync
#     always, has every write it acknowledged), both restarted: the batch is
#     taken up from the bridge's spool file and added; later redis-server is
#     stopped cleanly and started again mid-stream; the consuming bridge
#     reconnects each time, and every value arrives exactly once and in
#     order.
# Prints TAP; skips without the module or the bridge's guest bundle.

. "$(dirname "$0")/lib.sh"

begin 3
redis_start
host_new A
host_new B1
host_new B2

# 1. Kill a consuming bridge that holds 8 values.
N=40
mkchan $A k 64 16
mkchan $B1 k 64 0
mkchan $B2 k 64 4
conf $tmp/a1.conf "redis unix:$SOCK" "name host-a" "stats-interval 0" "out k s1"
conf $tmp/b1.conf "redis unix:$SOCK" "name host-b1" "stats-interval 0" \
	"claim-idle 2000" "in k s1 prefetch=8 batch=8"
conf $tmp/b2.conf "redis unix:$SOCK" "name host-b2" "stats-interval 0" \
	"claim-idle 2000" "in k s1"
bridge_start $A a1 $tmp/a1.conf; a1=$last
bridge_start $B1 b1 $tmp/b1.conf; b1=$last
on $A $PEER send k 5 $N
held() {
	stats s1 | grep -q "^consumer s1 gochan host-b1/k pending=8 "
}
why=
wait_for 120 held || why="bridge B1 never held 8 values: $(stats s1 | grep ^consumer)"
kill -9 $b1
wait_pid 30 $b1
bridge_start $B2 b2 $tmp/b2.conf; b2=$last
spawn_on $B2 $PEER recv k $N >$tmp/t1.out; recv=$last
wait_pid 180 $recv || why="${why:-the receiver on B2 got $(lines $tmp/t1.out) of $N}"
[ -z "$why" ] && ! wait_for 60 drained s1 && why="group not drained: $(stats s1 | grep ^group)"
bridge_stop $b2 >/dev/null
sort $tmp/t1.out >$tmp/t1.got
expect_values 5 $N | sort >$tmp/t1.want
[ -z "$why" ] && ! cmp -s $tmp/t1.got $tmp/t1.want &&
	why="$(lines $tmp/t1.got) values, $(uniq -d $tmp/t1.got | wc -l) duplicated"
claimed=$(field $tmp/b2.log claimed)
[ -z "$why" ] && [ "$claimed" != 8 ] && why="bridge B2 claimed ${claimed:-?} entries, not 8"
left=$(on $B1 $PEER stat k | cut -d' ' -f1)
[ -z "$why" ] && [ "$left" != 0 ] && why="B1's channel holds $left values"
if [ -z "$why" ]; then
	result OK "a consuming bridge killed holding 8 values: another claims and delivers them, $N arrive once each"
else
	show $tmp/a1.log $tmp/b1.log $tmp/b2.log
	result FAIL "a consuming bridge killed holding 8 values: another claims and delivers them, $N arrive once each" "$why"
fi
bridge_stop $a1 >/dev/null

# 2-3. Freeze redis-server mid-stream until the producing bridge holds a
# batch it sent (SIGSTOP: it waits for the reply), kill both, start both
# again; later stop and start redis-server again.  The producer sends a
# value every 50 ms, so the stream is still flowing when redis-server
# freezes, and the mapping has no capacity=: at capacity the bridge polls
# XINFO GROUPS every 50 ms, holding no batch, and most freezes caught it
# there (on a slow guest, 30 of them outlasted the test's 600 s).
N=600
mkchan $A r 64 16
mkchan $B1 r 64 16
conf $tmp/a2.conf "redis tcp://127.0.0.1:$PORT" "name host-a" "stats-interval 0" \
	"out r s2 batch=32 spool=$tmp/a2.spool"
conf $tmp/b2.conf "redis unix:$SOCK" "name host-b" "stats-interval 0" "in r s2"
bridge_start $A a2 $tmp/a2.conf; a2=$last
bridge_start $B1 b2 $tmp/b2.conf; b2=$last
spawn_on $B1 $PEER recv r $N >$tmp/t2.out; recv=$last
spawn_on $A $PEER send r 6 $N 50; producer=$last
why=
wait_for 180 at_least 100 $tmp/t2.out || why="only $(lines $tmp/t2.out) values arrived"
stats_lines() {
	grep -c " stats " $tmp/a2.log
}
full=0
held=0
tries=0
while [ -z "$why" ] && [ $tries -lt 30 ]; do
	tries=$((tries + 1))
	kill -STOP $redis_pid
	wait_for 120 on $A $PEER full r && full=$((full + 1))
	before=$(stats_lines)
	kill -USR1 $a2
	wait_for 30 sh -c "[ \$(grep -c ' stats ' $tmp/a2.log) -gt $before ]"
	held=$(field $tmp/a2.log held)
	[ "${held:-0}" -gt 0 ] && break
	# It was waiting for another reply (XINFO): let values flow, try again.
	kill -CONT $redis_pid
	got=$(lines $tmp/t2.out)
	wait_for 120 at_least $((got + 10)) $tmp/t2.out
done
echo "# froze redis-server $tries times; the producing bridge then held ${held:-?} values"
if [ "$full" -eq "$tries" ]; then
	result OK "redis-server not answering: the producer's channel fills and its sender blocks"
else
	result FAIL "redis-server not answering: the producer's channel fills and its sender blocks" \
		"only $full of $tries times; channel: $(on $A $PEER stat r)"
fi
[ -z "$why" ] && [ "${held:-0}" -eq 0 ] && why="the producing bridge never held a batch"
# Both die: the batch is in no server's memory, only in the spool.
kill -9 $a2 $redis_pid
wait_pid 30 $a2
wait_pid 30 $redis_pid
redis_start
cp $tmp/a2.log $tmp/a2-killed.log
bridge_start $A a2 $tmp/a2.conf; a2=$last
# Later, a clean stop (SIGTERM) and start of redis-server mid-stream.
got=$(lines $tmp/t2.out)
wait_for 180 at_least $((got + 50)) $tmp/t2.out || why="${why:-no value arrived after the restart}"
redis_stop
redis_start
wait_pid 300 $recv || why="${why:-the receiver got $(lines $tmp/t2.out) of $N}"
wait_pid 60 $producer || why="${why:-the producer failed}"
[ -z "$why" ] && ! wait_for 60 drained s2 && why="group not drained: $(stats s2 | grep ^group)"
bridge_stop $a2 >/dev/null
bridge_stop $b2 >/dev/null
expect_values 6 $N >$tmp/t2.want
[ -z "$why" ] && ! cmp -s $tmp/t2.out $tmp/t2.want &&
	why="$(lines $tmp/t2.out) values, $(sort $tmp/t2.out | uniq -d | wc -l) duplicated, $(grep -vxFf $tmp/t2.out $tmp/t2.want | wc -l) missing"
[ -z "$why" ] && ! grep -q "spool .*: taking up $held values" $tmp/a2.log &&
	why="the restarted bridge did not take up the $held values of its spool"
grep -h "spool\|redis:" $tmp/a2.log $tmp/b2.log | sed 's/^/# /'
if [ -z "$why" ]; then
	result OK "producing bridge and redis-server killed, redis-server restarted twice: $N values arrive once each, in order"
else
	show $tmp/a2-killed.log $tmp/a2.log $tmp/b2.log $tmp/redis.log
	result FAIL "producing bridge and redis-server killed, redis-server restarted twice: $N values arrive once each, in order" "$why"
fi

finish 3
