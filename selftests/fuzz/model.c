// SPDX-License-Identifier: GPL-2.0
/*
 * What a worker knows about the channels it reaches, and the checks that
 * knowledge allows.  Values: each value sent carries a tag, and a value
 * received from a shared channel must be well formed and seen once
 * (got_shared()).  The pool: the fds the worker holds, each of which must
 * keep reaching the channel it was made on.  Models: a channel only this
 * worker holds is modelled as a FIFO of tags, which every value received,
 * every EAGAIN / EPIPE / end-of-channel and every STAT's len and closed
 * flag must agree with (m_take(), m_check()); its last calls are kept for
 * a failure's report.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <linux/gochan.h>

#include "fuzz.h"

/* ---- values ------------------------------------------------------------ */

/* An element carrying tag: word 0 is the tag, word k is mix64(tag ^ k)
 * (the last word cut short); elements under 8 bytes are mix64(tag)'s low
 * bytes.  Elements of 16 bytes or more can be recognised as well formed. */
void fill(void *p, uint32_t es, uint64_t tag)
{
	unsigned char *b = p;

	if (es < 8) {
		uint64_t v = mix64(tag);

		memcpy(b, &v, es);
		return;
	}
	for (uint32_t off = 0; off < es; off += 8) {
		uint64_t v = off ? mix64(tag ^ (off / 8)) : tag;
		uint32_t n = es - off < 8 ? es - off : 8;

		memcpy(b + off, &v, n);
	}
}

bool well_formed(const void *p, uint32_t es, uint64_t *tag)
{
	static unsigned char want[GOCHAN_ELEM_SIZE_MAX];

	memcpy(tag, p, 8);
	fill(want, es, *tag);
	return memcmp(want, p, es) == 0;
}

uint64_t new_tag(void)
{
	uint64_t seq = __atomic_add_fetch(&shm->seq[me], 1, __ATOMIC_RELAXED);

	return ((uint64_t)me << 32) | seq;
}

/* A value arrived on a channel no model covers. */
void got_shared(const void *p, uint32_t es, const char *via)
{
	uint64_t tag, seq;
	unsigned int w;
	uint8_t bit;

	if (es < 16)
		return;
	if (!well_formed(p, es, &tag)) {
		char words[8 * 17 + 1] = "", *o = words;
		uint32_t nw = es / 8 < 8 ? es / 8 : 8, poisoned = 0;

		for (uint32_t i = 0; i < nw; i++) {
			uint64_t v;

			memcpy(&v, (const char *)p + i * 8, 8);
			o += sprintf(o, " %016" PRIx64, v);
			poisoned += v == POISON_WORD;
		}
		fail("%s: malformed %u-byte value (first %u words; %u still poison):%s", via, es,
		     nw, poisoned, words);
	}
	w = tag >> 32;
	seq = tag & 0xffffffffu;
	if (w >= NW_MAX || !seq)
		fail("%s: bad tag %#" PRIx64, via, tag);
	__atomic_add_fetch(&shm->shared_rx, 1, __ATOMIC_RELAXED);
	if (seq >= (1u << SEQ_BITS))
		return;
	bit = 1u << (seq % 8);
	if (__atomic_fetch_or(&shm->seen[w][seq / 8], bit, __ATOMIC_SEQ_CST) & bit)
		fail("%s: tag %#" PRIx64 " received twice", via, tag);
}

/* ---- the pool ---------------------------------------------------------- */

struct ent pool[POOL_MAX];
int npool;
int dev = -1;

struct ent *pick(void)
{
	return npool ? &pool[rn(npool)] : NULL;
}

struct ent *pick_chan(bool modelled)
{
	for (int i = 0; i < 8; i++) {
		struct ent *e = pick();

		if (e && e->kind == K_CHAN && (modelled ? !!e->m : !e->m))
			return e;
	}
	return NULL;
}

/*
 * Add e to the pool; st is a STAT of e.fd (K_CHAN only).  Every STAT of the
 * fd must name the same channel again: an fd that reached another one (a
 * channel freed under its file, its memory reused) would show as another
 * id.  e.id, when known (a write-back, or the entry e copies), must be it.
 */
void add_stat(struct ent e, const struct gochan_stat *st)
{
	if (e.kind == K_CHAN) {
		if ((e.id && st->id != e.id) || st->elem_size != e.es || st->capacity != e.cap)
			fail("fd %d being added (channel %" PRIu64 ", es %u cap %u) reaches "
			     "channel %" PRIu64 " (es %u cap %u)", e.fd, e.id, e.es, e.cap,
			     (uint64_t)st->id, st->elem_size, st->capacity);
		e.id = st->id;
	}
	w_note("fd %d added (kind %d, es %u, cap %u, %s)%s", e.fd, e.kind, e.es, e.cap,
	       e.m ? "modelled" : "shared", npool == POOL_MAX ? ", pool full: closed" : "");
	if (npool == POOL_MAX) {
		/* e's reference was never counted: free a model nobody holds */
		close(e.fd);
		if (e.m && !e.m->refs)
			free(e.m);
		return;
	}
	if (e.m) {
		e.m->refs++;
		e.m->senders += e.can_send;
	}
	pool[npool++] = e;
}

/* The same, with the STAT made here. */
void add(struct ent e)
{
	struct gochan_stat st = { .size = sizeof(st) };

	if (e.kind == K_CHAN) {
		if (ioctl(e.fd, GOCHAN_IOC_STAT, &st))
			fail("STAT of fd %d being added: %s", e.fd, strerror(errno));
		tick();
	}
	add_stat(e, &st);
}

/* On failure: every fd of the pool, and the channel a STAT finds behind it
 * now (an fd reaching a channel it was not made on shows here). */
void pool_dump(void)
{
	fprintf(stderr, "# worker %d: its fds (made on channel id -> what STAT says now):\n", me);
	for (int i = 0; i < npool; i++) {
		const struct ent *e = &pool[i];
		struct gochan_stat st = { .size = sizeof(st) };

		if (e->kind != K_CHAN) {
			fprintf(stderr, "#   fd %d: %s\n", e->fd, e->kind == K_DEV ? "/dev/gochan" : "other");
			continue;
		}
		if (ioctl(e->fd, GOCHAN_IOC_STAT, &st)) {
			fprintf(stderr, "#   fd %d: id %" PRIu64 " -> STAT: %s\n", e->fd, e->id,
				strerror(errno));
			continue;
		}
		fprintf(stderr, "#   fd %d: id %" PRIu64 " es %u cap %u %s -> id %" PRIu64
			" es %u cap %u len %u%s\n", e->fd, e->id, e->es, e->cap,
			e->m ? "modelled" : "shared", (uint64_t)st.id, st.elem_size, st.capacity,
			st.len, st.id != e->id ? "  <== another channel" : "");
	}
}

/*
 * Close e's fd and take it out of the pool.  The pool's last fd that can
 * send on a model made with CLOSE_ON_LAST_SENDER closes the channel (no
 * one else holds its files: see struct model), which a STAT through any
 * fd of it left must show at once.
 */
void drop(struct ent *e)
{
	struct model *m = e->m;
	bool sender = e->can_send;

	w_note("fd %d closed (%s%s)", e->fd, m ? "modelled" : "shared",
	       sender ? "" : ", receive-only");
	close(e->fd);
	tick();
	*e = pool[--npool];
	if (!m)
		return;
	if (sender && !--m->senders && m->autoclose && !m->closed) {
		m->closed = true;
		m_note(m, "close(2) of the last sender: closed");
		__atomic_add_fetch(&shm->autoclosed, 1, __ATOMIC_RELAXED);
	}
	if (!--m->refs) {
		free(m);
		return;
	}
	for (int i = 0; i < npool; i++)
		if (pool[i].m == m) {
			m_check(&pool[i], "close(2) of an fd");
			break;
		}
}

/* ---- models ------------------------------------------------------------ */

/* Remember a call on m's channel, with the model's state after it. */
void m_note(struct model *m, const char *fmt, ...)
{
	char *h = m->hist[m->nhist % M_HIST];
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = note_vadd(m->hist, M_HIST, &m->nhist, fmt, ap);
	va_end(ap);
	if (k < (int)sizeof(note_line))
		snprintf(h + k, sizeof(note_line) - k, " -> len %u closed %d",
			 m->len, m->closed);
}

/* fail() about m's channel: its history, on stderr (TAP comments). */
void m_dump(const struct model *m)
{
	fprintf(stderr, "# worker %d: the last calls on this channel (es %u cap %u):\n",
		me, m->es, m->cap);
	note_dump(m->hist, M_HIST, m->nhist);
}

/* Sends to a model this full are skipped (len is at most cap, but a
 * signal channel's cap may be large). */
bool m_full(const struct model *m, uint32_t n)
{
	return m && m->len + n + 2 > MQ;
}

void m_push(struct model *m, uint64_t tag)
{
	if (m->len >= MQ)
		fail("model overflow");
	m->q[(m->head + m->len++) % MQ] = tag;
}

static uint64_t m_pop(struct model *m)
{
	uint64_t t = m->q[m->head];

	m->head = (m->head + 1) % MQ;
	m->len--;
	return t;
}

/* Can a send find room?  1 surely, 0 surely not (-1, either, no longer
 * happens: a receive that faults takes nothing, so nothing is ever given
 * back beside the ring to make room uncertain). */
int m_room(const struct model *m)
{
	if (m->closed)
		return 1;
	return m->len < m->cap;
}

/* Compare n received elements at p with the model's front and pop them. */
void m_take(struct model *m, const unsigned char *p, uint32_t n,
	    const char *via)
{
	static unsigned char want[GOCHAN_ELEM_SIZE_MAX];

	fail_model = m;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t tag;

		if (!m->len)
			fail("%s: received an element the model does not have", via);
		tag = m_pop(m);
		fill(want, m->es, tag);
		if (memcmp(want, p + (size_t)i * m->es, m->es)) {
			int at = -1;

			for (unsigned int k = 0; k < m->len; k++) {
				fill(want, m->es, m->q[(m->head + k) % MQ]);
				if (!memcmp(want, p + (size_t)i * m->es, m->es))
					at = k + 1;
			}
			fail("%s: element %u of %u is not tag %#" PRIx64 " (%u-byte "
			     "elements, cap %u, len %u): it is the "
			     "model's value %d after it (-1: none)", via, i, n, tag,
			     m->es, m->cap, m->len + 1, at);
		}
		__atomic_add_fetch(&shm->model_rx, 1, __ATOMIC_RELAXED);
	}
}

/* After a call on a modelled channel: the kernel's len and closed must be
 * the model's. */
void m_check(struct ent *e, const char *via)
{
	struct gochan_stat st = { .size = sizeof(st) };

	if (!e->m)
		return;
	tick();
	if (ioctl(e->fd, GOCHAN_IOC_STAT, &st))
		fail("%s: STAT failed: %s", via, strerror(errno));
	if (st.id != e->id) {
		fail_model = e->m;
		fail("%s: fd %d reaches channel %" PRIu64 ", not channel %" PRIu64
		     " it was made on", via, e->fd, (uint64_t)st.id, e->id);
	}
	if (st.len != e->m->len || !!(st.flags & GOCHAN_STAT_CLOSED) != e->m->closed ||
	    st.elem_size != e->m->es || st.capacity != e->m->cap ||
	    st.send_waiters || st.recv_waiters) {
		fail_model = e->m;
		fail("%s: STAT len %u closed %u waiters %u/%u, model len %u "
		     "closed %u", via, st.len, st.flags & GOCHAN_STAT_CLOSED,
		     st.send_waiters, st.recv_waiters, e->m->len, e->m->closed);
	}
}
