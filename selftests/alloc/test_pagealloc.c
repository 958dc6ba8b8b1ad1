/* SPDX-License-Identifier: MIT */
/*
 * Description: the page allocator of one arena (bitmap + summaries) against a naive model:
 * first fit, summaries, maxfree, under random allocations and frees.
 */
#include "internal.h"
#include "tap.h"

static struct ga_arena *arena_new(void)
{
	struct ga_arena *a = calloc(1, sizeof(*a));

	for (size_t i = 0; i < GA_ARENA_META_PAGES; i++)
		a->alloc[i / 64] |= 1ull << (i % 64);
	for (size_t w = 0; w < GA_ARENA_WORDS; w++)
		a->sum[w] = ga_word_summary(a->alloc[w]);
	a->nfree = GA_ARENA_USABLE_PAGES;
	ga_arena_summarize(a);
	return a;
}

static bool model_used(const struct ga_arena *a, size_t i)
{
	return a->alloc[i / 64] & (1ull << (i % 64));
}

static long model_find(const struct ga_arena *a, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < GA_ARENA_PAGES; i++) {
		run = model_used(a, i) ? 0 : run + 1;
		if (run == n)
			return (long)(i + 1 - n);
	}
	return -1;
}

static uint32_t model_maxfree(const struct ga_arena *a)
{
	uint32_t run = 0, max = 0;
	for (size_t i = 0; i < GA_ARENA_PAGES; i++) {
		run = model_used(a, i) ? 0 : run + 1;
		if (run > max)
			max = run;
	}
	return max;
}

/* Word summaries: start, longest and end runs of free pages. */
static void word_summary_counts_runs(void)
{
	CHECK(ga_word_summary(0) == (64u | 64u << 8 | 64u << 16), "free word");
	CHECK(ga_word_summary(~0ull) == 0, "full word");
	uint32_t s = ga_word_summary(0xff00ff0000000000ull); /* 40 free low, 8 mid, 0 high */
	CHECK(ga_sum_start(s) == 40 && ga_sum_max(s) == 40 && ga_sum_end(s) == 0, "mixed %#x", s);
	s = ga_word_summary(0x1ull | 1ull << 63);
	CHECK(ga_sum_start(s) == 0 && ga_sum_max(s) == 62 && ga_sum_end(s) == 0, "middle %#x", s);
}

/* A fresh arena is one run of every usable page, found at the first usable page. */
static void fresh_arena_is_one_run(void)
{
	struct ga_arena *a = arena_new();
	CHECK(a->maxfree == GA_ARENA_USABLE_PAGES, "maxfree %u", a->maxfree);
	CHECK(ga_pages_find(a, 1) == (long)GA_ARENA_META_PAGES, "first page");
	CHECK(ga_pages_find(a, GA_ARENA_USABLE_PAGES) == (long)GA_ARENA_META_PAGES, "all pages");
	CHECK(ga_pages_find(a, GA_ARENA_USABLE_PAGES + 1) == -1, "too many");
	free(a);
}

/* Random allocations and frees: find == naive first fit, summaries and maxfree exact. */
static void random_ops_match_first_fit(void)
{
	struct ga_arena *a = arena_new();
	unsigned seed = 1;
	struct { size_t i, n; } live[4096];
	size_t nlive = 0;

	for (int op = 0; op < 200000 && !tap_failed; op++) {
		if (nlive < 4096 && (rand_r(&seed) % 3 != 0 || nlive == 0)) {
			size_t r = (size_t)rand_r(&seed) % 100, n;
			n = r < 60 ? 1 + r % 4 : r < 95 ? 1 + (size_t)rand_r(&seed) % 80
						 : 1 + (size_t)rand_r(&seed) % 2000;
			long got = ga_pages_find(a, n), want = model_find(a, n);
			CHECK(got == want, "op %d: find(%zu) = %ld, first fit %ld", op, n, got, want);
			if (got >= 0) {
				ga_pages_set(a, (size_t)got, n, true);
				live[nlive].i = (size_t)got;
				live[nlive++].n = n;
			}
		} else {
			size_t k = (size_t)rand_r(&seed) % nlive;
			ga_pages_set(a, live[k].i, live[k].n, false);
			live[k] = live[--nlive];
		}
		if (op % 97 == 0) {
			CHECK(a->maxfree >= model_maxfree(a), "op %d: maxfree bound %u < model %u",
			      op, a->maxfree, model_maxfree(a));
			for (size_t w = 0; w < GA_ARENA_WORDS; w++)
				CHECK(a->sum[w] == ga_word_summary(a->alloc[w]), "stale summary");
		}
	}
	free(a);
}

int main(int argc, char **argv)
{
	TEST(word_summary_counts_runs);
	TEST(fresh_arena_is_one_run);
	TEST(random_ops_match_first_fit);
	return tap_any_failed;
}
