/* SPDX-License-Identifier: MIT */
/*
 * pagealloc.c - the page allocator of one arena: a bitmap with summaries (after Go's pageAlloc).
 *
 * alloc[w] bit b is page 64w + b (1 = allocated). sum[w] summarizes the free runs of alloc[w]:
 *   start = free pages at its low end, max = longest free run, end = free pages at its high end
 * packed as start | max << 8 | end << 16 (each 0..64; a free word is 64/64/64).
 * The arena keeps two bounds, so a request skips full arenas in O(1) and a search reads at
 * most 128 summaries, finding the lowest-addressed fit (first fit keeps the heap compact,
 * which lets the scavenger release the high end):
 *   maxfree >= the longest free run (exact after a free, which computes the merged run; an
 *              allocation leaves it high; a failed search makes it exact again)
 *   searchw <= the first word with a free page (words below it are full)
 * All functions here are called with the heap lock held.
 */
#include "internal.h"

uint32_t ga_sum_start(uint32_t s) { return s & 0xff; }
uint32_t ga_sum_max(uint32_t s) { return (s >> 8) & 0xff; }
uint32_t ga_sum_end(uint32_t s) { return (s >> 16) & 0xff; }

static uint32_t ga_sum_pack(uint32_t start, uint32_t max, uint32_t end)
{
	return start | max << 8 | end << 16;
}

uint32_t ga_word_summary(uint64_t w)
{
	uint64_t f = ~w;
	uint32_t max = 0;

	if (w == 0)
		return ga_sum_pack(64, 64, 64);
	/* each round shortens every run of ones in f by one: rounds = the longest run */
	for (uint64_t x = f; x; x &= x << 1)
		max++;
	return ga_sum_pack((uint32_t)__builtin_ctzll(w), max, (uint32_t)__builtin_clzll(w));
}

/* The exact longest free run and first word with a free page. */
void ga_arena_summarize(struct ga_arena *a)
{
	uint32_t max = 0, run = 0, searchw = GA_ARENA_WORDS;

	for (uint32_t w = 0; w < GA_ARENA_WORDS; w++) {
		uint32_t s = a->sum[w], st = ga_sum_start(s), mx = ga_sum_max(s);

		if (mx && searchw == GA_ARENA_WORDS)
			searchw = w;
		if (st == 64) {
			run += 64;
			continue;
		}
		if (run + st > max)
			max = run + st;
		if (mx > max)
			max = mx;
		run = ga_sum_end(s);
	}
	if (run > max)
		max = run;
	a->maxfree = max;
	a->searchw = searchw;
}

/* The lowest index of n (<= 64) consecutive zero bits of w; w must have such a run. */
static uint32_t ga_find_zeros(uint64_t w, uint32_t n)
{
	uint64_t t = ~w;

	/* after this, bit i of t is set iff bits i .. i+k-1 of ~w all are, with k = n */
	for (uint32_t k = 1; k < n;) {
		uint32_t s = k < n - k ? k : n - k;
		t &= t >> s;
		k += s;
	}
	return (uint32_t)__builtin_ctzll(t);
}

/* First fit: the lowest page index starting npages free pages, or -1. */
long ga_pages_find(struct ga_arena *a, size_t npages)
{
	uint32_t n = (uint32_t)npages, run = 0, runstart = 0;

	uint32_t max = 0, first = GA_ARENA_WORDS;

	if (npages == 0 || npages > a->maxfree)
		return -1;
	for (uint32_t w = a->searchw; w < GA_ARENA_WORDS; w++) {
		uint32_t s = a->sum[w], st = ga_sum_start(s), mx = ga_sum_max(s);

		if (mx && first == GA_ARENA_WORDS)
			a->searchw = first = w; /* the words skipped were full */
		if (st == 64) {
			if (run == 0)
				runstart = w * 64;
			run += 64;
			if (run >= n)
				return runstart;
			continue;
		}
		if (run + st >= n)
			return run ? runstart : w * 64;
		if (n <= 64 && mx >= n)
			return w * 64 + ga_find_zeros(a->alloc[w], n);
		if (run + st > max)
			max = run + st;
		if (mx > max)
			max = mx;
		run = ga_sum_end(s);
		runstart = (w + 1) * 64 - run;
	}
	/* no fit: the scan saw every free run (none below searchw), so max is exact now */
	a->maxfree = run > max ? run : max;
	if (first == GA_ARENA_WORDS)
		a->searchw = GA_ARENA_WORDS;
	return -1;
}

/* The free run containing page i (which is free). */
static uint32_t ga_run_around(const struct ga_arena *a, size_t i)
{
	size_t lo = i, hi = i;

	while (lo > 0) {
		size_t w = (lo - 1) / 64, b = (lo - 1) % 64;
		uint64_t below = a->alloc[w] & (b == 63 ? ~0ull : ((1ull << (b + 1)) - 1));
		if (below) {
			lo = w * 64 + 64 - (size_t)__builtin_clzll(below);
			break;
		}
		lo = w * 64;
	}
	while (hi < GA_ARENA_PAGES) {
		size_t w = hi / 64, b = hi % 64;
		uint64_t above = a->alloc[w] & ~((1ull << b) - 1);
		if (above) {
			hi = w * 64 + (size_t)__builtin_ctzll(above);
			break;
		}
		hi = (w + 1) * 64;
	}
	return (uint32_t)(hi - lo);
}

void ga_bits_set(uint64_t *bits, size_t i, size_t n, bool set)
{
	while (n) {
		size_t w = i / 64, b = i % 64, k = 64 - b < n ? 64 - b : n;
		uint64_t m = (k == 64 ? ~0ull : ((1ull << k) - 1)) << b;

		if (set)
			bits[w] |= m;
		else
			bits[w] &= ~m;
		i += k;
		n -= k;
	}
}

size_t ga_pages_count(const uint64_t *bits, size_t i, size_t n)
{
	size_t c = 0;

	while (n) {
		size_t w = i / 64, b = i % 64, k = 64 - b < n ? 64 - b : n;
		uint64_t m = (k == 64 ? ~0ull : ((1ull << k) - 1)) << b;

		c += (size_t)__builtin_popcountll(bits[w] & m);
		i += k;
		n -= k;
	}
	return c;
}

/* Mark pages [i, i+n) allocated or free and bring the summaries up to date. */
void ga_pages_set(struct ga_arena *a, size_t i, size_t n, bool alloc)
{
	ga_bits_set(a->alloc, i, n, alloc);
	for (size_t w = i / 64; w <= (i + n - 1) / 64; w++)
		a->sum[w] = ga_word_summary(a->alloc[w]);
	if (alloc) {
		a->nfree -= (uint32_t)n;
	} else {
		uint32_t run = ga_run_around(a, i);
		a->nfree += (uint32_t)n;
		if (run > a->maxfree)
			a->maxfree = run;
		if (i / 64 < a->searchw)
			a->searchw = (uint32_t)(i / 64);
	}
}
