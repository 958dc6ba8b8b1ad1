#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The stress as a selftest (make check): 25 s (GOCHAN_STRESS_SECONDS).
exec "$(dirname "$0")/gochan-stress" -t "${GOCHAN_STRESS_SECONDS:-25}" "$@"
