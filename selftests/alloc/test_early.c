/* SPDX-License-Identifier: MIT */
/*
 * Description: the drop-in malloc's start-up when the process's first malloc comes from
 * another library's constructor (libearly.so), before the allocator's own constructor, with
 * the background scavenger (GOCHAN_ALLOC_SCAVENGER=thread, set by re-executing if missing):
 * starting that thread allocates from inside the first allocation.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gochan/alloc.h>
#include "tap.h"

extern void *early_block; /* libearly.so */

/* The thread that allocated first has one cache: none orphaned by the re-entry. */
static void first_malloc_from_a_constructor(void)
{
	struct galloc_stats st;

	galloc_stats(&st); /* before anything else here allocates */
	CHECK(early_block && galloc_base(early_block) == early_block &&
		      ((unsigned char *)early_block)[99] == 0x5a,
	      "the constructor's block %p", early_block);
	CHECK(st.caches == 1, "%lu caches for the one thread that allocated",
	      (unsigned long)st.caches);
	free(early_block);
}

int main(int argc, char **argv)
{
	const char *e = getenv("GOCHAN_ALLOC_SCAVENGER");

	if (!e || strcmp(e, "thread")) {
		setenv("GOCHAN_ALLOC_SCAVENGER", "thread", 1);
		execv("/proc/self/exe", argv);
		return 2;
	}
	TEST(first_malloc_from_a_constructor);
	return tap_any_failed;
}
