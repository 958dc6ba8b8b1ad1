/* SPDX-License-Identifier: MIT */
/*
 * Description: libFuzzer target driving the allocator with operation sequences: allocate
 * (any size, scan/noscan/zero, aligned), free, realloc, look up interior pointers; every
 * object is stamped and checked, and the heap checker runs after each input.
 * Built with clang -fsanitize=fuzzer,address (the allocator's API, not the interposer).
 */
#include <gochan/alloc.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NSLOTS = 64 };

struct slot {
	unsigned char *p;
	size_t n;
	unsigned char tag;
};

static void stamp(struct slot *s)
{
	if (s->n) {
		s->p[0] = s->tag;
		s->p[s->n - 1] = s->tag;
	}
}

static void verify(const struct slot *s)
{
	if (s->n && (s->p[0] != s->tag || s->p[s->n - 1] != s->tag)) {
		fprintf(stderr, "object %p (size %zu) clobbered\n", (void *)s->p, s->n);
		abort();
	}
}

static size_t take(const uint8_t **d, size_t *len, size_t bytes)
{
	size_t v = 0;

	while (bytes-- && *len) {
		v = v << 8 | **d;
		(*d)++;
		(*len)--;
	}
	return v;
}

static size_t size_of(size_t raw)
{
	switch (raw & 3) {
	case 0: return raw >> 2 & 31;               /* tiny and tiniest */
	case 1: return raw >> 2 & 1023;             /* small */
	case 2: return raw >> 2 & 32767;            /* medium */
	default: return (raw >> 2) % (3u << 20);    /* large */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct slot slots[NSLOTS] = { { 0 } };
	unsigned char tag = 1;
	char msg[256];

	while (len) {
		unsigned op = (unsigned)take(&data, &len, 1);
		struct slot *s = &slots[take(&data, &len, 1) % NSLOTS];
		size_t raw = take(&data, &len, 3);

		switch (op % 6) {
		case 0: case 1: /* allocate */
			if (s->p) {
				verify(s);
				gfree(s->p);
			}
			s->n = size_of(raw);
			s->p = galloc(s->n, (op >> 3) & 3);
			s->tag = tag++;
			if (!s->p) {
				s->n = 0;
				break;
			}
			if ((op >> 3) & GALLOC_ZERO)
				for (size_t i = 0; i < s->n; i++)
					if (s->p[i])
						abort();
			stamp(s);
			break;
		case 2: /* aligned */
			if (s->p) {
				verify(s);
				gfree(s->p);
			}
			s->n = size_of(raw);
			s->p = galloc_aligned(s->n, (size_t)8 << (op >> 3 & 15), 0);
			if (s->p && ((uintptr_t)s->p & (((size_t)8 << (op >> 3 & 15)) - 1)))
				abort();
			s->tag = tag++;
			if (!s->p)
				s->n = 0;
			else
				stamp(s);
			break;
		case 3: /* free */
			if (s->p) {
				verify(s);
				gfree(s->p);
				s->p = NULL;
				s->n = 0;
			}
			break;
		case 4: { /* realloc, keeping the first byte */
			size_t n = size_of(raw);
			if (!s->p || n < 1 || s->n < 1)
				break;
			verify(s);
			unsigned char *q = grealloc(s->p, n, 0);
			if (!q)
				break;
			if (q[0] != s->tag)
				abort();
			s->p = q;
			s->n = n;
			stamp(s);
			break;
		}
		default: /* interior pointer lookup */
			if (s->p && s->n) {
				struct galloc_object o;
				unsigned char *in = s->p + raw % s->n;
				if (galloc_find(in, &o) || (unsigned char *)o.base > s->p ||
				    (unsigned char *)o.base + o.size < s->p + s->n)
					abort();
			}
		}
	}
	for (int i = 0; i < NSLOTS; i++)
		if (slots[i].p) {
			verify(&slots[i]);
			gfree(slots[i].p);
		}
	if (galloc_check(msg, sizeof(msg))) {
		fprintf(stderr, "heap check: %s\n", msg);
		abort();
	}
	return 0;
}
