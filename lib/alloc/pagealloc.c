/* SPDX-License-Identifier: MIT */
/*
 * pagealloc.c - the page allocator of one arena: a bitmap with summaries (after Go's pageAlloc).
 *
 * alloc[w] bit b is page 64w + b (1 = allocated). sum[w] summarizes the free runs of alloc[w]:
 *   start = free pages at its low end, max = longest free run, end = free pages at its high end
 * packed as start | max << 8 | end << 16 (each 0..64; a free word is 64/64/64).
 * The arena keeps maxfree (the longest free run across word boundaries) and searchw (the first
 * word with a free page), so a request skips full arenas in O(1) and a search reads at most
 * 128 summaries, finding the lowest-addressed fit (first fit keeps the heap compact, which
 * lets the scavenger release the high end).
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

	if (npages == 0 || npages > a->maxfree)
		return -1;
	for (uint32_t w = a->searchw; w < GA_ARENA_WORDS; w++) {
		uint32_t s = a->sum[w], st = ga_sum_start(s);

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
		if (n <= 64 && ga_sum_max(s) >= n)
			return w * 64 + ga_find_zeros(a->alloc[w], n);
		run = ga_sum_end(s);
		runstart = (w + 1) * 64 - run;
	}
	return -1;
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
	if (alloc)
		a->nfree -= (uint32_t)n;
	else
		a->nfree += (uint32_t)n;
	ga_arena_summarize(a);
}
