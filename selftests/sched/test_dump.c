/* SPDX-License-Identifier: MIT */
/*
 * Description: the goroutine dump (go_dump, the deadlock report, SIGQUIT): each goroutine's
 * id, what it waits on (a channel receive, a select, a sleep, a sync.Mutex), the minutes it
 * has waited, its function and who created it, symbolized (this program is linked with
 * -rdynamic so that dladdr() sees its functions); SIGQUIT dumps and exits with status 2 as
 * Go does, and is left alone with GO_CONFIG_NO_SIGQUIT (after golang/go
 * runtime/crash_test.go: TestGoexitDeadlock's output, TestSignalExitStatus).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <gochan/chan.h>
#include <gochan/sched.h>
#include <gochan/sync.h>

#include "sched/internal.h"
#include "tap.h"
#include "child.h"

#define MS 1000000LL

/* The parked goroutines (not static: -rdynamic names only exported functions). */
struct parked {
	struct go_chan *c, *a, *b;
	struct go_sync_mutex mu;
	uint64_t id_recv, id_select, id_sleep, id_mutex;
	struct go_g *g_recv;
	_Atomic int started;
};

void dump_recv_forever(void *p)
{
	struct parked *s = p;

	s->id_recv = go_id();
	s->g_recv = go_self();
	s->started++;
	go_chan_recv(s->c, NULL, NULL);
}

void dump_select_forever(void *p)
{
	struct parked *s = p;
	struct go_select_case cs[] = { GO_RECV_CASE(s->a, NULL), GO_RECV_CASE(s->b, NULL) };

	s->id_select = go_id();
	s->started++;
	go_select(cs, 2);
}

void dump_sleep_long(void *p)
{
	struct parked *s = p;

	s->id_sleep = go_id();
	s->started++;
	go_sleep(3600 * 1000 * MS);
}

void dump_lock_mutex(void *p)
{
	struct parked *s = p;

	s->id_mutex = go_id();
	s->started++;
	go_sync_mutex_lock(&s->mu);
	go_sync_mutex_unlock(&s->mu);
}

/* Spawn the four and wait until each is parked (its dump line says so). */
void dump_spawn_all(struct parked *s)
{
	go_chan_make(&s->c, 0, 0);
	go_chan_make(&s->a, 0, 0);
	go_chan_make(&s->b, 0, 0);
	go_sync_mutex_lock(&s->mu);
	go_spawn(dump_recv_forever, s);
	go_spawn(dump_select_forever, s);
	go_spawn(dump_sleep_long, s);
	go_spawn(dump_lock_mutex, s);
	while (s->started < 4)
		go_sleep(MS);
}

static char *dump_to_string(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	go_dump(f);
	fclose(f);
	return buf;
}

static bool has_line(const char *dump, const char *fmt, unsigned long long id)
{
	char want[128];

	snprintf(want, sizeof(want), fmt, id);
	return strstr(dump, want) != NULL;
}

void dump_main(void)
{
	struct parked s = { 0 };
	char *d = NULL;

	dump_spawn_all(&s);
	/* Parked goroutines say what they wait on; poll until every one has parked. */
	for (int i = 0; i < 1000; i++) {
		free(d);
		d = dump_to_string();
		if (has_line(d, "goroutine %llu [chan receive]:\n", s.id_recv) &&
		    has_line(d, "goroutine %llu [select]:\n", s.id_select) &&
		    has_line(d, "goroutine %llu [sleep]:\n", s.id_sleep) &&
		    has_line(d, "goroutine %llu [sync.Mutex.Lock]:\n", s.id_mutex))
			break;
		go_sleep(MS);
	}
	CHECK(has_line(d, "goroutine %llu [chan receive]:\n", s.id_recv), "recv:\n%s", d);
	CHECK(has_line(d, "goroutine %llu [select]:\n", s.id_select), "select:\n%s", d);
	CHECK(has_line(d, "goroutine %llu [sleep]:\n", s.id_sleep), "sleep:\n%s", d);
	CHECK(has_line(d, "goroutine %llu [sync.Mutex.Lock]:\n", s.id_mutex), "mutex:\n%s", d);
	/* The caller comes first, running, with its own stack (this function in it). */
	CHECK(strncmp(d, "goroutine 1 [running]:\n", 23) == 0, "caller first:\n%s", d);
	CHECK(strstr(d, "\ndump_main+0x") != NULL, "caller's frames:\n%s", d);
	/* Each parked one shows its function and who created it, from which goroutine. */
	CHECK(strstr(d, "\ndump_recv_forever(0x") != NULL, "function:\n%s", d);
	CHECK(strstr(d, "created by dump_spawn_all+0x") != NULL, "creator:\n%s", d);
	CHECK(strstr(d, " in goroutine 1\n") != NULL, "creator's goroutine:\n%s", d);
	/* The main goroutine has no creator line. */
	CHECK(strstr(d, "created by go_run") == NULL, "main's creator:\n%s", d);
	free(d);

	/* Waiting for three minutes shows as Go shows it (the wait start moved back). */
	store_relaxed(&s.g_recv->waitsince, load_relaxed(&s.g_recv->waitsince) - 181000 * MS);
	d = dump_to_string();
	CHECK(has_line(d, "goroutine %llu [chan receive, 3 minutes]:\n", s.id_recv),
	      "minutes:\n%s", d);
	free(d);

	/* Let the receiver, the select and the mutex waiter finish (the sleeper is left
	 * behind: go_run abandons it). */
	go_chan_close(s.c);
	go_chan_close(s.a);
	go_sync_mutex_unlock(&s.mu);
	go_sleep(10 * MS);
}

static void trampoline(void *fn)
{
	((void (*)(void))fn)();
}

static void dump_shows_every_wait(void)
{
	int rc = go_run(trampoline, (void *)dump_main);

	CHECK(rc == 0, "go_run: %d", rc);
}

/* ---- the deadlock report -------------------------------------------------------------------- */

void dump_lock_mutex_only(void *p);

void deadlock_no_sleeper_main(void *arg)
{
	struct go_chan *c;
	struct go_sync_mutex *mu = arg;

	go_chan_make(&c, 0, 0);
	go_sync_mutex_lock(mu);
	go_spawn(dump_lock_mutex_only, mu);
	go_chan_recv(c, NULL, NULL);
}

void dump_lock_mutex_only(void *p)
{
	go_sync_mutex_lock(p);
}

static void deadlock_child(void)
{
	struct go_sync_mutex mu = { 0 };

	_exit(go_run(deadlock_no_sleeper_main, &mu) == -EDEADLK ? 0 : 1);
}

static void deadlock_report_is_the_dump(void)
{
	char buf[16384];
	int st = in_child(deadlock_child, buf, sizeof(buf), 20);

	/* go_run returns -EDEADLK after the message and the dump of every goroutine */
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x:\n%s", st, buf);
	CHECK(strstr(buf, "all goroutines are asleep - deadlock!\n\n") != NULL, "%s", buf);
	CHECK(strstr(buf, "goroutine 1 [chan receive]:\n") != NULL, "main:\n%s", buf);
	CHECK(strstr(buf, "[sync.Mutex.Lock]:\ndump_lock_mutex_only(0x") != NULL,
	      "the other:\n%s", buf);
	CHECK(strstr(buf, "created by deadlock_no_sleeper_main+0x") != NULL, "creator:\n%s", buf);
}

/* ---- SIGQUIT ------------------------------------------------------------------------------ */

static unsigned quit_flags;

void quit_main(void *arg)
{
	struct parked *s = arg;

	dump_spawn_all(s);
	raise(SIGQUIT);
	go_sleep(10000 * MS);	/* the dump exits the process before this returns */
}

static void quit_child(void)
{
	struct parked s = { 0 };
	struct go_config c = { .size = sizeof(c), .flags = quit_flags };
	struct rlimit no_core = { 0, 0 };

	setrlimit(RLIMIT_CORE, &no_core);
	go_run_config(&c, quit_main, &s);
	_exit(0);
}

static void sigquit_dumps_and_exits_2(void)
{
	char buf[16384];
	int st;

	quit_flags = 0;
	st = in_child(quit_child, buf, sizeof(buf), 30);
	/* Go's behaviour: the dump on stderr, then exit status 2. */
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2, "status 0x%x:\n%s", st, buf);
	CHECK(strncmp(buf, "SIGQUIT: quit\n\n", 15) == 0, "header:\n%s", buf);
	CHECK(strstr(buf, "[sync.Mutex.Lock]:\ndump_lock_mutex(0x") != NULL, "dump:\n%s", buf);
	CHECK(strstr(buf, "[chan receive]:\ndump_recv_forever(0x") != NULL, "dump:\n%s", buf);

	/* GO_CONFIG_NO_SIGQUIT: the signal's default action (the process dies of it). */
	quit_flags = GO_CONFIG_NO_SIGQUIT;
	st = in_child(quit_child, buf, sizeof(buf), 30);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGQUIT, "status 0x%x:\n%s", st, buf);
}

static void dump_outside_the_scheduler_is_silent(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	/* No scheduler: nothing printed. */
	go_dump(f);
	fclose(f);
	CHECK(len == 0, "printed %zu bytes", len);
	free(buf);
}

int main(int argc, char **argv)
{
	TEST(dump_shows_every_wait);
	TEST(deadlock_report_is_the_dump);
	TEST(sigquit_dumps_and_exits_2);
	TEST(dump_outside_the_scheduler_is_silent);
	return tap_any_failed;
}
