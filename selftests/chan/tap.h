/* SPDX-License-Identifier: MIT */
/*
 * tap.h - TAP for the channel, select and context tests (and lib/time's): common/tap-go.h,
 * each TEST(fn) running fn as the main goroutine of its own go_run(), sizes scaled by
 * $CHAN_TEST_SCALE. A comment above each check says what must happen.
 */
#ifndef CHAN_TAP_H
#define CHAN_TAP_H

#define TAP_SCALE_ENV "CHAN_TEST_SCALE"
#include "../common/tap-go.h"

#define MS 1000000LL

#endif
