// SPDX-License-Identifier: MIT
/*
 * Description: C++ built with clang -O2, run under the LD_PRELOAD malloc. Clang takes
 * operator new's alignment (__STDCPP_DEFAULT_NEW_ALIGNMENT__, 16 on x86-64) as given and
 * zeroes a new T of 17 to 24 bytes with movaps, which faults on a pointer only 8-aligned
 * (issue 26 #2); then the standard containers from several threads, freeing each other's
 * nodes.
 *   cxx_new [-s seconds] [TEST...]   (-s: repeat the containers for that long: the soak)
 */
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tap.h"

template <int N> struct Obj {
	char b[N];
};

/* new T() for every size of the 24-byte class, value-initialized (zeroed in place) */
template <int N> static void new_and_zero(int rounds)
{
	std::vector<Obj<N> *> v;

	for (int i = 0; i < rounds; i++)
		v.push_back(new Obj<N>());
	for (auto *p : v) {
		CHECK(((uintptr_t)p & (__STDCPP_DEFAULT_NEW_ALIGNMENT__ - 1)) == 0, "new of %d at %p",
		      N, (void *)p);
		CHECK(p->b[0] == 0 && p->b[N - 1] == 0, "new of %d not zeroed", N);
		delete p;
	}
}

static void new_of_17_to_24_bytes_is_aligned(void)
{
	new_and_zero<17>(1000);
	new_and_zero<20>(1000);
	new_and_zero<24>(1000);
	new_and_zero<8>(1000);
	new_and_zero<40>(1000);
}

/* maps and strings built on one thread, destroyed on another */
static void containers_once(void)
{
	std::vector<std::unique_ptr<std::map<int, std::string>>> made(8);
	std::vector<std::thread> t;

	for (int k = 0; k < 4; k++)
		t.emplace_back([&made, k] {
			for (int r = 0; r < 50; r++) {
				auto m = std::make_unique<std::map<int, std::string>>();
				for (int i = 0; i < 500; i++)
					(*m)[i] = std::string((size_t)(i % 40), (char)('a' + k));
				made[(size_t)(k * 2 + r % 2)].swap(m); /* the old one dies here */
			}
		});
	for (auto &x : t)
		x.join();
	for (auto &m : made)
		CHECK(m && m->size() == 500 && (*m)[39].size() == 39, "map lost its contents");
}

static double seconds; /* -s */

static void containers_cross_threads(void)
{
	auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);

	do
		containers_once();
	while (std::chrono::steady_clock::now() < end && !tap_failed);
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "-s")) {
		seconds = atof(argv[2]);
		argv[2] = argv[0];
		argc -= 2;
		argv += 2;
	}
	TEST(new_of_17_to_24_bytes_is_aligned);
	TEST(containers_cross_threads);
	return tap_any_failed;
}
