// SPDX-License-Identifier: GPL-2.0
/*
 * gochan-bridge: named kernel channels bridged to Redis Streams, so that
 * producers and receivers on several hosts share one channel.
 *
 * Phases:
 *  1. Options (config.c), the password file.
 *  2. Start-up checks, each a clear error and exit status 1: every channel
 *     exists and may be used in its direction, Redis accepts the password,
 *     every stream holds elements of its channel's size (stream.c).
 *  3. One worker thread per mapping (out.c, in.c), each with its own
 *     connection.  Main waits for signals: SIGTERM / SIGINT stop the
 *     workers (they finish the round they are in; a second signal exits at
 *     once), SIGUSR1 prints the stats line now; it prints one every
 *     stats-interval seconds, and a last one at exit.
 *
 * --stats prints the streams', groups' and consumers' state instead, and
 * the local channels', and exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"

struct config cfg;
atomic_bool stopping;
static atomic_uint running;

static void usage(FILE *f)
{
	fprintf(f,
"usage: gochan-bridge [-c FILE] [OPTIONS] [--map 'out|in CHANNEL STREAM [OPT=V...]'...]\n"
"       gochan-bridge --stats [-c FILE] [OPTIONS]\n"
"\n"
"Bridge named kernel channels (/dev/gochan, this IPC namespace) to Redis\n"
"Streams, so that producers and receivers on several hosts share a channel.\n"
"Run one per host.  Each mapping moves values one way:\n"
"  out CHANNEL STREAM   receive from CHANNEL, XADD to STREAM\n"
"  in  CHANNEL STREAM   read STREAM in a consumer group shared by all hosts,\n"
"                       send into CHANNEL, XACK once the send returned\n"
"Mapping options: group=NAME, batch=N (values per round trip); for out:\n"
"capacity=N (stop receiving while N entries wait for the group: the\n"
"channel's capacity across hosts), spool=FILE (keep the batch in flight on\n"
"disk, for a bridge killed before Redis confirmed it); for in: prefetch=N\n"
"(read N more than the channel takes at once, instead of waiting for room).\n"
"\n"
"Options (also lines \"KEY VALUE\" of FILE; later ones override):\n"
"  -c, --config FILE        read settings and mappings from FILE\n"
"  -m, --map LINE           one mapping, as a line of FILE\n"
"  -r, --redis ADDR         unix:PATH, tcp://HOST:PORT or HOST[:PORT]\n"
"                           (default unix:/run/redis/redis-server.sock)\n"
"      --user NAME          Redis ACL user (with --password-file)\n"
"      --password-file FILE the password: the file's first line\n"
"      --tls                TLS to a TCP address (OpenSSL); --tls-ca FILE,\n"
"                           --tls-ca-dir DIR, --tls-cert FILE, --tls-key FILE\n"
"                           (client certificate), --tls-server-name NAME\n"
"  -n, --name NAME          this bridge in the group (default: host name);\n"
"                           unique among the bridges of a stream\n"
"  -g, --group NAME         consumer group (default gochan)\n"
"  -b, --batch N            values per round trip at most (default 64)\n"
"      --claim-idle MS      take over entries another bridge held this long\n"
"                           without progress (default 30000)\n"
"      --timeout MS         Redis connect and reply timeout (default 10000)\n"
"  -i, --stats-interval S   a stats line every S seconds (default 60, 0 none)\n"
"      --keep               keep consumed entries (default: trim them)\n"
"  -v, --verbose            say more\n"
"      --stats              print the state of the streams and channels, exit\n"
"  -h, --help               this text\n"
"\n"
"SIGUSR1 prints the stats line at once.\n"
"\n"
"Exit status: 0 stopped by SIGTERM/SIGINT or every channel closed, 1 a\n"
"start-up check or a mapping failed, 2 usage.\n");
}

int mapping_open(struct mapping *m)
{
	unsigned flags = GOCHAN_OPEN_CLOEXEC |
			 (m->dir == DIR_OUT ? GOCHAN_OPEN_RECV : GOCHAN_OPEN_SEND);
	struct gochan_stat st;
	int fd, r;

	fd = gochan_open(m->chan, flags, 0, 0, 0);
	if (fd == -ENOENT && access(GOCHAN_DEVICE_PATH, F_OK))
		logmap(m, "%s: no such device (is the gochan module loaded?)",
		       GOCHAN_DEVICE_PATH);
	else if (fd == -ENOENT)
		logmap(m, "channel %s does not exist in this IPC namespace: make it first (elem_size and capacity are the channel's, not the bridge's)",
		       m->chan);
	else if (fd == -EACCES)
		logmap(m, "channel %s: permission denied (the bridge %s it)", m->chan,
		       m->dir == DIR_OUT ? "receives from" : "sends into");
	else if (fd < 0)
		logmap(m, "channel %s: %s", m->chan, strerror(-fd));
	if (fd < 0)
		return -1;
	r = gochan_stat(fd, &st);
	if (r) {
		logmap(m, "channel %s: stat: %s", m->chan, strerror(-r));
		close(fd);
		return -1;
	}
	m->fd = fd;
	m->elem_size = st.elem_size;
	return 0;
}

static void *worker_main(void *arg)
{
	struct mapping *m = arg;

	m->status = m->dir == DIR_OUT ? out_run(m) : in_run(m);
	atomic_fetch_sub(&running, 1);
	return NULL;
}

/*
 * One line per mapping, KEY=VALUE: values moved (out: added to the stream,
 * in: sent into the channel), batches (round trips that moved values), and
 * for out resent (batches sent again after a reconnect), for in acked,
 * claimed (taken over from other bridges) and bad (entries of another
 * size, skipped); held (values in the bridge's hands), the channel's len
 * and waiting senders (out) or receivers (in), the group's pending
 * entries and lag (entries not yet read), the stream's length, reconnects
 * and whether Redis is up.  -1: not known (yet).
 */
static void stats_line(const struct mapping *m)
{
	const struct counters *c = &m->ctr;
	struct gochan_stat st = { 0 };
	bool have = m->fd >= 0 && gochan_stat(m->fd, &st) == 0;
	char what[96];

	if (m->dir == DIR_OUT)
		snprintf(what, sizeof(what), "resent=%llu",
			 (unsigned long long)atomic_load(&c->resent));
	else
		snprintf(what, sizeof(what), "acked=%llu claimed=%llu bad=%llu",
			 (unsigned long long)atomic_load(&c->acked),
			 (unsigned long long)atomic_load(&c->claimed),
			 (unsigned long long)atomic_load(&c->bad));
	logmap(m, "stats values=%llu batches=%llu %s held=%lld chan_len=%d chan_%s=%d pending=%lld lag=%lld length=%lld reconnects=%llu redis=%s",
	       (unsigned long long)atomic_load(&c->values),
	       (unsigned long long)atomic_load(&c->batches), what,
	       (long long)atomic_load(&c->held),
	       have ? (int)st.len : -1,
	       m->dir == DIR_OUT ? "senders" : "receivers",
	       have ? (int)(m->dir == DIR_OUT ? st.send_waiters : st.recv_waiters) : -1,
	       (long long)atomic_load(&c->pending),
	       (long long)atomic_load(&c->lag),
	       (long long)atomic_load(&c->length),
	       (unsigned long long)atomic_load(&c->reconnects),
	       atomic_load(&c->up) ? "up" : "down");
}

static void stats_all(void)
{
	for (unsigned i = 0; i < cfg.nmaps; i++)
		stats_line(&cfg.maps[i]);
}

/* Connect for a start-up step: transient errors are retried, until a signal. */
static int connect_start(struct rconn *rc)
{
	bool told = false;

	for (;;) {
		int r = rconn_open(rc);

		if (r == 0)
			return 0;
		if (r == RCONN_FATAL) {
			logmsg("redis: %s", rc->err);
			return -1;
		}
		if (!told || cfg.verbose)
			logmsg("redis: %s; retrying", rc->err);
		told = true;
		if (rconn_backoff(rc))
			return -1;
	}
}

/* --stats: the state of each mapping's channel and stream. */
static int report(void)
{
	struct rconn rc = { 0 };
	int ret = EXIT_OK;

	for (unsigned i = 0; i < cfg.nmaps; i++) {
		struct mapping *m = &cfg.maps[i];
		struct gochan_stat st;
		int fd = gochan_open(m->chan, GOCHAN_OPEN_RECV | GOCHAN_OPEN_CLOEXEC, 0, 0, 0);

		if (fd == -EACCES)
			fd = gochan_open(m->chan, GOCHAN_OPEN_SEND | GOCHAN_OPEN_CLOEXEC, 0, 0, 0);
		if (fd >= 0 && gochan_stat(fd, &st) == 0)
			printf("channel %s elem_size=%u capacity=%u len=%u senders=%u receivers=%u sent=%llu received=%llu closed=%s\n",
			       m->chan, st.elem_size, st.capacity, st.len, st.send_waiters,
			       st.recv_waiters, (unsigned long long)st.sent,
			       (unsigned long long)st.received,
			       st.flags & GOCHAN_STAT_CLOSED ? "yes" : "no");
		else
			printf("channel %s missing=yes\n", m->chan);
		if (fd >= 0)
			close(fd);
	}
	if (rconn_open(&rc)) {
		logmsg("redis: %s", rc.err);
		return EXIT_FAIL;
	}
	for (unsigned i = 0; i < cfg.nmaps; i++) {
		struct mapping *m = &cfg.maps[i];
		bool seen = false;

		for (unsigned j = 0; j < i; j++)
			seen |= !strcmp(cfg.maps[j].stream, m->stream);
		if (!seen && stream_report(&rc, m)) {
			logmsg("redis: %s", rc.err);
			ret = EXIT_FAIL;
			break;
		}
	}
	rconn_close(&rc);
	return ret;
}

/* Phase 2: every check that can fail for good, before any worker runs. */
static int start_checks(void)
{
	struct rconn rc = { 0 };
	int ret = -1;

	for (unsigned i = 0; i < cfg.nmaps; i++)
		if (mapping_open(&cfg.maps[i]))
			return -1;
	if (connect_start(&rc))
		return -1;
	for (unsigned i = 0; i < cfg.nmaps; ) {
		int r = stream_prepare(&rc, &cfg.maps[i]);

		if (r == PREP_FATAL)
			goto out;
		if (r == 0) {
			i++;
			continue;
		}
		if (connect_start(&rc))
			goto out;
	}
	ret = 0;
out:
	rconn_close(&rc);
	return ret;
}

enum {
	OPT_USER = 256, OPT_PASSWORD_FILE, OPT_TLS, OPT_TLS_CA, OPT_TLS_CA_DIR,
	OPT_TLS_CERT, OPT_TLS_KEY, OPT_TLS_SERVER_NAME, OPT_CLAIM_IDLE,
	OPT_TIMEOUT, OPT_KEEP, OPT_STATS,
};

static const struct option options[] = {
	{ "config",		required_argument,	NULL, 'c' },
	{ "map",		required_argument,	NULL, 'm' },
	{ "redis",		required_argument,	NULL, 'r' },
	{ "user",		required_argument,	NULL, OPT_USER },
	{ "password-file",	required_argument,	NULL, OPT_PASSWORD_FILE },
	{ "tls",		no_argument,		NULL, OPT_TLS },
	{ "tls-ca",		required_argument,	NULL, OPT_TLS_CA },
	{ "tls-ca-dir",		required_argument,	NULL, OPT_TLS_CA_DIR },
	{ "tls-cert",		required_argument,	NULL, OPT_TLS_CERT },
	{ "tls-key",		required_argument,	NULL, OPT_TLS_KEY },
	{ "tls-server-name",	required_argument,	NULL, OPT_TLS_SERVER_NAME },
	{ "name",		required_argument,	NULL, 'n' },
	{ "group",		required_argument,	NULL, 'g' },
	{ "batch",		required_argument,	NULL, 'b' },
	{ "claim-idle",		required_argument,	NULL, OPT_CLAIM_IDLE },
	{ "timeout",		required_argument,	NULL, OPT_TIMEOUT },
	{ "stats-interval",	required_argument,	NULL, 'i' },
	{ "keep",		no_argument,		NULL, OPT_KEEP },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "stats",		no_argument,		NULL, OPT_STATS },
	{ "help",		no_argument,		NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

int main(int argc, char **argv)
{
	bool stats_only = false;
	sigset_t sigs;
	int opt, ret = EXIT_OK;
	int64_t next_stats;

	config_defaults(&cfg);
	while ((opt = getopt_long(argc, argv, "c:m:r:n:g:b:i:vh", options, NULL)) != -1) {
		const char *key = NULL;
		int r;

		for (const struct option *o = options; o->name; o++)
			if (o->val == opt)
				key = o->name;
		switch (opt) {
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'c':
			r = config_file(&cfg, optarg);
			break;
		case OPT_STATS:
			stats_only = true;
			r = 0;
			break;
		case OPT_TLS:
		case OPT_KEEP:
		case 'v':
			r = config_set(&cfg, key, "yes", "command line");
			break;
		case '?':
			usage(stderr);
			return EXIT_USAGE;
		default:
			r = config_set(&cfg, key, optarg, "command line");
			break;
		}
		if (r)
			return EXIT_USAGE;
	}
	if (optind < argc) {
		logmsg("unexpected argument \"%s\" (mappings go in --map or -c FILE)", argv[optind]);
		return EXIT_USAGE;
	}
	if (config_finish(&cfg))
		return EXIT_FAIL;

	/* hiredis writes to sockets the server may have closed. */
	signal(SIGPIPE, SIG_IGN);
	if (stats_only)
		return report();

	/* Until the workers run, a signal's default action ends the bridge. */
	if (start_checks())
		return EXIT_FAIL;

	/* The signals are main's: blocked in every thread, taken by sigtimedwait. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	logmsg("bridging %u mapping%s as %s (group %s) via %s", cfg.nmaps,
	       cfg.nmaps == 1 ? "" : "s", cfg.name, cfg.group, cfg.redis);

	atomic_store(&running, cfg.nmaps);
	for (unsigned i = 0; i < cfg.nmaps; i++) {
		int r = pthread_create(&cfg.maps[i].thread, NULL, worker_main, &cfg.maps[i]);

		if (r) {
			logmsg("pthread_create: %s", strerror(r));
			return EXIT_FAIL;
		}
	}

	next_stats = cfg.stats_interval ? now_ms() + cfg.stats_interval * 1000LL : INT64_MAX;
	while (atomic_load(&running)) {
		struct timespec ts = { 0, 200 * 1000000L };
		int sig = sigtimedwait(&sigs, NULL, &ts);

		if (sig == SIGINT || sig == SIGTERM) {
			if (atomic_load(&stopping)) {
				logmsg("second signal: exiting now");
				stats_all();
				_exit(EXIT_FAIL);
			} else {
				logmsg("stopping (a second signal exits at once)");
				atomic_store(&stopping, true);
			}
		} else if (sig == SIGUSR1) {
			stats_all();
		}
		if (now_ms() >= next_stats) {
			stats_all();
			next_stats = now_ms() + cfg.stats_interval * 1000LL;
		}
	}
	for (unsigned i = 0; i < cfg.nmaps; i++) {
		pthread_join(cfg.maps[i].thread, NULL);
		if (cfg.maps[i].status)
			ret = EXIT_FAIL;
	}
	stats_all();
	return ret;
}
