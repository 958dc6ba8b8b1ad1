// SPDX-License-Identifier: GPL-2.0
/*
 * Description: many processes on several channels at once.  Producers send
 * numbered messages (write(2) batches and GOCHAN_IOC_SEND) over unbuffered
 * and buffered channels for a few seconds; receivers (read(2) batches,
 * GOCHAN_IOC_RECV, and an epoll loop with non-blocking RECV) check that each
 * producer's messages arrive in order on each channel; a tally in shared
 * memory checks that every message sent was received exactly once.  Then
 * the channels are closed and every process must exit.
 *
 * GOCHAN_STRESS_SECS (default 3) sets how long the producers run.
 */
#include "helpers.h"

#include <sys/epoll.h>

#define NPROD		4
#define NRECV_PER	2		/* receivers per channel */
#define MAX_SEQ		(1u << 16)	/* per producer */

struct msg {
	uint32_t producer;
	uint32_t chan;
	uint64_t seq;
};

static const uint32_t caps[] = { 0, 1, 8, 0 };	/* 2 unbuffered, 2 buffered */
#define NCHAN		ARRAY_SIZE(caps)
#define NRECV		(NCHAN * NRECV_PER)

/* Receiver styles, NRECV_PER per channel (see receiver()): every channel
 * kind meets two different styles, and the epoll loop meets both kinds. */
static const int styles[] = { 0, 2,  1, 2,  0, 1,  2, 1 };

struct tally {
	uint32_t sent[NPROD];			/* messages each producer sent */
	uint64_t per_chan[NCHAN];		/* messages sent on each channel */
	uint32_t seen[NPROD][MAX_SEQ];		/* times each message arrived */
	char why[NRECV][128];			/* a receiver's failure */
};

/* Producer p: until the deadline, send batches round-robin over the
 * channels; odd producers use write(2), even ones GOCHAN_IOC_SEND. */
static int producer(struct tally *t, const int *fds, int p, int64_t end)
{
	uint64_t seq = 0;
	uint64_t per_chan[NCHAN] = { 0 };

	for (int round = 0; now_ns() < end; round++) {
		int c = (p + round) % NCHAN;
		unsigned int k = 1 + (round + p) % 3;
		struct msg m[3];

		if (seq + k > MAX_SEQ)
			break;
		for (unsigned int i = 0; i < k; i++)
			m[i] = (struct msg){ p, c, seq + i };
		if (p % 2) {
			if (gc_write(fds[c], m, k * sizeof(m[0])) !=
			    (long)(k * sizeof(m[0])))
				return 1;
		} else {
			for (unsigned int i = 0; i < k; i++)
				if (gc_send(fds[c], &m[i], 0))
					return 2;
		}
		seq += k;
		per_chan[c] += k;
	}
	t->sent[p] = seq;
	for (unsigned int c = 0; c < NCHAN; c++)
		__atomic_add_fetch(&t->per_chan[c], per_chan[c],
				   __ATOMIC_SEQ_CST);
	return 0;
}

/* Account for one message; 0 or a failure note in t->why[r]. */
static int take(struct tally *t, int r, uint32_t c, const struct msg *m,
		int64_t last[NPROD])
{
	if (m->producer >= NPROD || m->seq >= MAX_SEQ || m->chan != c) {
		snprintf(t->why[r], sizeof(t->why[r]),
			 "garbage on chan %u: producer %u chan %u seq %llu",
			 c, m->producer, m->chan,
			 (unsigned long long)m->seq);
		return 1;
	}
	if ((int64_t)m->seq <= last[m->producer]) {
		snprintf(t->why[r], sizeof(t->why[r]),
			 "chan %u: producer %u seq %llu after %lld", c,
			 m->producer, (unsigned long long)m->seq,
			 (long long)last[m->producer]);
		return 1;
	}
	last[m->producer] = m->seq;
	__atomic_add_fetch(&t->seen[m->producer][m->seq], 1, __ATOMIC_SEQ_CST);
	return 0;
}

/* Receiver r on channel c, style 0: read(2) batches; 1: GOCHAN_IOC_RECV;
 * 2: epoll + non-blocking RECV.  Runs until the channel is closed and
 * drained. */
static int receiver(struct tally *t, int fd, int r, uint32_t c, int style)
{
	int64_t last[NPROD];
	struct msg m[4];
	int ep = -1;

	for (int i = 0; i < NPROD; i++)
		last[i] = -1;
	if (style == 2) {
		struct epoll_event ev = { .events = EPOLLIN };

		ep = epoll_create1(0);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
			return 3;
	}
	for (;;) {
		if (style == 0) {
			long n = gc_read(fd, m, sizeof(m));

			if (n == 0)
				return 0;
			if (n < 0 || n % sizeof(m[0])) {
				snprintf(t->why[r], sizeof(t->why[r]),
					 "read: %ld", n);
				return 4;
			}
			for (long i = 0; i < n / (long)sizeof(m[0]); i++)
				if (take(t, r, c, &m[i], last))
					return 5;
		} else {
			uint32_t flags = 0, ok = 0;
			int ret;

			if (style == 2) {
				struct epoll_event ev;

				if (epoll_wait(ep, &ev, 1, -1) < 0 &&
				    errno != EINTR)
					return 6;
				flags = GOCHAN_XFER_NONBLOCK;
			}
			ret = gc_recv(fd, m, &ok, flags);
			if (ret == -EAGAIN && style == 2)
				continue;	/* another receiver won it */
			if (ret) {
				snprintf(t->why[r], sizeof(t->why[r]),
					 "recv: %d", ret);
				return 7;
			}
			if (!ok)
				return 0;
			if (take(t, r, c, &m[0], last))
				return 8;
		}
	}
}

GC_DEV_FIXTURE(stress);

TEST_F_TIMEOUT(stress, producers_and_receivers_lose_and_duplicate_nothing, 240)
{
	struct tally *t = gc_shared(sizeof(*t));
	int secs = gc_stress_secs();
	pid_t prod[NPROD], recv[NRECV];
	int fds[NCHAN];
	uint64_t total = 0;
	int64_t end;

	ASSERT_NE(NULL, t);
	ASSERT_EQ(NRECV, ARRAY_SIZE(styles));
	for (unsigned int c = 0; c < NCHAN; c++) {
		fds[c] = gc_make(self->dev, sizeof(struct msg), caps[c]);
		ASSERT_LE(0, fds[c]);
	}
	ksft_print_msg("stress: %d producers, %zu channels (capacities "
		       "%u %u %u %u), %d receivers per channel, %d s\n",
		       NPROD, NCHAN, caps[0], caps[1], caps[2], caps[3],
		       NRECV_PER, secs);
	fflush(stdout);

	for (unsigned int r = 0; r < NRECV; r++) {
		uint32_t c = r / NRECV_PER;
		int style = styles[r];

		recv[r] = gc_fork();
		ASSERT_LE(0, recv[r]);
		if (recv[r] == 0)
			_exit(receiver(t, fds[c], r, c, style));
	}
	end = now_ns() + secs * 1000000000LL;
	for (int p = 0; p < NPROD; p++) {
		prod[p] = gc_fork();
		ASSERT_LE(0, prod[p]);
		if (prod[p] == 0)
			_exit(producer(t, fds, p, end));
	}

	/* Every producer finishes: blocking sends always find a receiver. */
	for (int p = 0; p < NPROD; p++) {
		EXPECT_EQ(0, gc_reap(prod[p])) TH_LOG("producer %d", p);
	}
	/* Close every channel: receivers drain what is left and exit. */
	for (unsigned int c = 0; c < NCHAN; c++) {
		EXPECT_EQ(0, gc_close_chan(fds[c]));
	}
	for (unsigned int r = 0; r < NRECV; r++) {
		/* Every receiver exits, having seen each producer's messages
		 * in order on its channel. */
		EXPECT_EQ(0, gc_reap(recv[r]))
			TH_LOG("receiver %u: %s", r, t->why[r]);
	}

	/* Every message sent was received exactly once; none appeared that
	 * was not sent. */
	for (int p = 0; p < NPROD; p++) {
		uint32_t bad = 0, first_bad = 0;

		for (uint32_t s = 0; s < MAX_SEQ; s++) {
			uint32_t want = s < t->sent[p] ? 1 : 0;

			if (t->seen[p][s] != want && !bad++)
				first_bad = s;
		}
		EXPECT_EQ(0, bad) TH_LOG("producer %d: %u wrong, first seq %u "
					 "seen %u times (sent %u)", p, bad,
					 first_bad, t->seen[p][first_bad],
					 t->sent[p]);
		total += t->sent[p];
	}
	/* The channels' counters agree. */
	for (unsigned int c = 0; c < NCHAN; c++) {
		struct gochan_stat st;

		ASSERT_EQ(0, gc_stat(fds[c], &st));
		EXPECT_EQ(t->per_chan[c], st.sent) TH_LOG("chan %u", c);
		EXPECT_EQ(t->per_chan[c], st.received) TH_LOG("chan %u", c);
		EXPECT_EQ(0, st.len);
		EXPECT_EQ(0, st.send_waiters);
		EXPECT_EQ(0, st.recv_waiters);
		close(fds[c]);
	}
	ksft_print_msg("stress: %llu messages (%u %u %u %u per producer; "
		       "%llu %llu %llu %llu per channel)\n",
		       (unsigned long long)total, t->sent[0], t->sent[1],
		       t->sent[2], t->sent[3],
		       (unsigned long long)t->per_chan[0],
		       (unsigned long long)t->per_chan[1],
		       (unsigned long long)t->per_chan[2],
		       (unsigned long long)t->per_chan[3]);
	fflush(stdout);		/* the harness's child ends with _exit() */
	/* The run did something. */
	EXPECT_LT(NPROD * 10, total);
}

TEST_HARNESS_MAIN
