/* SPDX-License-Identifier: MIT */
/*
 * early_lib.c - libearly.so for test_early: a library whose constructor allocates. Linked
 * after libgochan-malloc.so, it is initialized before it, so its malloc is the process's
 * first, made before the allocator's own constructor has run.
 */
#include <stdlib.h>
#include <string.h>

void *early_block;

__attribute__((constructor)) static void early_malloc(void)
{
	early_block = malloc(100);
	if (early_block)
		memset(early_block, 0x5a, 100);
}
