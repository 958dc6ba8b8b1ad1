// SPDX-License-Identifier: GPL-2.0
/*
 * The demo's child processes and how they talk back to the parent.
 *
 * The parent keeps the pid of every child it spawned in children[] until it
 * reaps it, so that die() and the watchdog can kill exactly those (and no
 * other process) when something goes wrong.  A child never prints on
 * success: it sends a struct report over report_fd, a buffered channel made
 * before any child is spawned and inherited by all of them.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

#define MAX_CHILDREN	32
#define CHILD_TIMEOUT_S	60	/* A child still alive then is stuck. */

int report_fd = -1;

static pid_t parent_pid;
static pid_t children[MAX_CHILDREN];
static int nchildren;

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void kill_children(void)
{
	for (int i = 0; i < nchildren; i++)
		kill(children[i], SIGKILL);
}

void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	if (getpid() == parent_pid)
		fprintf(stderr, "gochan-demo: FAILED: ");
	else
		fprintf(stderr, "gochan-demo: FAILED in child %d: ", getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (getpid() == parent_pid) {
		kill_children();
		exit(1);
	}
	_exit(1);
}

static void on_alarm(int sig)
{
	static const char msg[] =
		"gochan-demo: FAILED: timed out (a process is stuck in a channel operation)\n";

	(void)sig;
	kill_children();
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

/* The whole demo must finish within @seconds, however slow the machine. */
void watchdog(unsigned int seconds)
{
	parent_pid = getpid();
	signal(SIGALRM, on_alarm);
	alarm(seconds);
}

pid_t spawn(void (*fn)(void *arg), void *arg)
{
	pid_t pid;

	if (nchildren == MAX_CHILDREN)
		die("too many children");
	fflush(stdout);		/* Else the child would print it again. */
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		/* The parent's watchdog is not inherited: a child gets its
		 * own, and dies of SIGALRM if it gets stuck. */
		signal(SIGALRM, SIG_DFL);
		alarm(CHILD_TIMEOUT_S);
		nchildren = 0;
		fn(arg);
		_exit(0);
	}
	children[nchildren++] = pid;
	return pid;
}

/* Wait for @pid, which must exit with status 0. */
void reap(pid_t pid)
{
	int status, i;

	if (waitpid(pid, &status, 0) < 0)
		die("waitpid %d: %s", pid, strerror(errno));
	for (i = 0; i < nchildren && children[i] != pid; i++)
		;
	if (i < nchildren)
		children[i] = children[--nchildren];
	if (WIFSIGNALED(status))
		die("child %d killed by signal %d (%s)", pid, WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	if (WEXITSTATUS(status) != 0)
		die("child %d exited with status %d", pid, WEXITSTATUS(status));
}

void reap_all(void)
{
	while (nchildren > 0)
		reap(children[nchildren - 1]);
}

void reports_init(void)
{
	report_fd = gochan_make(sizeof(struct report), 32, GOCHAN_CREATE_CLOEXEC);
	if (report_fd < 0)
		die("making the report channel: %s", strerror(-report_fd));
}

/* In a child: tell the parent.  The report channel is buffered, so this
 * only blocks if the parent is 32 reports behind. */
void report(int who, int err, int64_t value, const char *fmt, ...)
{
	struct report r = { .who = who, .err = err, .value = value };
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(r.text, sizeof(r.text), fmt, ap);
	va_end(ap);
	ret = gochan_send(report_fd, &r, GOCHAN_NO_DEADLINE);
	if (ret)
		die("sending a report: %s", strerror(-ret));
}

/* In the parent: the next report, in arrival order. */
void next_report(struct report *r)
{
	bool ok;
	int ret = gochan_recv(report_fd, r, &ok, GOCHAN_NO_DEADLINE);

	if (ret)
		die("receiving a report: %s", strerror(-ret));
	if (!ok)
		die("the report channel was closed");
}

static int by_who(const void *a, const void *b)
{
	const struct report *x = a, *y = b;

	return (x->who > y->who) - (x->who < y->who);
}

/* The next @n reports, sorted by sender: children that run at the same time
 * report in any order, the output should not. */
void next_reports_sorted(struct report *r, int n)
{
	for (int i = 0; i < n; i++)
		next_report(&r[i]);
	qsort(r, n, sizeof(*r), by_who);
}

/* Does @fd's channel show @len buffered, @senders and @receivers blocked? */
static bool stat_is(int fd, const char *name, unsigned int len,
		    unsigned int senders, unsigned int receivers,
		    struct gochan_stat *st)
{
	int err = gochan_stat(fd, st);

	if (err)
		die("GOCHAN_IOC_STAT on %s: %s", name, strerror(-err));
	return st->len == len && st->send_waiters == senders &&
	       st->recv_waiters == receivers;
}

/*
 * Wait until @fd's channel shows @len buffered elements, @senders blocked
 * senders and @receivers blocked receivers: the way the parent knows that a
 * child has got to the point where it blocks, without sleeping and hoping.
 * With @wait false, the state must hold now.
 */
void expect_stat(int fd, const char *name, unsigned int len,
		 unsigned int senders, unsigned int receivers, bool wait)
{
	int64_t give_up = now_ns() + 30 * 1000000000LL;
	struct gochan_stat st;

	while (!stat_is(fd, name, len, senders, receivers, &st)) {
		if (!wait || now_ns() > give_up)
			die("%s: expected len %u, %u blocked senders, %u blocked receivers; it has %u, %u, %u",
			    name, len, senders, receivers, st.len,
			    st.send_waiters, st.recv_waiters);
		usleep(1000);
	}
}
