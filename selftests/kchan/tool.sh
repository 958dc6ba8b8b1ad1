#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Description: the gochan(1) command-line tool as a shell script uses it:
# make/send/recv/select/close/stat round trips, exit statuses (0 done,
# 1 closed, 2 usage, 3 timed out, 4 other error), text and signal channels,
# a recv loop that ends at close, a select across processes; named
# channels: open/unlink/list, two unrelated processes meeting by name.
# Prints TAP;
# needs /dev/gochan (else skips).
# Runs under busybox sh in the VM guest.

here=$(cd "$(dirname "$0")" && pwd)
G=${GOCHAN_TOOL:-$here/gochan}
KSFT_SKIP=4
n=0
failed=0
if tmp=$(mktemp -d 2>/dev/null); then
	trap 'rm -rf "$tmp"' EXIT
else
	tmp=$here
fi
errf=$tmp/tool.err

echo "TAP version 13"

# check NAME EXPECTED_STATUS EXPECTED_OUTPUT CMD...: run CMD, compare its
# exit status and its stdout (stderr is shown on failure).
check() {
	name=$1 want_rc=$2 want_out=$3
	shift 3
	n=$((n + 1))
	out=$("$@" 2>"$errf")
	rc=$?
	if [ "$rc" = "$want_rc" ] && [ "$out" = "$want_out" ]; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
		echo "# want status $want_rc, output '$want_out'"
		echo "# got  status $rc, output '$out'"
		sed 's/^/# stderr: /' "$errf"
		failed=$((failed + 1))
	fi
}

if [ ! -x "$G" ]; then
	echo "1..0 # SKIP $G not built"
	exit $KSFT_SKIP
fi

# Usage errors are status 2, help is 0.
check no_command_is_usage 2 "" "$G"
check unknown_command_is_usage 2 "" "$G" frobnicate
check help_succeeds 0 "$("$G" help)" "$G" help
check make_without_command_is_usage 2 "" "$G" make -s 8
check bad_fd_operand_is_usage 2 "" "$G" stat three
check negative_size_is_usage 2 "" "$G" make -s -1 -- true

# Something that is not a channel fd: status 4.
check non_channel_fd_is_error 4 "" sh -c "\"$G\" stat 0 </dev/null"

# Named channels' usage errors: status 2, before any device is opened.
check open_without_name_is_usage 2 "" "$G" open -c
check open_without_command_is_usage 2 "" "$G" open -c some-name --
check open_excl_without_create_is_usage 2 "" "$G" open -x some-name -- true
check open_size_without_create_is_usage 2 "" "$G" open -s 8 some-name -- true
check open_bad_mode_is_usage 2 "" "$G" open -c -m 0999 some-name -- true
check open_mode_beyond_0777_is_usage 2 "" "$G" open -c -m 1777 some-name -- true
check unlink_without_name_is_usage 2 "" "$G" unlink
check list_with_operand_is_usage 2 "" "$G" list extra

if [ ! -e /dev/gochan ]; then
	echo "# SKIP the rest: /dev/gochan absent, gochan module not loaded"
	echo "1..$n"
	[ $failed = 0 ]
	exit
fi

# make runs the command with the channel in $GOCHAN_FD; a text element
# goes through and comes out with a newline.
check text_round_trip 0 "hello" \
	"$G" make -s 16 -c 4 -- sh -c '"$0" send $GOCHAN_FD hello && "$0" recv $GOCHAN_FD' "$G"

# DATA longer than the element is a usage error, nothing sent.
check data_longer_than_element_is_usage 2 "len: 0" \
	"$G" make -s 4 -c 1 -- sh -c '"$0" send $GOCHAN_FD toolong; rc=$?; "$0" stat $GOCHAN_FD | grep "^len:"; exit $rc' "$G"

# An exactly element-sized DATA (no NUL inside) prints whole.
check full_element_prints_whole 0 "abcd" \
	"$G" make -s 4 -c 1 -- sh -c '"$0" send $GOCHAN_FD abcd && "$0" recv $GOCHAN_FD' "$G"

# -r prints all the element's bytes: "ab" and two NULs is 4 bytes.
check raw_recv_prints_every_byte 0 "4" \
	"$G" make -s 4 -c 1 -- sh -c '"$0" send $GOCHAN_FD ab && "$0" recv -r $GOCHAN_FD | wc -c | tr -d " "' "$G"

# -t 0 on an empty channel does not wait: status 3; so does -t 50, later.
check try_recv_on_empty_times_out 3 "" \
	"$G" make -s 8 -c 1 -- sh -c 'exec "$0" recv -t 0 $GOCHAN_FD' "$G"
check timed_recv_on_empty_times_out 3 "" \
	"$G" make -s 8 -c 1 -- sh -c 'exec "$0" recv -t 50 $GOCHAN_FD' "$G"
# -t 0 send on a full channel: status 3.
check try_send_on_full_times_out 3 "" \
	"$G" make -s 8 -c 1 -- sh -c '"$0" send $GOCHAN_FD x && exec "$0" send -t 0 $GOCHAN_FD y' "$G"

# stat prints the fields; after one send len is 1.
check stat_shows_capacity_and_len 0 "capacity: 3
len: 1
closed: 0" \
	"$G" make -s 8 -c 3 -- sh -c '"$0" send $GOCHAN_FD x && "$0" stat $GOCHAN_FD | grep -E "^(capacity|len|closed):"' "$G"

# After close: buffered elements drain, then recv says 1 (closed).
check recv_drains_then_reports_closed 0 "a b 1" \
	"$G" make -s 8 -c 4 -- sh -c '
		"$0" send $GOCHAN_FD a && "$0" send $GOCHAN_FD b && "$0" close $GOCHAN_FD || exit 9
		x=$("$0" recv $GOCHAN_FD) && y=$("$0" recv $GOCHAN_FD) || exit 8
		"$0" recv $GOCHAN_FD; echo "$x $y $?"' "$G"

# send after close and a second close are status 1.
check send_after_close_is_closed 1 "" \
	"$G" make -s 8 -c 4 -- sh -c '"$0" close $GOCHAN_FD && exec "$0" send $GOCHAN_FD a' "$G"
check close_twice_is_closed 1 "" \
	"$G" make -- sh -c '"$0" close $GOCHAN_FD && exec "$0" close $GOCHAN_FD' "$G"

# A signal channel (size 0): send takes no DATA, recv prints nothing.
check signal_channel_round_trip 0 "" \
	"$G" make -c 1 -- sh -c '"$0" send $GOCHAN_FD && "$0" recv $GOCHAN_FD' "$G"

# Unbuffered between two processes: the receiver gets what the sender sent.
check unbuffered_between_processes 0 "ping" \
	"$G" make -s 8 -- sh -c '"$0" send $GOCHAN_FD ping & "$0" recv $GOCHAN_FD; wait $!' "$G"

# The loop idiom: read until the producer closes.
check recv_loop_ends_at_close 0 "1 2 3" \
	"$G" make -s 8 -- sh -c '
		(for i in 1 2 3; do "$0" send $GOCHAN_FD $i; done; "$0" close $GOCHAN_FD) &
		all=; while v=$("$0" recv $GOCHAN_FD); do all="$all${all:+ }$v"; done
		wait $!; echo "$all"' "$G"

# -e names the variable, so makes nest: two channels, two variables.
check nested_makes_with_named_variables 0 "x y" \
	"$G" make -e A -s 4 -c 1 -- "$G" make -e B -s 4 -c 1 -- sh -c '
		"$0" send $A x && "$0" send $B y && echo "$("$0" recv $A) $("$0" recv $B)"' "$G"

# select: the ready receive case's index and value, on one line.
check select_prints_index_and_value 0 "1 hi" \
	"$G" make -e A -s 8 -c 1 -- "$G" make -e B -s 8 -c 1 -- sh -c '
		"$0" send $B hi && exec "$0" select recv:$A recv:$B' "$G"

# A send case prints its index alone; the value went to its channel.
check select_send_case_prints_index 0 "1
x" \
	"$G" make -e A -s 8 -c 1 -- "$G" make -e B -s 8 -c 1 -- sh -c '
		"$0" send $A full || exit 9
		"$0" select send:$A:y send:$B:x && exec "$0" recv $B' "$G"

# -t 0 with no case ready does not wait, -t 50 waits: both status 3.
check select_try_with_nothing_ready_times_out 3 "" \
	"$G" make -e A -s 8 -- "$G" make -e B -c 1 -- sh -c '
		exec "$0" select -t 0 recv:$A recv:$B' "$G"
check select_timed_with_nothing_ready_times_out 3 "" \
	"$G" make -e A -s 8 -- sh -c 'exec "$0" select -t 50 recv:$A send:$A:v' "$G"

# A closed, drained channel's receive case runs: its index, status 1.
check select_recv_on_closed_prints_index_exits_1 1 "1" \
	"$G" make -e A -s 8 -- "$G" make -e B -s 8 -- sh -c '
		"$0" close $B && exec "$0" select recv:$A recv:$B' "$G"

# A send case on a closed channel: its index, status 1, nothing sent.
check select_send_on_closed_prints_index_exits_1 1 "0" \
	"$G" make -e A -s 8 -c 2 -- "$G" make -e B -s 8 -- sh -c '
		"$0" close $A && exec "$0" select send:$A:v recv:$B' "$G"

# A signal channel's receive prints the index alone.
check select_signal_channel 0 "0" \
	"$G" make -e S -c 1 -- sh -c '"$0" send $S && exec "$0" select recv:$S' "$G"

# Another process sends on the second channel while select waits on both.
check select_between_processes 0 "1 ping" \
	"$G" make -e A -s 8 -- "$G" make -e B -s 8 -- sh -c '
		"$0" send $B ping & "$0" select recv:$A recv:$B; wait $!' "$G"

# Usage: no case, a malformed case, data on a receive, data too long.
check select_without_cases_is_usage 2 "" "$G" select
check select_bad_case_is_usage 2 "" "$G" select frob:3
check select_recv_with_data_is_usage 2 "" \
	"$G" make -s 8 -- sh -c 'exec "$0" select recv:$GOCHAN_FD:x' "$G"
check select_data_longer_than_element_is_usage 2 "" \
	"$G" make -s 2 -c 1 -- sh -c 'exec "$0" select send:$GOCHAN_FD:long' "$G"
# A case on something that is not a channel: status 4.
check select_non_channel_fd_is_error 4 "" sh -c "\"$G\" select recv:0 </dev/null"

# Named channels.  Names carry the pid: tests running at once do not meet.
N=tooltest-$$

# Two unrelated processes (neither inherits a channel fd from the other)
# meet by name: whichever comes first makes it (-c), the other opens it;
# unbuffered, so the send waits for the receive.
check named_channel_between_unrelated_processes 0 "hello" sh -c '
	G=$0 N=$1
	"$G" open -c -r -s 16 "$N" -- sh -c "exec \"$G\" recv \$GOCHAN_FD" & r=$!
	"$G" open -c -w -s 16 "$N" -- sh -c "exec \"$G\" send \$GOCHAN_FD hello"; s=$?
	wait $r; rc=$?
	"$G" unlink "$N" && exit $((s + rc))' "$G" $N

# A buffered named channel keeps its element after every fd is closed.
check named_channel_outlives_its_fds 0 "kept" sh -c '
	G=$0 N=$1
	"$G" open -c -x -s 8 -k 1 "$N" -- sh -c "exec \"$G\" send \$GOCHAN_FD kept" &&
	"$G" open "$N" -- sh -c "exec \"$G\" recv \$GOCHAN_FD"' "$G" $N

# -c opens an existing name of the same shape; -x refuses it (status 4);
# another shape is refused too; a name that is not there is status 4.
check open_create_opens_existing 0 "" "$G" open -c -s 8 -k 1 $N -- true
check open_excl_existing_is_error 4 "" "$G" open -c -x -s 8 -k 1 $N -- true
check open_other_shape_is_error 4 "" "$G" open -c -s 16 -k 1 $N -- true
check open_missing_name_is_error 4 "" "$G" open tooltest-no-such-name -- true
check open_bad_name_is_error 4 "" "$G" open -c "a b" -- true

# The listing: a header, then the name with its shape and mode.
"$G" open -c -m 640 -s 8 -k 3 $N-l -- sh -c '"$0" send $GOCHAN_FD x' "$G"
check list_shows_the_name 0 "$N-l 8 3 1 0 640" sh -c '
	"$0" list | awk -v n="$1" "NR == 1 && !/^# NAME / { exit 1 } \$1 == n { print \$1, \$3, \$4, \$5, \$6, \$7 }"' "$G" $N-l

# -r: the fd receives only; a send on it is an error (status 4), not a
# closed channel.
check open_recv_only_fd_cannot_send 4 "" \
	"$G" open -r $N-l -- sh -c 'exec "$0" send $GOCHAN_FD y' "$G"
check open_send_only_fd_cannot_recv 4 "" \
	"$G" open -w $N-l -- sh -c 'exec "$0" recv -t 0 $GOCHAN_FD' "$G"

# unlink removes the name (listing and open no more find it) while an open
# fd keeps working; a second unlink is status 4.
check unlink_keeps_open_fds_working 0 "x" \
	"$G" open $N-l -- sh -c '
		"$0" unlink "$1" || exit 9
		"$0" list | grep -q "^$1 " && exit 8
		"$0" open "$1" -- true 2>/dev/null && exit 7
		exec "$0" recv $GOCHAN_FD' "$G" $N-l
check unlink_missing_name_is_error 4 "" "$G" unlink $N-l
check unlink_first_name 0 "" "$G" unlink $N

# open of a command that does not exist: 127, as make.
check open_of_missing_command_is_127 127 "" "$G" open -c $N -- /nonexistent/cmd
"$G" unlink $N 2>/dev/null

# make of a command that does not exist: 127, as a shell says.
check make_of_missing_command_is_127 127 "" "$G" make -- /nonexistent/cmd

echo "1..$n"
[ $failed = 0 ]
