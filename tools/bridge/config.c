// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration: one parser for file lines and flags.  A file line is
 * "KEY VALUE" or a mapping; the flag --KEY VALUE is the same line.  Later
 * settings override earlier ones, so flags after -c FILE override the file.
 *
 *	redis           unix:/run/redis/redis.sock
 *	user            gochan
 *	password-file   /etc/gochan/redis.pass
 *	out orders  gochan:orders  capacity=10000
 *	in  results gochan:results batch=64
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridge.h"

#define DEFAULT_GROUP		"gochan"
#define DEFAULT_BATCH		64
#define DEFAULT_CLAIM_IDLE_MS	30000
#define DEFAULT_TIMEOUT_MS	10000
#define DEFAULT_STATS_INTERVAL	60

const char *dir_name(enum dir d)
{
	return d == DIR_OUT ? "out" : "in";
}

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->redis = strdup("unix:/run/redis/redis-server.sock");
	c->group = strdup(DEFAULT_GROUP);
	c->batch = DEFAULT_BATCH;
	c->claim_idle_ms = DEFAULT_CLAIM_IDLE_MS;
	c->timeout_ms = DEFAULT_TIMEOUT_MS;
	c->stats_interval = DEFAULT_STATS_INTERVAL;
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	if (!*dst) {
		logmsg("out of memory");
		exit(EXIT_FAIL);
	}
}

static int parse_uint(const char *v, unsigned long long min,
		      unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long x;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || *end || x < min || x > max)
		return -1;
	*out = x;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1") ||
	    !strcmp(v, "true")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0") ||
	    !strcmp(v, "false")) {
		*out = false;
		return 0;
	}
	return -1;
}

/* A name the module accepts: 1..63 printable ASCII bytes, no space. */
static bool chan_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= GOCHAN_NAME_MAX)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

/* "out|in CHAN STREAM [group=G] [batch=N] [capacity=N] [spool=FILE] [prefetch=N]" */
static int add_mapping(struct config *c, const char *line, const char *where)
{
	char *copy = strdup(line), *save = NULL, *tok;
	struct mapping *m, *maps;
	unsigned long long x;
	int ret = -1;

	maps = realloc(c->maps, (c->nmaps + 1) * sizeof(*maps));
	if (!copy || !maps) {
		logmsg("out of memory");
		exit(EXIT_FAIL);
	}
	c->maps = maps;
	m = &maps[c->nmaps];
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	set_str(&m->where, where);

	tok = strtok_r(copy, " \t", &save);
	if (tok && !strcmp(tok, "out")) {
		m->dir = DIR_OUT;
	} else if (tok && !strcmp(tok, "in")) {
		m->dir = DIR_IN;
	} else {
		logmsg("%s: a mapping starts with \"out\" or \"in\", not \"%s\"",
		       where, tok ? tok : "");
		goto out;
	}
	tok = strtok_r(NULL, " \t", &save);
	if (!tok || !chan_name_ok(tok)) {
		logmsg("%s: \"%s\" is not a channel name (1..%d printable bytes, no space)",
		       where, tok ? tok : "", GOCHAN_NAME_MAX - 1);
		goto out;
	}
	strcpy(m->chan, tok);
	tok = strtok_r(NULL, " \t", &save);
	if (!tok) {
		logmsg("%s: the mapping of channel %s names no stream", where, m->chan);
		goto out;
	}
	set_str(&m->stream, tok);
	while ((tok = strtok_r(NULL, " \t", &save))) {
		char *eq = strchr(tok, '=');

		if (!eq) {
			logmsg("%s: mapping option \"%s\" is not KEY=VALUE", where, tok);
			goto out;
		}
		*eq++ = '\0';
		if (!strcmp(tok, "group") && *eq) {
			set_str(&m->group, eq);
		} else if (!strcmp(tok, "batch")) {
			if (parse_uint(eq, 1, BRIDGE_BATCH_MAX, &x)) {
				logmsg("%s: batch=%s: want 1..%d", where, eq, BRIDGE_BATCH_MAX);
				goto out;
			}
			m->batch = x;
		} else if (!strcmp(tok, "prefetch") && m->dir == DIR_IN) {
			if (parse_uint(eq, 0, BRIDGE_BATCH_MAX, &x)) {
				logmsg("%s: prefetch=%s: want 0..%d", where, eq, BRIDGE_BATCH_MAX);
				goto out;
			}
			m->prefetch = x;
		} else if (!strcmp(tok, "capacity") && m->dir == DIR_OUT) {
			if (parse_uint(eq, 1, UINT64_MAX, &x)) {
				logmsg("%s: capacity=%s: want a count of entries", where, eq);
				goto out;
			}
			m->capacity = x;
		} else if (!strcmp(tok, "spool") && m->dir == DIR_OUT && *eq) {
			set_str(&m->spool, eq);
		} else {
			logmsg("%s: unknown option \"%s\" for an %s mapping (group, batch, %s)",
			       where, tok, dir_name(m->dir),
			       m->dir == DIR_OUT ? "capacity, spool" : "prefetch");
			goto out;
		}
	}
	c->nmaps++;
	ret = 0;
out:
	free(copy);
	return ret;
}

int config_set(struct config *c, const char *key, const char *v,
	       const char *where)
{
	unsigned long long x;

	if (!strcmp(key, "out") || !strcmp(key, "in")) {
		char line[1024];

		snprintf(line, sizeof(line), "%s %s", key, v);
		return add_mapping(c, line, where);
	}
	if (!strcmp(key, "map"))
		return add_mapping(c, v, where);
	if (!strcmp(key, "redis")) {
		set_str(&c->redis, v);
	} else if (!strcmp(key, "user")) {
		set_str(&c->user, v);
	} else if (!strcmp(key, "password-file")) {
		set_str(&c->password_file, v);
	} else if (!strcmp(key, "tls")) {
		if (parse_bool(v, &c->tls))
			goto bad;
	} else if (!strcmp(key, "tls-ca")) {
		set_str(&c->tls_ca, v);
	} else if (!strcmp(key, "tls-ca-dir")) {
		set_str(&c->tls_ca_dir, v);
	} else if (!strcmp(key, "tls-cert")) {
		set_str(&c->tls_cert, v);
	} else if (!strcmp(key, "tls-key")) {
		set_str(&c->tls_key, v);
	} else if (!strcmp(key, "tls-server-name")) {
		set_str(&c->tls_server_name, v);
	} else if (!strcmp(key, "name")) {
		if (!chan_name_ok(v)) {
			logmsg("%s: name \"%s\": want 1..%d printable bytes, no space",
			       where, v, GOCHAN_NAME_MAX - 1);
			return -1;
		}
		set_str(&c->name, v);
	} else if (!strcmp(key, "group")) {
		set_str(&c->group, v);
	} else if (!strcmp(key, "batch")) {
		if (parse_uint(v, 1, BRIDGE_BATCH_MAX, &x))
			goto bad;
		c->batch = x;
	} else if (!strcmp(key, "claim-idle")) {
		if (parse_uint(v, 100, 24ULL * 3600 * 1000, &x))
			goto bad;
		c->claim_idle_ms = x;
	} else if (!strcmp(key, "timeout")) {
		if (parse_uint(v, 100, 3600 * 1000, &x))
			goto bad;
		c->timeout_ms = x;
	} else if (!strcmp(key, "stats-interval")) {
		if (parse_uint(v, 0, 24 * 3600, &x))
			goto bad;
		c->stats_interval = x;
	} else if (!strcmp(key, "keep")) {
		if (parse_bool(v, &c->keep))
			goto bad;
	} else if (!strcmp(key, "verbose")) {
		if (parse_bool(v, &c->verbose))
			goto bad;
	} else {
		logmsg("%s: unknown setting \"%s\"", where, key);
		return -1;
	}
	return 0;
bad:
	logmsg("%s: bad value \"%s\" for %s", where, v, key);
	return -1;
}

int config_file(struct config *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, where[PATH_MAX + 16];
	size_t cap = 0;
	unsigned lineno = 0;
	int ret = 0;

	if (!f) {
		logmsg("%s: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) > 0) {
		char *p = line, *key, *end;

		lineno++;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		if ((end = strchr(p, '#')))
			*end = '\0';
		end = p + strlen(p);
		while (end > p && isspace((unsigned char)end[-1]))
			*--end = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			continue;
		key = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (*p)
			*p++ = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (!*p && strcmp(key, "keep") && strcmp(key, "tls") &&
		    strcmp(key, "verbose")) {
			logmsg("%s: \"%s\" wants a value", where, key);
			ret = -1;
			continue;
		}
		if (config_set(c, key, *p ? p : "yes", where))
			ret = -1;
	}
	free(line);
	fclose(f);
	return ret;
}

/* The password file's first line; a warning if others may read it. */
static int read_password(struct config *c)
{
	char buf[1024];
	struct stat st;
	FILE *f;
	size_t n;

	f = fopen(c->password_file, "r");
	if (!f) {
		logmsg("password-file %s: %s", c->password_file, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0077))
		logmsg("warning: password-file %s may be read by others (mode %03o): chmod 600 it",
		       c->password_file, (unsigned)(st.st_mode & 0777));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0]) {
		logmsg("password-file %s: empty", c->password_file);
		return -1;
	}
	set_str(&c->password, buf);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static char *concat(const char *a, const char *b, const char *c)
{
	char *s;

	if (asprintf(&s, "%s%s%s", a, b, c) < 0) {
		logmsg("out of memory");
		exit(EXIT_FAIL);
	}
	return s;
}

int config_finish(struct config *c)
{
	char host[256];

	if (!c->name) {
		if (gethostname(host, sizeof(host) - 1) || !host[0])
			strcpy(host, "bridge");
		host[sizeof(host) - 1] = '\0';
		host[GOCHAN_NAME_MAX - 1] = '\0';
		set_str(&c->name, host);
	}
	if (c->password_file && read_password(c))
		return -1;
	if (c->user && !c->password) {
		logmsg("user %s: give its password with password-file", c->user);
		return -1;
	}
	if (c->tls && (!strncmp(c->redis, "unix:", 5) || c->redis[0] == '/')) {
		logmsg("tls: for a TCP address, not %s", c->redis);
		return -1;
	}
	if (!c->nmaps) {
		logmsg("nothing to bridge: give mappings (\"out CHAN STREAM\", \"in CHAN STREAM\") in -c FILE or --map");
		return -1;
	}
	for (unsigned i = 0; i < c->nmaps; i++) {
		struct mapping *m = &c->maps[i];

		if (!m->group)
			set_str(&m->group, c->group);
		if (!m->batch)
			m->batch = c->batch;
		m->meta_key = concat(m->stream, BRIDGE_META_SUFFIX, "");
		m->consumer = concat(c->name, "/", m->chan);
		m->marker_field = concat("out:", m->consumer, "");
		atomic_store(&m->ctr.pending, -1);
		atomic_store(&m->ctr.lag, -1);
		atomic_store(&m->ctr.length, -1);
		for (unsigned j = 0; j < i; j++) {
			struct mapping *o = &c->maps[j];

			if (strcmp(o->chan, m->chan) || strcmp(o->stream, m->stream))
				continue;
			if (o->dir == m->dir) {
				logmsg("%s: channel %s and stream %s are mapped twice (also at %s)",
				       m->where, m->chan, m->stream, o->where);
			} else {
				logmsg("%s: channel %s is mapped both out to and in from stream %s (%s): its values would loop",
				       m->where, m->chan, m->stream, o->where);
			}
			return -1;
		}
	}
	return 0;
}
