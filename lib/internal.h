/* SPDX-License-Identifier: MIT */
#ifndef GOCHAN_LIB_INTERNAL_H
#define GOCHAN_LIB_INTERNAL_H

/*
 * Internals shared by the library's sources, grouped by the file that
 * defines them.  Nothing here is installed.
 *
 * The library is built with -fvisibility=hidden: a function is exported
 * only when its definition carries GOCHAN_API *and* lib/libgochan.map
 * lists it under a version node.  Internal functions are named _gochan_*.
 */

#include <errno.h>

#define GOCHAN_API	__attribute__((visibility("default")))

/*
 * Every public function leaves errno as it found it (see <gochan/kchan.h>):
 *
 *	int saved = errno;
 *	... ret = -errno after a failed system call ...
 *	errno = saved;
 */

#endif /* GOCHAN_LIB_INTERNAL_H */
