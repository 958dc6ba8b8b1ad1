/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gochan-demo: shared declarations.
 *
 *   show.c   what the demo prints: headlines, the stat table, fdinfo
 *   procs.c  child processes: spawn, reap, the watchdog, the report channel
 *   gochan-demo.c  the story, one function per section
 *
 * Channels are made and used through libgochan's kchan layer
 * (<gochan/kchan.h>): gochan_make, gochan_send, gochan_recv, gochan_close,
 * gochan_stat and the gochan_select forms, which return 0 (select: the
 * case's index) or -errno.  Anything the demo did not
 * expect goes through die(), which kills the children still running and
 * exits 1.
 */
#ifndef GOCHAN_DEMO_H
#define GOCHAN_DEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <gochan/kchan.h>

/* show.c */
void headline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void stat_header(void);
void stat_row(const char *name, int fd, const char *note);
void show_fdinfo(const char *name, int fd);

/*
 * Children tell the parent what they saw with a struct report, sent over a
 * buffered gochan (the demo's own "log" channel): the parent is the only
 * process that prints, so the output comes in an order the parent chooses.
 */
struct report {
	int32_t who;		/* Which child: an index the parent gave it. */
	int32_t err;		/* 0 or the -errno the child saw. */
	int64_t value;		/* A number the step is about (a count...). */
	char text[112];		/* What happened, in words. */
};

/* procs.c */
extern int report_fd;
void reports_init(void);
void report(int who, int err, int64_t value, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void next_report(struct report *r);
void next_reports_sorted(struct report *r, int n);

pid_t spawn(void (*fn)(void *arg), void *arg);
void reap(pid_t pid);
void reap_all(void);
void watchdog(unsigned int seconds);
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void expect_stat(int fd, const char *name, unsigned int len,
		 unsigned int senders, unsigned int receivers, bool wait);
int64_t now_ns(void);

#endif /* GOCHAN_DEMO_H */
