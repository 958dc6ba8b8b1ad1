/* SPDX-License-Identifier: MIT */
/*
 * rand.h - the random streams of the test programs, each on a 64-bit state the caller
 * keeps (per worker, per thread) so a run is reproduced from its seed: splitmix64 (the
 * fuzzer, the stress: any seed, mix64() also hashes a seed) and xorshift64 (the soaks and
 * stress loops: cheaper, its state must not be 0).
 */
#ifndef SELFTESTS_RAND_H
#define SELFTESTS_RAND_H

#include <stdint.h>

static inline uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t splitmix64(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ull;
	return mix64(*s);
}

/* 0..n-1 (0 when n is 0) */
static inline uint32_t splitmix64_below(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(splitmix64(s) % n) : 0;
}

static inline uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#endif
