// SPDX-License-Identifier: GPL-2.0
/* TLS to Redis: not built in yet (Debian 12's hiredis 0.14.1 has none). */
#include <stdio.h>

#include "bridge.h"

int tls_connect(struct rconn *rc, const char *host, int port, bool *fatal)
{
	snprintf(rc->err, sizeof(rc->err), "tls: %s:%d: not built into this gochan-bridge",
		 host, port);
	*fatal = true;
	return -1;
}

void tls_close(struct tls_link *t)
{
	(void)t;
}
