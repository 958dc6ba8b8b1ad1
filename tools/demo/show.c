// SPDX-License-Identifier: GPL-2.0
/*
 * What the demo prints.  Only the parent calls these, so the output is in
 * the order the parent chooses; stdout is flushed after every call so that
 * the lines come out in that order even when stdout is a pipe and children
 * exit in between.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "demo.h"

void headline(const char *fmt, ...)
{
	va_list ap;

	printf("\n== ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" ==\n");
	fflush(stdout);
}

void say(const char *fmt, ...)
{
	va_list ap;

	printf("  ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/*
 * The stat table: one row per GOCHAN_IOC_STAT snapshot.  The columns are
 * Go's len(c) and cap(c), the blocked senders and receivers, the counters,
 * and whether GOCHAN_IOC_CLOSE has been done.
 */
void stat_header(void)
{
	printf("    %-9s %3s %4s %3s %3s %8s %8s %4s %5s  %s\n",
	       "channel", "id", "elem", "cap", "len", "snd-wait", "rcv-wait",
	       "sent", "recvd", "state");
	fflush(stdout);
}

void stat_row(const char *name, int fd, const char *note)
{
	struct gochan_stat st;
	int err = gochan_stat(fd, &st);

	if (err)
		die("GOCHAN_IOC_STAT on %s: %s", name, strerror(-err));
	printf("    %-9s %3llu %4u %3u %3u %8u %8u %4llu %5llu  ",
	       name, (unsigned long long)st.id, st.elem_size, st.capacity,
	       st.len, st.send_waiters, st.recv_waiters,
	       (unsigned long long)st.sent, (unsigned long long)st.received);
	if (note && *note)
		printf("%-6s  %s\n",
		       st.flags & GOCHAN_STAT_CLOSED ? "closed" : "open", note);
	else
		printf("%s\n", st.flags & GOCHAN_STAT_CLOSED ? "closed" : "open");
	fflush(stdout);
}

/*
 * /proc/self/fdinfo/<fd>: the kernel's own view of the same channel, one
 * "gochan-<field>:\t<value>" line per field (after the generic pos, flags,
 * mnt_id and ino lines every fd has).  Printed three fields to a row.
 */
void show_fdinfo(const char *name, int fd)
{
	char path[64], line[256], key[32][32], value[32][32];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		die("%s: %s (is /proc mounted?)", path, strerror(errno));
	while (n < 32 && fgets(line, sizeof(line), f))
		if (strncmp(line, "gochan-", 7) == 0 &&
		    sscanf(line, "%31[^:]:%*[ \t]%31[^\n]", key[n], value[n]) == 2)
			n++;
	fclose(f);
	if (!n)
		die("%s has no gochan- lines", path);

	printf("    %s (%s):\n", path, name);
	for (int i = 0; i < n; i++) {
		bool last = i % 3 == 2 || i == n - 1;

		printf(i % 3 ? "  " : "      ");
		if (last)
			printf("%-20s %s\n", key[i], value[i]);
		else
			printf("%-20s %-6s", key[i], value[i]);
	}
	fflush(stdout);
}
