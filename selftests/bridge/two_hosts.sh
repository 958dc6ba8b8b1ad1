#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Description: gochan-bridge carries a channel's values between two hosts
# (two IPC namespaces, each with its own named channels and its own bridge,
# one reaching redis-server over TCP, the other over its Unix socket):
#  1. one producer on A, one receiver on B, bridges authenticated as an ACL
#     user with the least rights (README): every value arrives once, in
#     order, byte for byte, and nothing is left over;
#  2. two producers and two receivers on each host, both hosts bridging out
#     and in: every value arrives exactly once, each receiver sees each
#     producer's values in order;
#  3. capacity=N across hosts: with no receiver anywhere, the stream holds
#     exactly N values and the producer blocks; once a host receives,
#     every value arrives;
#  4. a signal channel (elements of 0 bytes, Go's chan struct{}): every
#     signal arrives once.
# Prints TAP; skips without the module or the bridge's guest bundle.

. "$(dirname "$0")/lib.sh"

begin 4
redis_start
host_new A
host_new B

# 1. A -> B, one producer, one receiver; both bridges as an ACL user with
# only the rights the README lists.
N=500
mkchan $A orders 64 16
mkchan $B orders 64 16
rcli ACL SETUSER gochan on '>s3cret' '~gochan:*' resetchannels +@stream +type \
	+hget +hset +hsetnx +hmget +eval +evalsha '+script|load' '+client|setname' \
	+ping >/dev/null
echo s3cret >$tmp/pass
chmod 600 $tmp/pass
conf $tmp/a1.conf "redis tcp://127.0.0.1:$PORT" "user gochan" "password-file $tmp/pass" \
	"name host-a" "stats-interval 0" "out orders gochan:s1"
conf $tmp/b1.conf "redis unix:$SOCK" "user gochan" "password-file $tmp/pass" \
	"name host-b" "stats-interval 0" "in orders gochan:s1"
bridge_start $A a1 $tmp/a1.conf; a1=$last
bridge_start $B b1 $tmp/b1.conf; b1=$last
spawn_on $B $PEER recv orders $N >$tmp/t1.out; recv=$last
on $A $PEER send orders 1 $N
wait_pid 180 $recv; rc=$?
expect_values 1 $N >$tmp/t1.want
why=
[ $rc -eq 0 ] || why="receiver exit status $rc"
[ -z "$why" ] && ! cmp -s $tmp/t1.out $tmp/t1.want &&
	why="received $(lines $tmp/t1.out) values, not the $N sent in order"
[ -z "$why" ] && ! wait_for 60 drained gochan:s1 && why="group not drained: $(stats gochan:s1 | grep ^group)"
bridge_stop $b1; st=$?
[ -z "$why" ] && [ $st -ne 0 ] && why="bridge B exit status $st"
left=$(on $B $PEER stat orders | cut -d' ' -f1)
[ -z "$why" ] && [ "$left" != 0 ] && why="$left values more in B's channel"
if [ -z "$why" ]; then
	result OK "one producer: $N values arrive on the other host once each, in order"
else
	show $tmp/a1.log $tmp/b1.log
	result FAIL "one producer: $N values arrive on the other host once each, in order" "$why"
fi
bridge_stop $a1 >/dev/null

# 2. Both hosts produce and receive: 2 producers and 2 receivers each.
N=250
for h in $A $B; do
	mkchan $h jobs 64 8
	mkchan $h work 64 8
done
conf $tmp/a2.conf "redis tcp://127.0.0.1:$PORT" "name host-a" "stats-interval 0" \
	"out jobs s2" "in work s2 batch=16"
conf $tmp/b2.conf "redis unix:$SOCK" "name host-b" "stats-interval 0" \
	"out jobs s2" "in work s2 batch=16"
bridge_start $A a2 $tmp/a2.conf; a2=$last
bridge_start $B b2 $tmp/b2.conf; b2=$last
receivers=
for r in a1 a2; do
	spawn_on $A $PEER recv work >$tmp/t2.$r; receivers="$receivers $last"
done
for r in b1 b2; do
	spawn_on $B $PEER recv work >$tmp/t2.$r; receivers="$receivers $last"
done
producers=
for p in 1 2; do
	spawn_on $A $PEER send jobs $p $N; producers="$producers $last"
done
for p in 3 4; do
	spawn_on $B $PEER send jobs $p $N; producers="$producers $last"
done
why=
for p in $producers; do
	wait_pid 300 $p || why="a producer failed"
done
total=$((4 * N))
[ -z "$why" ] && ! wait_for 240 at_least $total $tmp/t2.a1 $tmp/t2.a2 $tmp/t2.b1 $tmp/t2.b2 &&
	why="only $(lines $tmp/t2.*) of $total values arrived"
[ -z "$why" ] && ! wait_for 60 drained s2 && why="group not drained: $(stats s2 | grep ^group)"
bridge_stop $a2 >/dev/null
bridge_stop $b2 >/dev/null
# Nothing can arrive any more: end the receivers.
on $A $PEER close work
on $B $PEER close work
for r in $receivers; do
	wait_pid 60 $r || why="${why:-a receiver failed}"
done
cat $tmp/t2.a1 $tmp/t2.a2 $tmp/t2.b1 $tmp/t2.b2 | sort >$tmp/t2.got
for p in 1 2 3 4; do
	expect_values $p $N
done | sort >$tmp/t2.want
[ -z "$why" ] && ! cmp -s $tmp/t2.got $tmp/t2.want &&
	why="$(lines $tmp/t2.got) values, $(uniq -d $tmp/t2.got | wc -l) duplicated, $(grep -vxFf $tmp/t2.got $tmp/t2.want | wc -l) missing"
for r in a1 a2 b1 b2; do
	awk '($1 in last) && $2 <= last[$1] { bad = 1 } { last[$1] = $2 } END { exit bad }' \
		$tmp/t2.$r || why="${why:-receiver $r saw a producer's values out of order}"
done
echo "# values per receiver: a1 $(lines $tmp/t2.a1), a2 $(lines $tmp/t2.a2), b1 $(lines $tmp/t2.b1), b2 $(lines $tmp/t2.b2)"
if [ -z "$why" ]; then
	result OK "4 producers, 4 receivers on two hosts: each of $total values arrives exactly once"
else
	show $tmp/a2.log $tmp/b2.log
	result FAIL "4 producers, 4 receivers on two hosts: each of $total values arrives exactly once" "$why"
fi

# 3. capacity=5: no receiver yet, so the stream holds 5 and the producer blocks.
N=30
mkchan $A capped 64 4
mkchan $B capped 64 4
conf $tmp/a3.conf "redis unix:$SOCK" "name host-a" "stats-interval 0" \
	"out capped s3 capacity=5"
conf $tmp/b3.conf "redis unix:$SOCK" "name host-b" "stats-interval 0" \
	"in capped s3"
bridge_start $A a3 $tmp/a3.conf; a3=$last
spawn_on $A $PEER send capped 7 $N; producer=$last
length() {
	stats s3 | sed -n 's/^stream s3 length=\([0-9]*\).*/\1/p'
}
# Blocked, with the bridge's batch added: without the cap the producer
# could block only once the stream held all but the channel's 4.
blocked() {
	on $A $PEER full capped && [ "$(length)" -ge 5 ]
}
why=
wait_for 120 blocked || why="the producer never blocked with 5 entries in the stream"
length=$(length)
[ -z "$why" ] && [ "$length" != 5 ] && why="the stream holds ${length:-?} entries, not 5"
bridge_start $B b3 $tmp/b3.conf; b3=$last
spawn_on $B $PEER recv capped $N >$tmp/t3.out; recv=$last
wait_pid 180 $recv || why="${why:-the receiver failed}"
wait_pid 60 $producer || why="${why:-the producer failed}"
expect_values 7 $N >$tmp/t3.want
[ -z "$why" ] && ! cmp -s $tmp/t3.out $tmp/t3.want && why="received $(lines $tmp/t3.out) of $N in order"
if [ -z "$why" ]; then
	result OK "capacity=5: the stream holds 5 while nobody receives, then all $N arrive"
else
	show $tmp/a3.log $tmp/b3.log
	result FAIL "capacity=5: the stream holds 5 while nobody receives, then all $N arrive" "$why"
fi
bridge_stop $a3 >/dev/null
bridge_stop $b3 >/dev/null

# 4. Signals: 0-byte elements.
N=100
mkchan $A sig 0 4
mkchan $B sig 0 4
conf $tmp/a4.conf "redis unix:$SOCK" "name host-a" "stats-interval 0" "out sig s4"
conf $tmp/b4.conf "redis unix:$SOCK" "name host-b" "stats-interval 0" "in sig s4"
bridge_start $A a4 $tmp/a4.conf; a4=$last
bridge_start $B b4 $tmp/b4.conf; b4=$last
spawn_on $B $PEER recv sig $N >$tmp/t4.out; recv=$last
on $A $PEER send sig 0 $N
why=
wait_pid 120 $recv || why="the receiver got $(lines $tmp/t4.out) of $N"
[ -z "$why" ] && ! wait_for 60 drained s4 && why="group not drained: $(stats s4 | grep ^group)"
bridge_stop $b4 >/dev/null
bridge_stop $a4 >/dev/null
left=$(on $B $PEER stat sig | cut -d' ' -f1)
[ -z "$why" ] && [ "$(grep -c '^signal$' $tmp/t4.out)" != $N ] && why="$(lines $tmp/t4.out) lines, not $N signals"
[ -z "$why" ] && [ "$left" != 0 ] && why="$left signals more in B's channel"
if [ -z "$why" ]; then
	result OK "a signal channel (0-byte elements): $N signals arrive once each"
else
	show $tmp/a4.log $tmp/b4.log
	result FAIL "a signal channel (0-byte elements): $N signals arrive once each" "$why"
fi

finish 4
