// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a known gochan workload for gochan_top.sh to trace.
 *
 * chan_workload N K: make one channel (8-byte elements, capacity N); a
 * child receives until the channel is closed and drained; the parent sends
 * the first K values only once the child is blocked in its receive (seen
 * as recv_waiters == 1 through GOCHAN_IOC_STAT), then the other N - K at
 * once, then closes the channel.  Every operation is one ioctl, so one
 * tracepoint event each.  On success it prints what a tracer must have
 * counted on the channel:
 *
 *   workload id=ID make=1 send=N sent=N recv=N+1 received=N close=1 block_min=K
 *
 * (the child's last receive is the one that finds the channel closed).
 * Exit status 0; 1 on a failure (values out of order, an ioctl failing);
 * 4 (KSFT_SKIP) without /dev/gochan.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/gochan.h>

#define KSFT_SKIP	4

static int xfer(int fd, unsigned long cmd, uint64_t *val, unsigned int *ok)
{
	struct gochan_xfer x = {
		.size = sizeof(x),
		.buf = (uintptr_t)val,
	};

	if (ioctl(fd, cmd, &x))
		return -errno;
	if (ok)
		*ok = x.ok;
	return 0;
}

static int recv_waiters(int fd)
{
	struct gochan_stat st = { .size = sizeof(st) };

	if (ioctl(fd, GOCHAN_IOC_STAT, &st))
		return -errno;
	return st.recv_waiters;
}

/* Receive until closed and drained; values must come 0, 1, ... N-1. */
static int child(int fd, unsigned long n)
{
	unsigned long got = 0;
	unsigned int ok;
	uint64_t v;
	int err;

	for (;;) {
		err = xfer(fd, GOCHAN_IOC_RECV, &v, &ok);
		if (err) {
			fprintf(stderr, "chan_workload: recv: %s\n", strerror(-err));
			return 1;
		}
		if (!ok)
			break;
		if (v != got) {
			fprintf(stderr, "chan_workload: got %llu, want %lu\n",
				(unsigned long long)v, got);
			return 1;
		}
		got++;
	}
	if (got != n) {
		fprintf(stderr, "chan_workload: received %lu of %lu\n", got, n);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct gochan_create cr = { .size = sizeof(cr), .elem_size = 8 };
	unsigned long n, k;
	int dev, fd, status, err;
	pid_t pid;

	if (argc != 3 || (n = strtoul(argv[1], NULL, 10)) == 0 ||
	    (k = strtoul(argv[2], NULL, 10)) > n) {
		fprintf(stderr, "usage: chan_workload N K   (1 <= N, K <= N)\n");
		return 2;
	}
	dev = open(GOCHAN_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		fprintf(stderr, "chan_workload: %s: %s\n", GOCHAN_DEVICE_PATH,
			strerror(errno));
		return KSFT_SKIP;
	}
	cr.capacity = n;
	fd = ioctl(dev, GOCHAN_IOC_CREATE, &cr);
	if (fd < 0) {
		perror("chan_workload: GOCHAN_IOC_CREATE");
		return 1;
	}

	pid = fork();
	if (pid < 0) {
		perror("chan_workload: fork");
		return 1;
	}
	if (pid == 0)
		_exit(child(fd, n));

	for (uint64_t v = 0; v < n; v++) {
		/* The first K sends wait for the receiver to be asleep. */
		for (int tries = 0; v < k; tries++) {
			struct timespec ms = { 0, 1000000 };

			err = recv_waiters(fd);
			if (err < 0) {
				fprintf(stderr, "chan_workload: stat: %s\n", strerror(-err));
				return 1;
			}
			if (err == 1)
				break;
			if (tries == 20000) {
				fprintf(stderr, "chan_workload: the receiver never blocked\n");
				kill(pid, SIGKILL);
				return 1;
			}
			nanosleep(&ms, NULL);
		}
		err = xfer(fd, GOCHAN_IOC_SEND, &v, NULL);
		if (err) {
			fprintf(stderr, "chan_workload: send: %s\n", strerror(-err));
			return 1;
		}
	}
	if (ioctl(fd, GOCHAN_IOC_CLOSE, 0)) {
		perror("chan_workload: GOCHAN_IOC_CLOSE");
		return 1;
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "chan_workload: the receiver failed\n");
		return 1;
	}
	printf("workload id=%llu make=1 send=%lu sent=%lu recv=%lu received=%lu close=1 block_min=%lu\n",
	       (unsigned long long)cr.id, n, n, n + 1, n, k);
	return 0;
}
