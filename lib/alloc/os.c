/* SPDX-License-Identifier: MIT */
/* os.c - the only file that talks to the kernel about memory. */
#include "internal.h"

#include <sys/mman.h>

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

/*
 * Reserve size bytes whose byte off is aligned to align (a power of two >= the OS page; off
 * a multiple of the OS page), readable and writable, untouched (so not resident). Returns
 * NULL on failure.
 */
void *ga_os_reserve_at(size_t size, size_t align, size_t off)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	size_t over = size + align;
	char *p, *q;

	if (over < size)
		return NULL;
	p = mmap(NULL, over, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* the first q >= p with q + off aligned */
	q = (char *)((((uintptr_t)p + off + align - 1) & ~(uintptr_t)(align - 1)) - off);
	if (q < p)
		q += align;
	if (q > p)
		munmap(p, (size_t)(q - p));
	if (p + over > q + size)
		munmap(q + size, (size_t)(p + over - (q + size)));
	return q;
}

void *ga_os_reserve(size_t size, size_t align)
{
	return ga_os_reserve_at(size, align, 0);
}

void ga_os_release(void *p, size_t size)
{
	munmap(p, size);
}

/* The pages stay mapped and read as zero; their memory goes back to the OS. */
void ga_os_decommit(void *p, size_t size)
{
	madvise(p, size, MADV_DONTNEED);
}
