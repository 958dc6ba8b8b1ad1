// SPDX-License-Identifier: GPL-2.0
/*
 * The pointer generator and struct buffers.  ptr() gives a buffer for
 * values that is usually good and sometimes NULL, a kernel or
 * non-canonical address, an unmapped page, read-only memory or memory
 * that ends part-way: the special pages ptr_init() maps.  sbuf_make()
 * lays a uapi struct out with a size field and tail that are usually right
 * and sometimes not, in one of those places, and says in struct sbuf what
 * the kernel must make of it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <linux/gochan.h>

#include "fuzz.h"

/* ---- pointers ---------------------------------------------------------- */

unsigned char *scratch;
unsigned char *edge;
unsigned char *ro;
unsigned char *ro_struct;
void *hole;

/* The special pages, once per worker. */
void ptr_init(void)
{
	scratch = mmap(NULL, SCRATCH, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	edge = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro_struct = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	hole = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED || edge == MAP_FAILED || ro == MAP_FAILED ||
	    ro_struct == MAP_FAILED || hole == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	mprotect(edge + PAGE, PAGE, PROT_NONE);
	mprotect(ro + PAGE, PAGE, PROT_NONE);
}

/* A pointer for len bytes: usually good, else one of the bad kinds. */
void *ptr(size_t len, enum ptr_kind *kind)
{
	enum ptr_kind k = one_in(6) ? (enum ptr_kind)(1 + rn(P_NR - 1)) : P_GOOD;

	if (len > SCRATCH)
		len = SCRATCH;
	*kind = k;
	switch (k) {
	case P_NULL:	 return NULL;
	case P_KERNEL:	 return (void *)(one_in(2) ? 0xffffffff81000000ul :
						     0xffff888000001000ul);
	case P_NONCANON: return (void *)0xdead000000000000ul;
	case P_HOLE:	 return one_in(2) ? hole : (void *)0x10000ul;
	case P_EDGE:	 return edge + PAGE - rn(len < PAGE ? len : PAGE);	/* < len mapped */
	case P_RO:	 return ro;
	default:	 return scratch + rn(64) * 8 % (SCRATCH - len + 1);
	}
}

/* ---- struct buffers ---------------------------------------------------- */

unsigned char sbuf_mem[SBUF_MEM];

void *sbuf_make(struct sbuf *s, const void *st, uint32_t ksize, uint32_t ver0)
{
	uint32_t size = ksize;
	enum ptr_kind pk = P_GOOD;
	uint32_t r = rn(24);

	if (r == 0)
		size = rn(ver0);
	else if (r == 1)
		size = ksize + 8 * (1 + rn(4));
	else if (r == 2)
		size = one_in(2) ? 4097 : 0xffffffffu;
	else if (r == 3)
		size = 4096;
	memset(sbuf_mem, 0, sizeof(sbuf_mem));
	memcpy(sbuf_mem, st, ksize);
	memcpy(sbuf_mem, &size, 4);
	s->valid = size >= ver0 && size <= 4096;
	if (size > ksize && size <= 4096 && one_in(2)) {
		sbuf_mem[ksize + rn(size - ksize)] = 1 + rn(255);
		s->valid = false;
	}
	s->size = size;
	s->good = s->valid;
	s->ro = s->bad = false;
	s->p = sbuf_mem;
	if (one_in(12)) {
		uint32_t n = size <= 4096 ? size : ksize;

		s->good = false;
		switch (rn(4)) {
		case 0:
			do
				s->p = ptr(n, &pk);
			while (pk == P_GOOD || pk == P_RO);
			if (pk == P_EDGE)
				memcpy(s->p, sbuf_mem, edge + PAGE - s->p);
			s->bad = true;
			break;
		case 1:	/* read-only: copied in fine, the write-back faults */
			if (no_ro_out && (ksize == sizeof(struct gochan_xfer) ||
					  ksize == sizeof(struct gochan_select))) {
				s->p = hole;
				s->bad = true;
				break;
			}
			/* At least the whole struct: with a size field under 4 bytes
			 * (n < 4) the kernel still reads 4, and must not find the
			 * last call's struct there (it did: "a bad struct
			 * succeeded", as the stale one was valid). */
			mprotect(ro_struct, PAGE, PROT_READ | PROT_WRITE);
			memcpy(ro_struct, sbuf_mem, n > PAGE ? PAGE : n > ksize ? n : ksize);
			mprotect(ro_struct, PAGE, PROT_READ);
			s->p = ro_struct;
			s->ro = s->valid && n <= PAGE;
			s->bad = !s->ro;
			break;
		case 2:
			s->p = edge + PAGE - (n > 1 ? 1 + rn(n - 1) : 0);
			memcpy(s->p, sbuf_mem, edge + PAGE - s->p);
			s->bad = true;
			break;
		default:
			s->p = hole;
			s->bad = true;
		}
	}
	return s->p;
}
