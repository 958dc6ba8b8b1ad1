// SPDX-License-Identifier: GPL-2.0
/*
 * gochan-bridge-bench: values per second and latency through gochan-bridge,
 * and through Redis alone with hiredis doing what the bridge does (XADD
 * pipelined in batches; XREADGROUP and XACK pipelined in batches), so that
 * the two can be compared in one run (bench.sh drives it).
 *
 *	gochan-bridge-bench make NAME SIZE CAPACITY     a named channel
 *	gochan-bridge-bench unlink NAME
 *	gochan-bridge-bench broker SOCKET SIZE PRODUCERS COUNT BATCH
 *	gochan-bridge-bench bridge SEND_CHAN RECV_CHAN PRODUCERS COUNT
 *	gochan-bridge-bench broker-rtt SOCKET SIZE COUNT
 *	gochan-bridge-bench bridge-rtt SEND_CHAN RECV_CHAN COUNT
 *
 * broker and bridge: PRODUCERS threads send COUNT values in all, as fast as
 * they can, and one receiver takes them; each value carries the time it was
 * sent, so the receiver measures its latency (under that load).  The *-rtt
 * forms send one value at a time and wait for it: the latency of one value
 * alone.  Each prints one line:
 *
 *	values=N seconds=S rate=R p50_us=A p99_us=B max_us=C
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include <gochan/kchan.h>

static const char *sock_path;
static size_t size;
static unsigned producers, batch;
static unsigned long count;
static const char *send_name, *recv_name;
static char stream[64];
static int64_t *lat;		/* ns, one per value received */
static pthread_barrier_t start;

static void die(const char *what, const char *why)
{
	fprintf(stderr, "gochan-bridge-bench: %s: %s\n", what, why);
	exit(1);
}

static redisContext *connect_redis(void)
{
	redisContext *c = redisConnectUnix(sock_path);

	if (!c || c->err)
		die(sock_path, c ? c->errstr : "out of memory");
	return c;
}

static redisReply *call(redisContext *c, int argc, const char **argv, const size_t *len)
{
	redisReply *r = redisCommandArgv(c, argc, argv, len);

	if (!r)
		die("redis", c->errstr);
	if (r->type == REDIS_REPLY_ERROR)
		die("redis", r->str);
	return r;
}

static void stamp(char *v)
{
	int64_t now = gochan_now_ns();

	memcpy(v, &now, sizeof(now));
}

static int64_t age(const char *v)
{
	int64_t then;

	memcpy(&then, v, sizeof(then));
	return gochan_now_ns() - then;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(unsigned long n, int64_t ns)
{
	double s = ns / 1e9;

	qsort(lat, n, sizeof(*lat), cmp64);
	printf("values=%lu seconds=%.3f rate=%.0f p50_us=%.0f p99_us=%.0f max_us=%.0f\n",
	       n, s, n / s, lat[n / 2] / 1e3, lat[n * 99 / 100] / 1e3, lat[n - 1] / 1e3);
}

/* Redis alone: XADD in pipelined batches. */
static void *broker_producer(void *arg)
{
	unsigned long mine = (uintptr_t)arg;
	redisContext *c = connect_redis();
	char *vals = malloc((size_t)batch * size);
	const char *argv[5] = { "XADD", stream, "*", "v", NULL };
	size_t len[5] = { 4, strlen(stream), 1, 1, size };

	pthread_barrier_wait(&start);
	for (unsigned long done = 0; done < mine; ) {
		unsigned n = mine - done < batch ? mine - done : batch;

		for (unsigned i = 0; i < n; i++) {
			argv[4] = vals + i * size;
			stamp(vals + i * size);
			redisAppendCommandArgv(c, 5, argv, len);
		}
		for (unsigned i = 0; i < n; i++) {
			void *r;

			if (redisGetReply(c, &r) != REDIS_OK)
				die("XADD", c->errstr);
			freeReplyObject(r);
		}
		done += n;
	}
	free(vals);
	redisFree(c);
	return NULL;
}

/* Redis alone: XREADGROUP in batches, XACK pipelined with the next read. */
static unsigned long broker_consume(redisContext *c, unsigned long want,
				    unsigned block, int64_t *out)
{
	char **ids = calloc(batch, sizeof(*ids));
	const char **argv = calloc(batch + 3, sizeof(*argv));
	size_t *len = calloc(batch + 3, sizeof(*len));
	char counts[16], blocks[16];
	unsigned long got = 0;
	unsigned nids = 0;
	bool empty = true;

	snprintf(counts, sizeof(counts), "%u", batch);
	snprintf(blocks, sizeof(blocks), "%u", block);
	while (got < want) {
		/*
		 * BLOCK only when the last read found nothing: a blocked read
		 * is served by the first XADD, one entry at a time.
		 */
		const char *rd[] = { "XREADGROUP", "GROUP", "g", "c", "COUNT", counts,
				     empty ? "BLOCK" : "COUNT", empty ? blocks : counts,
				     "STREAMS", stream, ">" };
		redisReply *r, *list;

		if (nids) {
			argv[0] = "XACK";
			argv[1] = stream;
			argv[2] = "g";
			for (unsigned i = 0; i < nids; i++)
				argv[3 + i] = ids[i];
			for (unsigned i = 0; i < nids + 3; i++)
				len[i] = strlen(argv[i]);
			redisAppendCommandArgv(c, nids + 3, argv, len);
		}
		redisAppendCommand(c, "%s %s %s %s %s %s %s %s %s %s %s", rd[0], rd[1], rd[2],
				   rd[3], rd[4], rd[5], rd[6], rd[7], rd[8], rd[9], rd[10]);
		if (nids) {
			if (redisGetReply(c, (void **)&r) != REDIS_OK)
				die("XACK", c->errstr);
			freeReplyObject(r);
			for (unsigned i = 0; i < nids; i++)
				free(ids[i]);
			nids = 0;
		}
		if (redisGetReply(c, (void **)&r) != REDIS_OK)
			die("XREADGROUP", c->errstr);
		if (r->type == REDIS_REPLY_ERROR)
			die("XREADGROUP", r->str);
		empty = r->type != REDIS_REPLY_ARRAY || !r->elements;
		if (!empty) {
			list = r->element[0]->element[1];
			for (size_t i = 0; i < list->elements; i++) {
				redisReply *e = list->element[i], *v = e->element[1]->element[1];

				out[got++] = age(v->str);
				ids[nids++] = strdup(e->element[0]->str);
			}
		}
		freeReplyObject(r);
	}
	if (nids) {
		argv[0] = "XACK";
		argv[1] = stream;
		argv[2] = "g";
		for (unsigned i = 0; i < nids; i++)
			argv[3 + i] = ids[i];
		for (unsigned i = 0; i < nids + 3; i++)
			len[i] = strlen(argv[i]);
		freeReplyObject(call(c, nids + 3, argv, len));
		for (unsigned i = 0; i < nids; i++)
			free(ids[i]);
	}
	free(ids);
	free(argv);
	free(len);
	return got;
}

static void new_stream(redisContext *c)
{
	const char *argv[] = { "XGROUP", "CREATE", stream, "g", "$", "MKSTREAM" };
	size_t len[6];

	snprintf(stream, sizeof(stream), "bench:%d:%lld", getpid(), (long long)gochan_now_ns());
	for (int i = 0; i < 6; i++)
		len[i] = strlen(argv[i]);
	freeReplyObject(call(c, 6, argv, len));
}

static void del_stream(redisContext *c)
{
	const char *argv[] = { "DEL", stream };
	size_t len[] = { 3, strlen(stream) };

	freeReplyObject(call(c, 2, argv, len));
}

static int broker(void)
{
	redisContext *c = connect_redis();
	pthread_t *t = calloc(producers, sizeof(*t));
	int64_t t0;
	unsigned long got;

	new_stream(c);
	pthread_barrier_init(&start, NULL, producers + 1);
	for (unsigned i = 0; i < producers; i++)
		pthread_create(&t[i], NULL, broker_producer,
			       (void *)(uintptr_t)(count / producers + (i < count % producers)));
	pthread_barrier_wait(&start);
	t0 = gochan_now_ns();
	got = broker_consume(c, count, 1000, lat);
	report(got, gochan_now_ns() - t0);
	for (unsigned i = 0; i < producers; i++)
		pthread_join(t[i], NULL);
	del_stream(c);
	redisFree(c);
	return 0;
}

static int broker_rtt(void)
{
	redisContext *c = connect_redis();
	char *v = malloc(size);
	const char *argv[5] = { "XADD", stream, "*", "v", v };
	size_t len[5] = { 4, 0, 1, 1, size };
	int64_t t0;

	new_stream(c);
	len[1] = strlen(stream);
	batch = 1;
	t0 = gochan_now_ns();
	for (unsigned long i = 0; i < count; i++) {
		stamp(v);
		freeReplyObject(call(c, 5, argv, len));
		broker_consume(c, 1, 1000, lat + i);
	}
	report(count, gochan_now_ns() - t0);
	del_stream(c);
	redisFree(c);
	free(v);
	return 0;
}

/* Through the bridge: channel -> bridge -> Redis -> bridge -> channel. */
static void *bridge_producer(void *arg)
{
	unsigned long mine = (uintptr_t)arg;
	int fd = gochan_open(send_name, GOCHAN_OPEN_SEND, 0, 0, 0);
	char *v = malloc(size);

	if (fd < 0)
		die(send_name, strerror(-fd));
	pthread_barrier_wait(&start);
	for (unsigned long i = 0; i < mine; i++) {
		int r;

		stamp(v);
		r = gochan_send(fd, v, GOCHAN_NO_DEADLINE);
		if (r)
			die("send", strerror(-r));
	}
	free(v);
	close(fd);
	return NULL;
}

static int open_recv(void)
{
	int fd = gochan_open(recv_name, GOCHAN_OPEN_RECV, 0, 0, 0);
	struct gochan_stat st;

	if (fd < 0)
		die(recv_name, strerror(-fd));
	if (gochan_stat(fd, &st))
		die(recv_name, "stat");
	size = st.elem_size;
	return fd;
}

static int bridge(void)
{
	int fd = open_recv();
	pthread_t *t = calloc(producers, sizeof(*t));
	char *v = malloc(size);
	int64_t t0;
	bool ok;

	pthread_barrier_init(&start, NULL, producers + 1);
	for (unsigned i = 0; i < producers; i++)
		pthread_create(&t[i], NULL, bridge_producer,
			       (void *)(uintptr_t)(count / producers + (i < count % producers)));
	pthread_barrier_wait(&start);
	t0 = gochan_now_ns();
	for (unsigned long i = 0; i < count; i++) {
		if (gochan_recv(fd, v, &ok, GOCHAN_NO_DEADLINE) || !ok)
			die("recv", recv_name);
		lat[i] = age(v);
	}
	report(count, gochan_now_ns() - t0);
	for (unsigned i = 0; i < producers; i++)
		pthread_join(t[i], NULL);
	return 0;
}

static int bridge_rtt(void)
{
	int in = open_recv(), out = gochan_open(send_name, GOCHAN_OPEN_SEND, 0, 0, 0);
	char *v = malloc(size);
	int64_t t0;
	bool ok;

	if (out < 0)
		die(send_name, strerror(-out));
	t0 = gochan_now_ns();
	for (unsigned long i = 0; i < count; i++) {
		stamp(v);
		if (gochan_send(out, v, GOCHAN_NO_DEADLINE))
			die("send", send_name);
		if (gochan_recv(in, v, &ok, GOCHAN_NO_DEADLINE) || !ok)
			die("recv", recv_name);
		lat[i] = age(v);
	}
	report(count, gochan_now_ns() - t0);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: gochan-bridge-bench make NAME SIZE CAPACITY | unlink NAME\n"
		"       gochan-bridge-bench broker SOCKET SIZE PRODUCERS COUNT BATCH\n"
		"       gochan-bridge-bench bridge SEND_CHAN RECV_CHAN PRODUCERS COUNT\n"
		"       gochan-bridge-bench broker-rtt SOCKET SIZE COUNT\n"
		"       gochan-bridge-bench bridge-rtt SEND_CHAN RECV_CHAN COUNT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "make") && argc == 5) {
		int fd = gochan_open(argv[2], GOCHAN_OPEN_CREATE, 0666,
				     strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0));

		if (fd < 0)
			die(argv[2], strerror(-fd));
		return 0;
	}
	if (!strcmp(cmd, "unlink") && argc == 3) {
		int r = gochan_unlink(argv[2]);

		if (r)
			die(argv[2], strerror(-r));
		return 0;
	}
	if (!strcmp(cmd, "broker") && argc == 7) {
		sock_path = argv[2];
		size = strtoul(argv[3], NULL, 0);
		producers = strtoul(argv[4], NULL, 0);
		count = strtoul(argv[5], NULL, 0);
		batch = strtoul(argv[6], NULL, 0);
	} else if (!strcmp(cmd, "bridge") && argc == 6) {
		send_name = argv[2];
		recv_name = argv[3];
		producers = strtoul(argv[4], NULL, 0);
		count = strtoul(argv[5], NULL, 0);
	} else if (!strcmp(cmd, "broker-rtt") && argc == 5) {
		sock_path = argv[2];
		size = strtoul(argv[3], NULL, 0);
		count = strtoul(argv[4], NULL, 0);
	} else if (!strcmp(cmd, "bridge-rtt") && argc == 5) {
		send_name = argv[2];
		recv_name = argv[3];
		count = strtoul(argv[4], NULL, 0);
	} else {
		usage();
	}
	if (!count || (!strcmp(cmd, "broker") && (!producers || !batch)) ||
	    (!strcmp(cmd, "bridge") && !producers))
		usage();
	if (sock_path && size < sizeof(int64_t))
		die("SIZE", "at least 8 bytes");
	lat = calloc(count, sizeof(*lat));
	if (!lat)
		die("memory", strerror(ENOMEM));
	if (!strcmp(cmd, "broker"))
		return broker();
	if (!strcmp(cmd, "bridge"))
		return bridge();
	if (!strcmp(cmd, "broker-rtt"))
		return broker_rtt();
	return bridge_rtt();
}
