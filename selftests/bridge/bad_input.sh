#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Description: gochan-bridge refuses bad input clearly, at start:
#  1. a stream whose elements have another size (exit 1, "element size
#     mismatch"), never a truncated value;
#  2. a channel that does not exist (exit 1, "does not exist");
#  3. a wrong password for a Redis ACL user, read from a file (exit 1,
#     WRONGPASS), while the right one works;
#  4. an entry of another size written into a bridged stream by someone
#     else is skipped and counted (bad=1), never delivered; the values
#     around it arrive intact.
# Prints TAP; skips without the module or the bridge's guest bundle.

. "$(dirname "$0")/lib.sh"

begin 4
redis_start
host_new A
host_new B

# expect_exit NAME STATUS TEXT CMD...: CMD exits with STATUS and says TEXT.
expect_exit() {
	_name=$1 _want=$2 _text=$3
	shift 3
	"$@" >$tmp/out 2>&1
	_rc=$?
	sed 's/^/# /' $tmp/out
	if [ $_rc -eq "$_want" ] && grep -q "$_text" $tmp/out; then
		result OK "$_name"
	else
		result FAIL "$_name" "exit status $_rc, want $_want and \"$_text\""
	fi
}

# 1. The stream holds 32-byte values; the channel's are 64 bytes.
mkchan $A sized 64 0
rcli HSET s1:gochan-meta elem_size 32 format 1 >/dev/null
expect_exit "a stream of 32-byte values and a 64-byte channel: clear error at start" \
	1 "element size mismatch: stream s1 holds 32-byte values" \
	on $A timeout 60 "$BRIDGE" -r "unix:$SOCK" --map "out sized s1"

# 2. No such channel in this host's IPC namespace.
expect_exit "a channel that does not exist: clear error at start" \
	1 "channel nosuch does not exist" \
	on $A timeout 60 "$BRIDGE" -r "unix:$SOCK" --map "in nosuch s2"

# 3. An ACL user; its password from a file.
rcli ACL SETUSER gbridge on '>right-password' '~*' '&*' '+@all' >/dev/null
echo wrong-password >$tmp/wrong.pass
echo right-password >$tmp/right.pass
chmod 600 $tmp/wrong.pass $tmp/right.pass
on $A timeout 60 "$BRIDGE" -r "tcp://127.0.0.1:$PORT" --user gbridge \
	--password-file $tmp/wrong.pass --map "out sized s3" >$tmp/wrong.out 2>&1
wrong=$?
timeout 60 "$BRIDGE" --stats -r "tcp://127.0.0.1:$PORT" --user gbridge \
	--password-file $tmp/right.pass --map "in - s3" >$tmp/right.out 2>&1
right=$?
sed 's/^/# /' $tmp/wrong.out
if [ $wrong -eq 1 ] && grep -q "authentication as gbridge: WRONGPASS" $tmp/wrong.out &&
   [ $right -eq 0 ]; then
	result OK "a wrong password from a file: clear error at start; the right one is accepted"
else
	show $tmp/right.out
	result FAIL "a wrong password from a file: clear error at start; the right one is accepted" \
		"wrong: exit status $wrong; right: exit status $right"
fi

# 4. A foreign 5-byte entry among 10 good ones.
N=10
mkchan $A d 64 16
mkchan $B d 64 16
conf $tmp/a4.conf "redis unix:$SOCK" "name host-a" "stats-interval 0" "out d s4"
conf $tmp/b4.conf "redis unix:$SOCK" "name host-b" "stats-interval 0" "in d s4"
bridge_start $A a4 $tmp/a4.conf; a4=$last
wait_for 60 sh -c "[ \"\$('$CLI' -s '$SOCK' HGET s4:gochan-meta elem_size)\" = 64 ]"
rcli XADD s4 '*' v short >/dev/null
bridge_start $B b4 $tmp/b4.conf; b4=$last
spawn_on $B $PEER recv d $N >$tmp/t4.out; recv=$last
on $A $PEER send d 8 $N
why=
wait_pid 120 $recv || why="the receiver got $(lines $tmp/t4.out) of $N"
[ -z "$why" ] && ! wait_for 60 drained s4 && why="group not drained"
bridge_stop $b4 >/dev/null
bridge_stop $a4 >/dev/null
expect_values 8 $N >$tmp/t4.want
[ -z "$why" ] && ! cmp -s $tmp/t4.out $tmp/t4.want && why="received $(lines $tmp/t4.out) values, not the $N in order"
bad=$(field $tmp/b4.log bad)
[ -z "$why" ] && [ "$bad" != 1 ] && why="bad=${bad:-?}, want 1"
[ -z "$why" ] && ! grep -q "holds 5 bytes, not 64: not delivered" $tmp/b4.log && why="no message about the entry"
left=$(on $B $PEER stat d | cut -d' ' -f1)
[ -z "$why" ] && [ "$left" != 0 ] && why="B's channel holds $left values more"
if [ -z "$why" ]; then
	result OK "a foreign entry of another size is skipped and counted, the $N values around it arrive"
else
	show $tmp/a4.log $tmp/b4.log
	result FAIL "a foreign entry of another size is skipped and counted, the $N values around it arrive" "$why"
fi

finish 4
