/* SPDX-License-Identifier: MIT */
/*
 * Description: the drop-in malloc (libgochan-malloc.so linked in, so it interposes libc's):
 * the C and POSIX contracts (alignment, overflow, errno, realloc edge cases), and fork while
 * other threads allocate.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gochan/alloc.h>
#include "tap.h"

/* malloc really is ours: its objects are in the span heap. */
static void malloc_is_interposed(void)
{
	char *p = malloc(100);
	char *s = strdup("gochan"); /* libc's strdup calls our malloc */

	p[0] = 1;
	CHECK(galloc_base(p) == p, "malloc'd pointer not in the heap");
	CHECK(galloc_base(s) == s, "strdup'd pointer not in the heap");
	free(p);
	free(s);
}

/* malloc(0) is unique and freeable; usable sizes cover the request. */
static void malloc_sizes(void)
{
	void *a = malloc(0), *b = malloc(0);

	CHECK(a && b && a != b, "malloc(0)");
	free(a);
	free(b);
	for (size_t n = 1; n < 70000; n = n * 3 / 2 + 1) {
		char *p = malloc(n);
		CHECK(p && malloc_usable_size(p) >= n, "n=%zu usable %zu", n, malloc_usable_size(p));
		memset(p, 1, malloc_usable_size(p));
		free(p);
	}
	CHECK(malloc_usable_size(NULL) == 0, "usable size of NULL");
	free(NULL);
}

/*
 * Every result of the malloc family is aligned to alignof(max_align_t), 16 on x86-64, as
 * glibc's: compilers rely on it (clang stores a new T with 16 < sizeof(T) <= 24 with movaps).
 */
static void every_size_is_16_byte_aligned(void)
{
	enum { MAX = 4096, A = _Alignof(max_align_t) };
	static const char *const what[] = { "malloc", "calloc", "realloc(NULL)", "realloc(p)",
					    "memalign(8)", "posix_memalign(8)" };
	int bad = 0;

	for (size_t n = 0; n <= MAX; n++) {
		void *p[6] = { malloc(n), calloc(1, n), realloc(NULL, n), malloc(1), NULL, NULL };
		char line[256];
		int len = 0;

		p[3] = realloc(p[3], n ? n : 1);
		p[4] = memalign(8, n);
		if (posix_memalign(&p[5], 8, n))
			p[5] = NULL;
		for (int i = 0; i < 6; i++) {
			if (!p[i] || ((uintptr_t)p[i] & (A - 1))) {
				bad++;
				len += snprintf(line + len, sizeof(line) - (size_t)len, " %s %p",
						what[i], p[i]);
			}
			free(p[i]);
		}
		if (len)
			printf("# n=%zu:%s\n", n, line);
	}
	CHECK(bad == 0, "%d results not %d-byte aligned", bad, A);
}

/* calloc zeroes, and refuses overflowing products with ENOMEM. */
static void calloc_zeroes_and_checks_overflow(void)
{
	for (size_t n = 1; n < (1 << 22); n *= 4) {
		unsigned char *p = malloc(n);
		memset(p, 0xee, n);
		free(p);
		p = calloc(n, 1);
		size_t bad = 0;
		for (size_t i = 0; i < n; i++)
			bad += p[i] != 0;
		CHECK(bad == 0, "calloc(%zu) has %zu non-zero bytes", n, bad);
		free(p);
	}
	volatile size_t big = SIZE_MAX / 2, huge = SIZE_MAX - 4096;
	errno = 0;
	CHECK(calloc(big, 3) == NULL && errno == ENOMEM, "overflow");
	errno = 0;
	CHECK(reallocarray(NULL, big, 3) == NULL && errno == ENOMEM, "reallocarray");
	errno = 0;
	CHECK(malloc(huge) == NULL && errno == ENOMEM, "huge malloc");
}

/* realloc keeps contents; realloc(NULL, n) allocates; realloc(p, 0) frees (glibc). */
static void realloc_contract(void)
{
	char *p = realloc(NULL, 10);

	CHECK(p != NULL, "realloc(NULL)");
	strcpy(p, "012345678");
	for (size_t n = 16; n < (8 << 20); n *= 3) {
		p = realloc(p, n);
		CHECK(p && !strcmp(p, "012345678"), "grow to %zu", n);
	}
	for (size_t n = 8 << 20; n >= 16; n /= 5) {
		p = realloc(p, n);
		CHECK(p && !strcmp(p, "012345678"), "shrink to %zu", n);
	}
	CHECK(realloc(p, 0) == NULL, "realloc(p, 0)");
}

/* The aligned family: powers of two, EINVAL rules, memalign rounding, page functions. */
static void aligned_family(void)
{
	void *p = NULL;
	long ps = sysconf(_SC_PAGESIZE);

	for (size_t al = sizeof(void *); al <= (1 << 22); al *= 2) {
		CHECK(posix_memalign(&p, al, 100) == 0 && ((uintptr_t)p & (al - 1)) == 0, "pm %zu", al);
		free(p);
		p = aligned_alloc(al, al * 2);
		CHECK(p && ((uintptr_t)p & (al - 1)) == 0, "aligned_alloc %zu", al);
		free(p);
		p = memalign(al, 24);
		CHECK(p && ((uintptr_t)p & (al - 1)) == 0, "memalign %zu", al);
		free(p);
	}
	CHECK(posix_memalign(&p, 3, 10) == EINVAL, "pm align 3");
	CHECK(posix_memalign(&p, 4, 10) == EINVAL, "pm align 4 < sizeof(void *)");
	p = memalign(48, 10); /* rounded up to 64 */
	CHECK(p && ((uintptr_t)p & 63) == 0, "memalign 48");
	free(p);
	p = valloc(10);
	CHECK(p && ((uintptr_t)p & (ps - 1)) == 0, "valloc");
	free(p);
	p = pvalloc(10);
	CHECK(p && ((uintptr_t)p & (ps - 1)) == 0 && malloc_usable_size(p) >= (size_t)ps, "pvalloc");
	free(p);
}

/* the allocating atfork handlers (before main, so before any malloc of the program's) */
#define ATFORK_ALLOC(n) malloc(n)
#define ATFORK_FREE(p) free(p)
#include "atfork_test.h"

/* Alignments of an arena (64 MiB) and more, which glibc gives: usable, freeable, found. */
static void arena_sized_alignments(void)
{
	for (size_t al = (size_t)64 << 20; al <= (size_t)1 << 30; al *= 2) {
		void *p[3] = { NULL, aligned_alloc(al, al), memalign(al, (size_t)10 << 20) };
		int rc = posix_memalign(&p[0], al, 100);
		size_t want[3] = { 100, al, (size_t)10 << 20 };

		CHECK(rc == 0, "posix_memalign(%zu MiB): %d", al >> 20, rc);
		for (int i = 0; i < 3; i++) {
			unsigned char *q = p[i];

			CHECK(q && ((uintptr_t)q & (al - 1)) == 0, "%zu MiB alignment, object %d: %p",
			      al >> 20, i, (void *)q);
			if (!q)
				continue;
			q[0] = 1;
			q[want[i] - 1] = 2;
			CHECK(malloc_usable_size(q) >= want[i] && galloc_base(q + want[i] - 1) == q,
			      "%zu MiB alignment, object %d: usable %zu, base %p", al >> 20, i,
			      malloc_usable_size(q), galloc_base(q + want[i] - 1));
		}
		p[0] = realloc(p[0], 200); /* moves, keeping the bytes */
		CHECK(p[0] && ((unsigned char *)p[0])[0] == 1 && ((unsigned char *)p[0])[99] == 2,
		      "realloc of a %zu MiB aligned object", al >> 20);
		for (int i = 0; i < 3; i++)
			free(p[i]);
	}
}

/* Alignments past what any size could use: glibc fails memalign with EINVAL over 2^63. */
static void absurd_alignments_fail_cleanly(void)
{
	static const size_t bad[] = { ((size_t)1 << 63) + 1, SIZE_MAX, ((size_t)3 << 62) };
	void *p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		p = memalign(bad[i], 16);
		CHECK(!p && errno == EINVAL, "memalign(%#zx, 16) = %p, errno %d", bad[i], p, errno);
		free(p);
	}
	errno = 0;
	p = memalign((size_t)1 << 63, 16); /* a power of two, but no room for it */
	CHECK(!p && errno == ENOMEM, "memalign(2^63, 16) = %p, errno %d", p, errno);
	free(p);
}

static _Atomic int stop;

static void *churn(void *arg)
{
	void *keep[64] = { 0 };
	unsigned i = 0;

	while (!stop) {
		free(keep[i % 64]);
		keep[i % 64] = malloc(16 + (i * 37) % 3000);
		i++;
	}
	for (int k = 0; k < 64; k++)
		free(keep[k]);
	return NULL;
}

static void *churn_briefly(void *arg)
{
	for (int i = 0; i < 10000; i++)
		free(malloc((size_t)i % 5000));
	return arg;
}

/* fork() while other threads allocate: the child's allocator is usable (atfork locks). */
static void fork_while_threads_allocate(void)
{
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, churn, NULL);
	for (int k = 0; k < 50; k++) {
		pid_t pid = fork();
		if (pid == 0) {
			/* the other threads froze mid-operation: the heap checker's quiescence
			 * rule does not hold here, but allocating and freeing must work */
			unsigned char *p[300];
			for (int r = 0; r < 20; r++) {
				for (int i = 0; i < 300; i++) {
					p[i] = malloc((size_t)i * 131 + 1);
					memset(p[i], i & 0xff, (size_t)i * 131 + 1);
				}
				for (int i = 0; i < 300; i++) {
					if (p[i][0] != (i & 0xff) || p[i][(size_t)i * 131] != (i & 0xff))
						_exit(3);
					free(p[i]);
				}
			}
			pthread_t ct;
			if (pthread_create(&ct, NULL, churn_briefly, NULL) || pthread_join(ct, NULL))
				_exit(4);
			_exit(0);
		}
		int st = 0;
		waitpid(pid, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d status %#x", k, st);
		if (tap_failed)
			break;
	}
	stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
}

int main(int argc, char **argv)
{
	TEST(malloc_is_interposed);
	TEST(malloc_sizes);
	TEST(every_size_is_16_byte_aligned);
	TEST(calloc_zeroes_and_checks_overflow);
	TEST(realloc_contract);
	TEST(aligned_family);
	TEST(arena_sized_alignments);
	TEST(absurd_alignments_fail_cleanly);
	TEST(fork_with_allocating_atfork_handlers);
	TEST(fork_while_threads_allocate);
	return tap_any_failed;
}
