// SPDX-License-Identifier: GPL-2.0
/*
 * TLS to Redis, with OpenSSL, for a hiredis that has none.
 *
 * Debian 12's hiredis (0.14.1) speaks to a socket with read(2) and
 * write(2) only; TLS came with hiredis 1.0 as a separate libhiredis_ssl,
 * which Debian 12 does not ship.  So the bridge makes the TLS connection
 * itself and gives hiredis one end of a socketpair (redisConnectFd): a
 * relay thread per connection moves bytes between that pair and the TLS
 * session.  Nothing of Redis's protocol is handled here.
 *
 *	hiredis --app[0]==app[1]-- relay thread --SSL-- net --TCP-- Redis
 *
 * The server's certificate is verified against tls-ca / tls-ca-dir (else
 * the system's CAs) and its name or address against tls-server-name (else
 * the host of the redis address); tls-cert / tls-key present a client
 * certificate.  TLS 1.2 at least.
 *
 * Lifetime: tls_connect() starts the relay; hiredis owns app[0] (redisFree
 * closes it).  The relay ends when app[1] reads end-of-file (hiredis freed
 * the context), or the TLS session ends or fails (then it closes app[1], so
 * hiredis sees end-of-file); tls_close() joins it and frees the rest.  The
 * SSL object is used by the relay thread only once it runs.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "bridge.h"

#define RELAY_BUF	(64 * 1024)

struct tls_link {
	SSL		*ssl;
	int		net;		/* TCP socket to the server */
	int		app;		/* our end of the pair (app[1]) */
	pthread_t	thread;
};

static SSL_CTX *ctx;
static char ctx_err[256];
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void ssl_error(char *buf, size_t len, const char *what)
{
	unsigned long e = ERR_get_error();
	char reason[160] = "unknown error";

	if (e)
		ERR_error_string_n(e, reason, sizeof(reason));
	snprintf(buf, len, "%s: %s", what, reason);
	ERR_clear_error();
}

static void ctx_init(void)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	if (!c) {
		ssl_error(ctx_err, sizeof(ctx_err), "tls");
		return;
	}
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (cfg.tls_ca || cfg.tls_ca_dir) {
		if (!SSL_CTX_load_verify_locations(c, cfg.tls_ca, cfg.tls_ca_dir)) {
			ssl_error(ctx_err, sizeof(ctx_err), "tls-ca");
			goto fail;
		}
	} else if (!SSL_CTX_set_default_verify_paths(c)) {
		ssl_error(ctx_err, sizeof(ctx_err), "tls: the system's CAs");
		goto fail;
	}
	if (cfg.tls_cert || cfg.tls_key) {
		if (!cfg.tls_cert || !cfg.tls_key) {
			snprintf(ctx_err, sizeof(ctx_err), "tls: give both tls-cert and tls-key");
			goto fail;
		}
		if (SSL_CTX_use_certificate_chain_file(c, cfg.tls_cert) != 1) {
			ssl_error(ctx_err, sizeof(ctx_err), "tls-cert");
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(c, cfg.tls_key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(c) != 1) {
			ssl_error(ctx_err, sizeof(ctx_err), "tls-key");
			goto fail;
		}
	}
	ctx = c;
	return;
fail:
	SSL_CTX_free(c);
}

/* A TCP connection to host:port, with the connect and reply timeout. */
static int tcp_connect(struct rconn *rc, const char *host, int port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *p;
	struct timeval tv = { cfg.timeout_ms / 1000, cfg.timeout_ms % 1000 * 1000 };
	char service[8];
	int fd = -1, r;

	snprintf(service, sizeof(service), "%d", port);
	r = getaddrinfo(host, service, &hints, &ai);
	if (r) {
		snprintf(rc->err, sizeof(rc->err), "%s: %s", host, gai_strerror(r));
		return -1;
	}
	for (p = ai; p; p = p->ai_next) {
		fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(fd, p->ai_addr, p->ai_addrlen) == 0)
			break;
		snprintf(rc->err, sizeof(rc->err), "%s:%d: %s", host, port, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd >= 0) {
		int one = 1;

		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	}
	return fd;
}

/* One direction's bytes in flight. */
struct pipe_buf {
	char	data[RELAY_BUF];
	size_t	off, len;
};

/*
 * The relay: app -> TLS and TLS -> app, non-blocking, until either side
 * ends.  Each pass tries every operation that has data or space, then
 * polls for what the ones that could not go on wait for.
 */
static void *relay(void *arg)
{
	struct tls_link *t = arg;
	struct pipe_buf *up = malloc(sizeof(*up)), *down = malloc(sizeof(*down));
	bool app_eof = false;

	if (!up || !down)
		goto out;
	up->off = up->len = down->off = down->len = 0;
	while (!app_eof) {
		struct pollfd p[2] = { { .fd = t->app }, { .fd = t->net } };
		bool progress = false;
		int r;

		/* app -> up */
		if (!up->len) {
			ssize_t n = read(t->app, up->data, sizeof(up->data));

			if (n > 0) {
				up->off = 0;
				up->len = n;
				progress = true;
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				app_eof = true;
				break;
			}
		}
		/* up -> TLS */
		if (up->len) {
			r = SSL_write(t->ssl, up->data + up->off, up->len - up->off);
			if (r > 0) {
				up->off += r;
				if (up->off == up->len)
					up->len = 0;
				progress = true;
			} else {
				int e = SSL_get_error(t->ssl, r);

				if (e == SSL_ERROR_WANT_READ)
					p[1].events |= POLLIN;
				else if (e == SSL_ERROR_WANT_WRITE)
					p[1].events |= POLLOUT;
				else
					break;
			}
		}
		/* TLS -> down */
		if (!down->len) {
			r = SSL_read(t->ssl, down->data, sizeof(down->data));
			if (r > 0) {
				down->off = 0;
				down->len = r;
				progress = true;
			} else {
				int e = SSL_get_error(t->ssl, r);

				if (e == SSL_ERROR_WANT_READ)
					p[1].events |= POLLIN;
				else if (e == SSL_ERROR_WANT_WRITE)
					p[1].events |= POLLOUT;
				else
					break;	/* closed by the server, or failed */
			}
		}
		/* down -> app */
		if (down->len) {
			ssize_t n = write(t->app, down->data + down->off, down->len - down->off);

			if (n > 0) {
				down->off += n;
				if (down->off == down->len)
					down->len = 0;
				progress = true;
			} else if (errno != EAGAIN && errno != EINTR) {
				break;
			}
		}
		if (progress)
			continue;
		if (!up->len)
			p[0].events |= POLLIN;
		if (down->len)
			p[0].events |= POLLOUT;
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & (POLLHUP | POLLERR))
			break;	/* tls_close() shut the pair down */
	}
out:
	free(up);
	free(down);
	/* hiredis sees end-of-file; a server gone away sees the socket close. */
	shutdown(t->app, SHUT_RDWR);
	return NULL;
}

static bool is_address(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

int tls_connect(struct rconn *rc, const char *host, int port, bool *fatal)
{
	const char *name = cfg.tls_server_name ? cfg.tls_server_name : host;
	struct tls_link *t;
	int pair[2], r;
	long verify;

	*fatal = false;
	pthread_once(&ctx_once, ctx_init);
	if (!ctx) {
		snprintf(rc->err, sizeof(rc->err), "%s", ctx_err);
		*fatal = true;
		return -1;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(rc->err, sizeof(rc->err), "out of memory");
		return -1;
	}
	t->net = tcp_connect(rc, host, port);
	if (t->net < 0)
		goto err_free;
	t->ssl = SSL_new(ctx);
	if (!t->ssl || !SSL_set_fd(t->ssl, t->net)) {
		ssl_error(rc->err, sizeof(rc->err), "tls");
		goto err_close;
	}
	if (is_address(name)) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), name);
	} else {
		SSL_set_tlsext_host_name(t->ssl, name);
		SSL_set1_host(t->ssl, name);
	}
	r = SSL_connect(t->ssl);
	if (r != 1) {
		verify = SSL_get_verify_result(t->ssl);
		if (verify != X509_V_OK) {
			snprintf(rc->err, sizeof(rc->err),
				 "tls: %s:%d: certificate verify failed: %s (server name %s)",
				 host, port, X509_verify_cert_error_string(verify), name);
			*fatal = true;
		} else {
			char what[96];

			snprintf(what, sizeof(what), "tls: %s:%d: handshake", host, port);
			ssl_error(rc->err, sizeof(rc->err), what);
		}
		goto err_ssl;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair)) {
		snprintf(rc->err, sizeof(rc->err), "socketpair: %s", strerror(errno));
		goto err_ssl;
	}
	t->app = pair[1];
	fcntl(t->app, F_SETFL, O_NONBLOCK);
	fcntl(t->net, F_SETFL, O_NONBLOCK);
	r = pthread_create(&t->thread, NULL, relay, t);
	if (r) {
		snprintf(rc->err, sizeof(rc->err), "pthread_create: %s", strerror(r));
		close(pair[0]);
		close(pair[1]);
		goto err_ssl;
	}
	rc->tls = t;
	return pair[0];

err_ssl:
	SSL_free(t->ssl);
err_close:
	close(t->net);
err_free:
	free(t);
	return -1;
}

void tls_close(struct tls_link *t)
{
	/* hiredis closed app[0] (or never got it): the relay reads EOF. */
	shutdown(t->app, SHUT_RDWR);
	pthread_join(t->thread, NULL);
	SSL_shutdown(t->ssl);
	SSL_free(t->ssl);
	close(t->net);
	close(t->app);
	free(t);
}
