// SPDX-License-Identifier: GPL-2.0
/* The one place the gochan tracepoints are defined (see gochan_trace.h). */
#define CREATE_TRACE_POINTS
#include "gochan_trace.h"
