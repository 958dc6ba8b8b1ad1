// SPDX-License-Identifier: GPL-2.0
/*
 * Messages and time.  Every message is one line on stderr, written with one
 * write(2) so that lines of several workers never mix:
 *
 *	gochan-bridge: in gochan:orders -> orders: redis: connection lost ...
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"

static void vlog(const struct mapping *m, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	if (m && m->dir == DIR_OUT)
		n = snprintf(line, sizeof(line), "%s: out %s -> %s: ", BRIDGE_NAME,
			     m->chan, m->stream);
	else if (m)
		n = snprintf(line, sizeof(line), "%s: in %s -> %s: ", BRIDGE_NAME,
			     m->stream, m->chan);
	else
		n = snprintf(line, sizeof(line), "%s: ", BRIDGE_NAME);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		n = 0;
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to say it */
	}
}

void logmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(NULL, fmt, ap);
	va_end(ap);
}

void logmap(const struct mapping *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(m, fmt, ap);
	va_end(ap);
}

void debugmap(const struct mapping *m, const char *fmt, ...)
{
	va_list ap;

	if (!cfg.verbose)
		return;
	va_start(ap, fmt);
	vlog(m, fmt, ap);
	va_end(ap);
}

int64_t now_ms(void)
{
	return gochan_now_ns() / 1000000;
}

bool sleep_ms(unsigned ms)
{
	int64_t end = now_ms() + ms;

	for (;;) {
		int64_t left = end - now_ms();
		struct timespec ts;

		if (atomic_load(&stopping))
			return true;
		if (left <= 0)
			return false;
		if (left > 100)
			left = 100;
		ts.tv_sec = 0;
		ts.tv_nsec = left * 1000000;
		nanosleep(&ts, NULL);
	}
}
