/* SPDX-License-Identifier: MIT */
/*
 * verify.c - the verify mode (Go's GODEBUG=gccheckmark=1, mcheckmark.go): once marking is
 * over, with the world stopped, the heap is marked again from every root into check bits of
 * its own, and an allocated object reached that the mark bits left white means that marking
 * lost an object the program can still reach (a store that bypassed the write barrier, a
 * root not scanned): the program aborts naming it and the object it was found in.
 *
 * Stacks are scanned conservatively, and a frame may leave a slot unwritten that still holds
 * what an older frame put there, below the stack pointer the concurrent scan started from:
 * a stale word, never used, that may point at an object dead since the cycle began. So a
 * white object reached from a stack, or from a white object, is followed but not reported;
 * one reached from a global, a registered root or a marked object is (Go's checkmark has
 * precise stack maps and needs no such care).
 *
 * The check bits live in a table of their own (span -> bits), in memory from mmap: the
 * world may be stopped while a thread holds malloc's lock (a goroutine stopped by the signal
 * in program code), so nothing here calls malloc, nor lib/alloc's locks.
 * Decision beside Go's: Go keeps the check bits in the heap arena's metadata and reuses the
 * mark bits' layout; a side table keeps struct ga_span unchanged for a test-only mode.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

bool _go_gc_verify_force; /* a test's switch, besides the environment */

static int verify_env = -1;

bool _go_gc_verify_enabled(void)
{
	if (verify_env < 0) {
		const char *d = getenv("GODEBUG"), *v = getenv("GOCHAN_GCVERIFY");

		verify_env = (d && strstr(d, "gccheckmark=1")) || (v && !strcmp(v, "1"));
	}
	return verify_env || load_relaxed(&_go_gc_verify_force);
}

struct vslot {
	struct ga_span *s;
	uint64_t *bits;
};

static struct {
	struct vslot *tab;
	size_t cap;            /* a power of two */
	char *bump, *end;      /* check bits */
	size_t map_tab, map_bits;
	void *bits_base;
	uint64_t white;        /* reachable objects found white */
} v;

static void *vmap(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);

	if (p == MAP_FAILED)
		_go_gc_fatal("verify mode: out of memory (%zu bytes)", n);
	return p;
}

static uint64_t *vbits(struct ga_span *s)
{
	size_t h = ((uintptr_t)s >> 7) * 0x9e3779b97f4a7c15ull, i;
	size_t nw = s->spc < 2 ? 1 : ga_gc_mark_words(s);

	for (i = h & (v.cap - 1);; i = (i + 1) & (v.cap - 1)) {
		if (v.tab[i].s == s)
			return v.tab[i].bits;
		if (!v.tab[i].s)
			break;
	}
	if ((size_t)(v.end - v.bump) < nw * 8)
		_go_gc_fatal("verify mode: more collected spans than when it began");
	v.tab[i].s = s;
	v.tab[i].bits = (uint64_t *)v.bump;
	v.bump += nw * 8;
	return v.tab[i].bits;
}

static bool slot_allocated(const struct ga_span *s, size_t idx)
{
	if (s->spc < 2)
		return true;
	return idx < s->freeindex || (s->allocbits[idx / 64] >> (idx % 64) & 1);
}

bool _go_gc_verify_reached(struct gc_work *w, struct ga_span *s, uintptr_t obj, size_t idx)
{
	uint64_t *b = vbits(s), bit = 1ull << (idx % 64);

	if (b[idx / 64] & bit)
		return false;
	b[idx / 64] |= bit;
	if (!slot_allocated(s, idx))
		return false;
	if (!(load_relaxed(&s->gcmarks[idx / 64]) & bit) && !w->verify_lax) {
		size_t size = s->spc < 2 ? (size_t)s->npages * GA_PAGE_SIZE : s->elemsize;

		_go_gc_fatal("gc verify: object %#lx (%zu bytes) is reachable (from %#lx) but "
			     "marking left it white: a pointer store without the write barrier, "
			     "or a root not scanned", (unsigned long)obj, size,
			     (unsigned long)w->scanning);
	}
	return true;
}

bool _go_gc_verify_marked(struct ga_span *s, uintptr_t obj)
{
	size_t idx = s->spc < 2 ? 0 : (size_t)(((uint64_t)(obj - s->base) * s->divmul) >> 32);

	return load_relaxed(&s->gcmarks[idx / 64]) >> (idx % 64) & 1;
}

void _go_gc_verify(struct go_g *self)
{
	uint64_t nspans = atomic_load_explicit(&ga_gc_nspans, memory_order_relaxed);
	struct go_stacks_iter it = { 0 };
	struct gc_work w;
	struct go_g *g;

	v.cap = 64;
	while (v.cap < nspans * 2 + 64)
		v.cap *= 2;
	v.map_tab = v.cap * sizeof(struct vslot);
	v.tab = vmap(v.map_tab);
	/* (at most 16 words of marks per span: 1024 slots) */
	v.map_bits = (nspans + 64) * 16 * 8;
	v.bits_base = v.bump = vmap(v.map_bits);
	v.end = v.bump + v.map_bits;

	_go_gc_work_init(&w);
	w.verify = true;
	for (size_t i = 0; i < _go_gc_data_roots_count(); i++)
		_go_gc_data_roots_scan(&w, i);
	_go_gc_registered_roots_scan(&w);
	_go_gc_finalizers_scan(&w);
	_go_gc_drain(&w, -1);
	w.verify_lax = true;
	while ((g = _go_stacks_next_g(&it)) != NULL)
		_go_gc_scan_stopped_g(&w, g, self);
	_go_gc_drain(&w, -1);
	_go_gc_work_dispose(&w);

	munmap(v.tab, v.map_tab);
	munmap(v.bits_base, v.map_bits);
	v.tab = NULL;
}
