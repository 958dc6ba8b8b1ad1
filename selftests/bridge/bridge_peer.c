// SPDX-License-Identifier: GPL-2.0
/*
 * Description: the local ends of gochan-bridge's tests: makes named
 * channels, sends tagged values into them, receives and checks values, and
 * reports a channel's state, so that bridge.sh can count every value.
 *
 * A value is the channel's elem_size bytes (0, or at least 8): the producer's id
 * and the value's sequence number (two little-endian u32), then bytes that
 * are a function of both and of their offset, running through every byte
 * value (NUL, CR, LF ... : the bridge must be binary-safe).  A receiver
 * checks every byte, so a truncated, padded or mixed-up value is an error,
 * and prints "PRODUCER SEQ" per value, so that the script can count them
 * (a signal channel's values, which carry nothing, print "signal").
 *
 *	bridge_peer make NAME ELEM_SIZE CAPACITY
 *	bridge_peer send NAME PRODUCER COUNT [GAP_MS]
 *	                                          send COUNT values, seq 0..COUNT-1,
 *	                                          GAP_MS apart (default 0)
 *	bridge_peer recv NAME [COUNT]             until COUNT values, or closed
 *	bridge_peer close NAME | unlink NAME
 *	bridge_peer stat NAME                     "len cap senders receivers"
 *	bridge_peer full NAME                     exit 0 if the ring is full and
 *	                                          a sender waits, else 1
 * Exit status 0, or 1 with a message on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gochan/kchan.h>

static int fail(const char *what, const char *name, int err)
{
	fprintf(stderr, "bridge_peer: %s %s: %s\n", what, name, strerror(-err));
	return 1;
}

static unsigned char pattern(unsigned producer, unsigned seq, size_t i)
{
	return (unsigned char)(producer * 131 + seq * 7 + i * 13);
}

static void fill(unsigned char *v, size_t size, unsigned producer, unsigned seq)
{
	for (size_t i = 0; i < size; i++)
		v[i] = pattern(producer, seq, i);
	memcpy(v, &producer, 4);
	memcpy(v + 4, &seq, 4);
}

static int open_chan(const char *name, unsigned flags, struct gochan_stat *st)
{
	int fd = gochan_open(name, flags, 0, 0, 0), r;

	if (fd < 0)
		return fd;
	r = gochan_stat(fd, st);
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

static int cmd_send(const char *name, unsigned producer, unsigned count,
		    unsigned gap_ms)
{
	struct gochan_stat st;
	unsigned char *v;
	int fd, r;

	fd = open_chan(name, GOCHAN_OPEN_SEND, &st);
	if (fd < 0)
		return fail("open", name, fd);
	if (st.elem_size == 0) {		/* a signal channel: no tag */
		for (unsigned seq = 0; seq < count; seq++) {
			r = gochan_send(fd, NULL, GOCHAN_NO_DEADLINE);
			if (r)
				return fail("send", name, r);
		}
		return 0;
	}
	if (st.elem_size < 8) {
		fprintf(stderr, "bridge_peer: %s: elem_size %u: 0 or at least 8\n",
			name, st.elem_size);
		return 1;
	}
	v = malloc(st.elem_size);
	if (!v)
		return 1;
	for (unsigned seq = 0; seq < count; seq++) {
		if (seq && gap_ms)
			usleep(gap_ms * 1000);
		fill(v, st.elem_size, producer, seq);
		r = gochan_send(fd, v, GOCHAN_NO_DEADLINE);
		if (r)
			return fail("send", name, r);
	}
	free(v);
	return 0;
}

static int cmd_recv(const char *name, unsigned long count)
{
	struct gochan_stat st;
	unsigned char *v, *want;
	unsigned producer, seq;
	bool ok;
	int fd, r;

	fd = open_chan(name, GOCHAN_OPEN_RECV, &st);
	if (fd < 0)
		return fail("open", name, fd);
	v = malloc(st.elem_size + 1);
	want = malloc(st.elem_size + 1);
	if (!v || !want || (st.elem_size && st.elem_size < 8))
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned long n = 0; !count || n < count; n++) {
		r = gochan_recv(fd, v, &ok, GOCHAN_NO_DEADLINE);
		if (r)
			return fail("recv", name, r);
		if (!ok)
			break;
		if (st.elem_size == 0) {
			printf("signal\n");
			continue;
		}
		memcpy(&producer, v, 4);
		memcpy(&seq, v + 4, 4);
		fill(want, st.elem_size, producer, seq);
		if (memcmp(v, want, st.elem_size)) {
			printf("corrupt %u %u\n", producer, seq);
			fprintf(stderr, "bridge_peer: %s: value %u %u is corrupt\n",
				name, producer, seq);
			return 1;
		}
		printf("%u %u\n", producer, seq);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct gochan_stat st;
	const char *cmd = argc > 1 ? argv[1] : "", *name = argc > 2 ? argv[2] : "";
	int fd, r;

	if (!strcmp(cmd, "make") && argc == 5) {
		fd = gochan_open(name, GOCHAN_OPEN_CREATE | GOCHAN_OPEN_EXCL, 0666,
				 strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0));
		return fd < 0 ? fail("make", name, fd) : 0;
	}
	if (!strcmp(cmd, "send") && (argc == 5 || argc == 6))
		return cmd_send(name, strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0),
				argc == 6 ? strtoul(argv[5], NULL, 0) : 0);
	if (!strcmp(cmd, "recv") && (argc == 3 || argc == 4))
		return cmd_recv(name, argc == 4 ? strtoul(argv[3], NULL, 0) : 0);
	if (!strcmp(cmd, "close") && argc == 3) {
		fd = gochan_open(name, GOCHAN_OPEN_SEND, 0, 0, 0);
		if (fd < 0)
			return fail("open", name, fd);
		r = gochan_close(fd);
		return r ? fail("close", name, r) : 0;
	}
	if (!strcmp(cmd, "unlink") && argc == 3) {
		r = gochan_unlink(name);
		return r ? fail("unlink", name, r) : 0;
	}
	if ((!strcmp(cmd, "stat") || !strcmp(cmd, "full")) && argc == 3) {
		fd = open_chan(name, 0, &st);
		if (fd < 0)
			return fail("stat", name, fd);
		if (!strcmp(cmd, "full"))
			return !(st.len >= st.capacity && st.send_waiters > 0);
		printf("%u %u %u %u\n", st.len, st.capacity, st.send_waiters, st.recv_waiters);
		return 0;
	}
	fprintf(stderr, "usage: bridge_peer make NAME ELEM_SIZE CAPACITY | send NAME PRODUCER COUNT [GAP_MS] |\n"
		"       recv NAME [COUNT] | close NAME | unlink NAME | stat NAME | full NAME\n");
	return 2;
}
