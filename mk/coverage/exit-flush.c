// SPDX-License-Identifier: GPL-2.0
/*
 * exit-flush.c: linked into every program make coverage builds, with
 * -Wl,--wrap=_exit (mk/coverage/cc).
 *
 * gcov writes a process's counters from an atexit handler, which _exit()
 * skips.  The kselftest harness runs each test in a child that ends with
 * _exit(), so without this the counts of every test body would be lost and
 * the report would show only what the harness's parent ran.
 */
#include <unistd.h>

extern void __gcov_dump(void);
extern void __real__exit(int status) __attribute__((noreturn));

void __wrap__exit(int status)
{
	__gcov_dump();
	__real__exit(status);
}
