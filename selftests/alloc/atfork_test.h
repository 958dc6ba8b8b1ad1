/* SPDX-License-Identifier: MIT */
/*
 * atfork_test.h - fork() with atfork handlers that allocate, shared by test_malloc (the
 * drop-in malloc) and test_api (galloc). The includer defines ATFORK_ALLOC(n) and
 * ATFORK_FREE(p). The handlers are registered from a constructor that runs before main (and
 * before the allocator's own constructor when the allocator is linked in statically, so that
 * its prepare handler runs after the allocator has taken its locks). fork() must neither
 * deadlock in them nor leave either process's allocator broken; a deadlock is reported after
 * 10 s, and the program then exits (the forking thread holds the allocator's locks for good).
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static _Atomic int atfork_calls;
static void *volatile atfork_sink; /* so that the compiler keeps each malloc/free pair */

static void atfork_alloc_free(size_t n)
{
	atfork_sink = ATFORK_ALLOC(n);
	ATFORK_FREE(atfork_sink);
}

static void atfork_prepare(void)
{
	atfork_alloc_free(100);
	atfork_calls++;
}

static void atfork_parent(void)
{
	atfork_alloc_free(200);
}

static void atfork_child(void)
{
	atfork_alloc_free(300);
}

__attribute__((constructor(101))) static void register_allocating_atfork_handlers(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static void *fork_and_wait(void *arg)
{
	int st = 0;
	pid_t pid = fork();

	if (pid == 0) {
		void *p[64];

		for (int i = 0; i < 64; i++)
			p[i] = ATFORK_ALLOC((size_t)i * 100 + 1);
		for (int i = 0; i < 64; i++)
			ATFORK_FREE(p[i]);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return NULL;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? arg : NULL;
}

/* fork() runs the allocating handlers, in the parent and in the child */
static void fork_with_allocating_atfork_handlers(void)
{
	struct timespec ts;
	void *ok = NULL;
	pthread_t t;

	atfork_alloc_free(10); /* the allocator is initialized by now, at the latest */
	pthread_create(&t, NULL, fork_and_wait, &atfork_calls);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	if (pthread_timedjoin_np(t, &ok, &ts)) {
		/* no stdio: it may allocate */
		static const char msg[] = "# fork() has not returned after 10 s: deadlocked in "
					  "the atfork handlers\nnot ok - "
					  "fork_with_allocating_atfork_handlers\n";
		fflush(stdout);
		if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
			_exit(2);
		_exit(1);
	}
	CHECK(ok == &atfork_calls, "the child did not exit 0");
	CHECK(atfork_calls >= 1, "prepare handler not run");
	atfork_alloc_free(10); /* and the parent's allocator still works */
}
