/* SPDX-License-Identifier: MIT */
/*
 * child.h - child processes of a test: in_child() runs a test body in a forked child with
 * its stderr captured, for what ends the process (an abort, a signal's exit, a deadlock
 * report) or prints to stderr (in_child_arg() with an argument, and stdout too if asked);
 * exec_child() runs a program with its output captured; reap() waits for a child and
 * gives its exit status. Shared
 * by the host test programs (selftests/sched ...) and the module's selftests (kchan, chan).
 */
#ifndef SELFTESTS_CHILD_H
#define SELFTESTS_CHILD_H

#include <errno.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* What a child's output into buf is: its stderr, or its stdout and its stderr. */
#define CHILD_STDOUT_TOO	1

/* Run fn(arg) in a child (stderr, and with CHILD_STDOUT_TOO in flags stdout, into buf,
 * NUL-terminated; killed by SIGALRM after timeout_s, 0: never; exit 0 if fn returns);
 * returns the child's wait status, or -1 if no pipe or no child. */
static inline int in_child_arg(void (*fn)(void *), void *arg, int flags, char *buf, size_t len,
			       int timeout_s)
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
		if (flags & CHILD_STDOUT_TOO)
			dup2(fds[1], 1);
		dup2(fds[1], 2);
		alarm((unsigned)timeout_s);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return -1;
	}
	while (got + 1 < len && (r = read(fds[0], buf + got, len - got - 1)) > 0)
		got += (size_t)r;
	buf[got] = 0;
	/* the rest, past what buf holds, read to the end: closed early, the pipe would kill
	 * a child still writing (a sanitizer's long report) with SIGPIPE */
	for (char rest[512]; read(fds[0], rest, sizeof(rest)) > 0;)
		;
	close(fds[0]);
	waitpid(pid, &status, 0);
	return status;
}

static inline void in_child_call(void *fn)
{
	((void (*)(void))fn)();
}

/* in_child_arg for a test body: fn() in a child, its stderr into buf. */
static inline int in_child(void (*fn)(void), char *buf, size_t len, int timeout_s)
{
	return in_child_arg(in_child_call, (void *)fn, 0, buf, len, timeout_s);
}

struct child_exec {
	const char *path;
	char *const *argv;
	char *const *envp;	/* NULL: this process's environment */
};

static inline void child_exec(void *arg)
{
	const struct child_exec *e = arg;

	if (e->envp)
		execve(e->path, e->argv, e->envp);
	else
		execv(e->path, e->argv);
	_exit(127);
}

/* Run the program at path with argv (and envp, if not NULL) in a child, its stdout and
 * stderr into buf; its wait status (exit status 127 if it could not run), or -1. */
static inline int exec_child(const char *path, char *const argv[], char *const envp[], char *buf,
			     size_t len)
{
	struct child_exec e = { .path = path, .argv = argv, .envp = envp };

	return in_child_arg(child_exec, &e, CHILD_STDOUT_TOO, buf, len, 0);
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
