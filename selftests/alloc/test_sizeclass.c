/* SPDX-License-Identifier: MIT */
/* Description: size class tables: Go's geometry, the lookup tables, exact slot division. */
#include "internal.h"
#include "tap.h"

/* Every size maps to the smallest class that fits it. */
static void size_to_class_is_smallest_fit(void)
{
	for (size_t n = 0; n <= GA_MAX_SMALL_SIZE; n++) {
		unsigned c = ga_size_to_class(n);
		CHECK(c >= 1 && c < GA_NUM_CLASSES, "n=%zu class %u", n, c);
		CHECK(ga_class_size[c] >= n, "n=%zu class %u too small", n, c);
		CHECK(c == 1 || ga_class_size[c - 1] < n || (n == 0 && c == 1), "n=%zu not smallest", n);
		if (tap_failed)
			return;
	}
}

/* malloc's lookup: the smallest class that fits and is a multiple of 16 (max_align_t). */
static void size_to_class16_is_smallest_aligned_fit(void)
{
	for (size_t n = 0; n <= GA_MAX_SMALL_SIZE; n++) {
		unsigned c = ga_size_to_class16(n), s;

		CHECK(c >= 2 && c < GA_NUM_CLASSES, "n=%zu class %u", n, c);
		CHECK(ga_class_size[c] >= n && ga_class_size[c] % 16 == 0, "n=%zu class %u", n, c);
		for (s = c - 1; s >= 1 && (ga_class_size[s] < n || ga_class_size[s] % 16); s--)
			;
		CHECK(s == 0, "n=%zu: class %u, but class %u fits", n, c, s);
		if (tap_failed)
			return;
	}
}

/* Go's table: 68 classes, sizes increasing, objects fit their spans, 8..32768 bytes. */
static void classes_match_go_geometry(void)
{
	CHECK(ga_class_size[1] == 8 && ga_class_size[3] == 24 && ga_class_size[67] == 32768,
	      "endpoints");
	CHECK(ga_class_npages[65] == 10 && ga_class_npages[60] == 9, "npages sample");
	for (unsigned c = 1; c < GA_NUM_CLASSES; c++) {
		size_t span = ga_class_npages[c] * GA_PAGE_SIZE;
		CHECK(ga_class_size[c] > ga_class_size[c - 1], "class %u not increasing", c);
		CHECK(span / ga_class_size[c] >= 1, "class %u: no object fits", c);
		CHECK(ga_class_size[c] % 8 == 0, "class %u not 8-aligned", c);
		CHECK(c < 4 || ga_class_size[c] % 16 == 0, "class %u not 16-aligned", c);
	}
}

/* ((off * divmul) >> 32) is the slot index for every byte of every span. */
static void divmul_is_exact(void)
{
	for (unsigned c = 1; c < GA_NUM_CLASSES; c++) {
		struct ga_span s = { .npages = ga_class_npages[c] };
		ga_span_init_small(&s, c << 1);
		for (uint64_t off = 0; off < (uint64_t)s.nelems * s.elemsize; off++) {
			if (((off * s.divmul) >> 32) != off / s.elemsize) {
				CHECK(0, "class %u off %lu", c, (unsigned long)off);
				return;
			}
		}
	}
}

/* ga_span_slot (the free path's check) holds for slot starts, and only for carved ones */
static void slot_check_is_exact(void)
{
	for (unsigned c = 1; c < GA_NUM_CLASSES; c++) {
		struct ga_span s = { .npages = ga_class_npages[c], .base = 1ul << 30 };

		ga_span_init_small(&s, c << 1);
		s.carved = (uint16_t)(s.nelems - 1); /* the last slot never handed out */
		for (uint64_t off = 0; off < (uint64_t)s.npages * GA_PAGE_SIZE; off++) {
			bool slot = off % s.elemsize == 0 && off / s.elemsize < s.carved;

			if (ga_span_slot(&s, (void *)(s.base + off), s.carved) != slot) {
				CHECK(0, "class %u off %lu: %s", c, (unsigned long)off,
				      slot ? "slot missed" : "not a slot, passed");
				return;
			}
		}
	}
}

int main(int argc, char **argv)
{
	TEST(size_to_class_is_smallest_fit);
	TEST(size_to_class16_is_smallest_aligned_fit);
	TEST(classes_match_go_geometry);
	TEST(divmul_is_exact);
	TEST(slot_check_is_exact);
	return tap_any_failed;
}
