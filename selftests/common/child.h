/* SPDX-License-Identifier: MIT */
/*
 * child.h - child processes of a test: in_child() runs a test body in a forked child with
 * its stderr captured, for what ends the process (an abort, a signal's exit, a deadlock
 * report) or prints to stderr; reap() waits for a child and gives its exit status. Shared
 * by the host test programs (selftests/sched ...) and the module's selftests (kchan, chan).
 */
#ifndef SELFTESTS_CHILD_H
#define SELFTESTS_CHILD_H

#include <errno.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run fn in a child (stderr into buf, NUL-terminated; killed by SIGALRM after timeout_s;
 * exit 0 if fn returns); returns the child's wait status, or -1 if no pipe. */
static inline int in_child(void (*fn)(void), char *buf, size_t len, int timeout_s)
{
	int fds[2], status = 0;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		alarm((unsigned)timeout_s);
		fn();
		_exit(0);
	}
	close(fds[1]);
	while (got + 1 < len && (r = read(fds[0], buf + got, len - got - 1)) > 0)
		got += (size_t)r;
	buf[got] = 0;
	close(fds[0]);
	waitpid(pid, &status, 0);
	return status;
}

/* Reap @pid; returns its exit status, or -1 if it did not exit normally. */
static inline int reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#endif
