// SPDX-License-Identifier: GPL-2.0
/*
 * gochan-demo: a tour of Go-style channels between processes.
 *
 * Each section is one function below, in the order they run:
 *
 *   1. a channel is a file descriptor       make one, look at it
 *   2. unbuffered: a rendezvous             fork; a send waits for its receiver
 *   3. buffered: producer and consumer      a ring of 4; close by the sender
 *   4. passing a channel to another program SCM_RIGHTS to a fresh exec
 *   5. one consumer, several channels       an epoll loop
 *   6. select across processes              Go's select; with a timeout; a
 *                                           select set over 64 channels
 *   7. close is seen by everyone            receivers wake, senders get EPIPE
 *   8. a named channel, unrelated processes open by name, mode 0600, unlink
 *   9. an io_uring consumer                 queued receives, no thread blocked
 *  10. every channel of the demo            the stat table once more
 *
 * Only the parent prints.  Children report what they saw over a buffered
 * channel (procs.c) and the parent checks it: anything unexpected ends the
 * demo with exit status 1.  Where the parent must know that a child has
 * blocked, it watches the channel's GOCHAN_IOC_STAT rather than sleeping.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <liburing.h>

#include "demo.h"

#define MS		1000000LL	/* nanoseconds */

static const char *errname(int err)
{
	switch (err) {
	case 0:		return "no error";
	case -EPIPE:	return "EPIPE";
	case -EAGAIN:	return "EAGAIN";
	case -EINVAL:	return "EINVAL";
	case -EINTR:	return "EINTR";
	case -ENOENT:	return "ENOENT";
	case -ETIMEDOUT: return "ETIMEDOUT";
	case -EACCES:	return "EACCES";
	case -EEXIST:	return "EEXIST";
	case -EBADF:	return "EBADF";
	default:	return "an unexpected error";
	}
}

/*
 * Make a channel or die.  The demo's channels reach other processes only by
 * fork() and SCM_RIGHTS, never by exec: CLOEXEC makes that visible (the
 * exec'd child of section 4 starts with none).
 */
static int make(const char *name, unsigned int elem_size, unsigned int cap)
{
	int fd = gochan_make(elem_size, cap, GOCHAN_CREATE_CLOEXEC);

	if (fd < 0)
		die("making %s (elem_size %u, capacity %u): %s", name,
		    elem_size, cap, strerror(-fd));
	return fd;
}

static void send_or_die(const char *name, int fd, const void *elem)
{
	int err = gochan_send(fd, elem, GOCHAN_NO_DEADLINE);

	if (err)
		die("send on %s: %s", name, strerror(-err));
}

/* Receive a value that must be there (the channel is not closed). */
static void recv_or_die(const char *name, int fd, void *elem)
{
	bool ok;
	int err = gochan_recv(fd, elem, &ok, GOCHAN_NO_DEADLINE);

	if (err)
		die("receive on %s: %s", name, strerror(-err));
	if (!ok)
		die("receive on %s: closed, but a value was expected", name);
}

/* ------------------------------------------------------------------ */
/* 1. A channel is a file descriptor                                   */

static int greet;		/* unbuffered, 64-byte strings */

static void section_make(void)
{
	char link[64], target[PATH_MAX] = "";
	ssize_t n;

	headline("1. A channel is a file descriptor");
	greet = make("greet", 64, 0);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", greet);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		die("readlink %s: %s", link, strerror(errno));
	target[n] = '\0';
	say("gochan_make(64, 0, GOCHAN_CREATE_CLOEXEC) opened %s and issued",
	    GOCHAN_DEVICE_PATH);
	say("GOCHAN_IOC_CREATE { elem_size = 64, capacity = 0 }.  It returned fd %d,",
	    greet);
	say("which is %s: read, write, poll and close(2) work on it,", target);
	say("fork() and SCM_RIGHTS share it.  GOCHAN_IOC_STAT describes it, and");
	say("so does /proc/self/fdinfo.  The demo's children report back to the");
	say("parent over a second channel, \"log\" (buffered, 32 reports):");
	stat_header();
	stat_row("greet", greet, "capacity 0: unbuffered");
	stat_row("log", report_fd, "");
	show_fdinfo("greet", greet);
}

/* ------------------------------------------------------------------ */
/* 2. Unbuffered: a send waits for its receiver                        */

static void greeter(void *arg)
{
	char msg[64], reply[64];
	int64_t t0, t1;

	(void)arg;
	snprintf(msg, sizeof(msg), "hello from pid %d", getpid());
	t0 = now_ns();
	send_or_die("greet", greet, msg);
	t1 = now_ns();
	report(0, 0, t1, "my send returned after %lld ms, once the value was taken",
	       (long long)((t1 - t0) / MS));

	/* Now the other way round: this child waits first. */
	recv_or_die("greet", greet, reply);
	report(0, 0, 0, "received \"%s\"", reply);
}

static void section_rendezvous(void)
{
	struct report r;
	char msg[64];
	int64_t t_recv;
	pid_t pid;

	headline("2. Unbuffered: a send waits for its receiver (fork)");
	pid = spawn(greeter, NULL);
	say("forked child %d; it inherited fd %d and sends \"hello\" on greet.",
	    pid, greet);
	expect_stat(greet, "greet", 0, 1, 0, true);
	stat_header();
	stat_row("greet", greet, "child blocked in send");
	usleep(200 * 1000);
	expect_stat(greet, "greet", 0, 1, 0, false);
	stat_row("greet", greet, "200 ms later: still blocked");

	t_recv = now_ns();
	recv_or_die("greet", greet, msg);
	say("parent received \"%s\"", msg);
	next_report(&r);
	if (r.value < t_recv)
		die("the child's send returned before the parent received");
	say("child: %s", r.text);

	say("Now the child receives first; the parent's send finds it waiting:");
	expect_stat(greet, "greet", 0, 0, 1, true);
	stat_header();
	stat_row("greet", greet, "child blocked in receive");
	snprintf(msg, sizeof(msg), "hello back from pid %d", getpid());
	send_or_die("greet", greet, msg);
	next_report(&r);
	say("child: %s", r.text);
	reap(pid);
}

/* ------------------------------------------------------------------ */
/* 3. Buffered: a producer runs ahead of its consumer                  */

#define NJOBS	12

struct job {
	uint32_t seq;
	char what[28];
};

static int jobs;		/* capacity 4 */

static void producer(void *arg)
{
	(void)arg;
	for (uint32_t seq = 1; seq <= NJOBS; seq++) {
		struct job j = { .seq = seq };

		snprintf(j.what, sizeof(j.what), "job %u", seq);
		send_or_die("jobs", jobs, &j);
	}
	/* As in Go, the sender closes: "no more values are coming". */
	if (gochan_close(jobs))
		die("closing jobs");
	report(1, 0, NJOBS, "sent jobs 1..%d, then closed the channel", NJOBS);
}

static void consumer(void *arg)
{
	struct job batch[4];
	uint32_t next = 1;
	ssize_t n;

	(void)arg;
	/* read() takes as many whole elements as are ready, up to 4 here,
	 * and returns 0 once the channel is closed and drained. */
	while ((n = read(jobs, batch, sizeof(batch))) > 0) {
		if (n % sizeof(struct job))
			die("read %zd bytes: not whole elements", n);
		for (size_t i = 0; i < n / sizeof(struct job); i++)
			if (batch[i].seq != next++)
				die("job %u arrived out of order", batch[i].seq);
	}
	if (n < 0)
		die("read on jobs: %s", strerror(errno));
	report(2, 0, next - 1, "received jobs 1..%u in order, then read() returned 0",
	       next - 1);
}

static void section_buffered(void)
{
	struct report r[2];
	pid_t prod, cons;

	headline("3. Buffered: a producer runs ahead of its consumer");
	jobs = make("jobs", sizeof(struct job), 4);
	prod = spawn(producer, NULL);
	say("child %d sends %d jobs on \"jobs\" (capacity 4); nobody receives yet.",
	    prod, NJOBS);
	expect_stat(jobs, "jobs", 4, 1, 0, true);
	stat_header();
	stat_row("jobs", jobs, "4 buffered, producer blocked on job 5");

	cons = spawn(consumer, NULL);
	say("child %d starts consuming with read():", cons);
	next_reports_sorted(r, 2);
	say("producer: %s", r[0].text);
	say("consumer: %s", r[1].text);
	if (r[1].value != NJOBS)
		die("the consumer got %lld jobs, not %d", (long long)r[1].value, NJOBS);
	reap(prod);
	reap(cons);
	stat_header();
	stat_row("jobs", jobs, "all sent, all received, closed");
}

/* ------------------------------------------------------------------ */
/* 4. Passing a channel to another program over SCM_RIGHTS             */

static int requests, replies;

/* How many of this process's fds are gochan channels. */
static int count_channel_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		die("/proc/self/fd: %s", strerror(errno));
	while ((e = readdir(d))) {
		char path[300], target[256];
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (strstr(target, "gochan"))
			n++;
	}
	closedir(d);
	return n;
}

/*
 * The program the parent execs: it starts with no channel at all (every
 * channel of the demo is CLOEXEC), gets two over a unix socket, then serves
 * requests until the requests channel is closed.
 */
static int scm_child(int sock)
{
	char buf[64], cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct gochan_stat st_req, st_rep;
	struct cmsghdr *cm;
	int before, fds[2];
	bool ok;

	before = count_channel_fds();
	if (recvmsg(sock, &mh, 0) != 1)
		die("recvmsg: %s", strerror(errno));
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(fds)))
		die("no SCM_RIGHTS with two fds");
	memcpy(fds, CMSG_DATA(cm), sizeof(fds));
	if (gochan_stat(fds[0], &st_req) || gochan_stat(fds[1], &st_rep))
		die("the received fds are not channels");

	snprintf(buf, sizeof(buf), "pid %d: %d channels at exec, %d after recvmsg",
		 getpid(), before, count_channel_fds());
	send_or_die("replies", fds[1], buf);
	snprintf(buf, sizeof(buf), "fds %d and %d = channel ids %llu and %llu",
		 fds[0], fds[1], (unsigned long long)st_req.id,
		 (unsigned long long)st_rep.id);
	send_or_die("replies", fds[1], buf);

	for (;;) {
		int err = gochan_recv(fds[0], buf, &ok, GOCHAN_NO_DEADLINE);

		if (err)
			die("receive on requests: %s", strerror(-err));
		if (!ok)
			break;
		for (char *p = buf; *p; p++)
			*p = toupper((unsigned char)*p);
		send_or_die("replies", fds[1], buf);
	}
	if (gochan_close(fds[1]))
		die("closing replies");
	return 0;
}

static void exec_scm_child(void *arg)
{
	char sockarg[16];

	snprintf(sockarg, sizeof(sockarg), "%d", *(int *)arg);
	execl("/proc/self/exe", "gochan-demo", "--scm-child", sockarg, (char *)NULL);
	die("exec /proc/self/exe: %s", strerror(errno));
}

static void section_scm(void)
{
	static const char *const words[] = { "ping", "channels", "cross processes" };
	char cbuf[CMSG_SPACE(2 * sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = "C", .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	int sv[2], fds[2];
	struct cmsghdr *cm;
	char buf[64];
	pid_t pid;
	bool ok;
	int err;

	headline("4. Passing channels to another program (SCM_RIGHTS)");
	requests = make("requests", 64, 0);
	replies = make("replies", 64, 4);
	/* Only sv[1] crosses the exec, as the child's only way in. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair: %s", strerror(errno));
	if (fcntl(sv[0], F_SETFD, FD_CLOEXEC))
		die("fcntl: %s", strerror(errno));
	pid = spawn(exec_scm_child, &sv[1]);
	close(sv[1]);
	say("child %d exec'd a fresh gochan-demo: it holds a unix socket, no channel.", pid);

	fds[0] = requests;
	fds[1] = replies;
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	if (sendmsg(sv[0], &mh, 0) != 1)
		die("sendmsg: %s", strerror(errno));
	close(sv[0]);
	say("parent sent fds %d (requests) and %d (replies) with sendmsg(SCM_RIGHTS).",
	    requests, replies);
	stat_header();
	stat_row("requests", requests, "unbuffered");
	stat_row("replies", replies, "");

	recv_or_die("replies", replies, buf);
	say("child: %s", buf);
	recv_or_die("replies", replies, buf);
	say("child: %s", buf);

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", words[i]);
		send_or_die("requests", requests, buf);
		recv_or_die("replies", replies, buf);
		say("request \"%s\" -> reply \"%s\"", words[i], buf);
	}
	if (gochan_close(requests))
		die("closing requests");
	err = gochan_recv(replies, buf, &ok, GOCHAN_NO_DEADLINE);
	if (err || ok)
		die("replies: expected end-of-channel, got %s", err ? strerror(-err) : "a value");
	say("parent closed requests; the child saw it, closed replies and exited.");
	reap(pid);
	stat_header();
	stat_row("requests", requests, "");
	stat_row("replies", replies, "");
}

/* ------------------------------------------------------------------ */
/* 5. One consumer, several channels: an epoll loop                    */

#define NSENSORS	3
#define NREADINGS	3
#define SLOT_MS		60	/* Sensor i sends reading k at slot 3k + i. */

struct reading {
	int32_t sensor;
	int32_t seq;
};

static int sensors[NSENSORS];
static int64_t sensor_start;

static void sensor(void *arg)
{
	int i = (int)(intptr_t)arg;

	for (int k = 0; k <= NREADINGS; k++) {
		int64_t at = sensor_start + (3 * k + i) * SLOT_MS * MS;
		struct reading r = { .sensor = i, .seq = k + 1 };

		if (at > now_ns())
			usleep((at - now_ns()) / 1000);
		if (k == NREADINGS)
			break;
		send_or_die("sensor", sensors[i], &r);
	}
	if (gochan_close(sensors[i]))
		die("closing sensor-%c", 'a' + i);
}

static const char *epoll_flags(uint32_t ev)
{
	static char s[32];

	snprintf(s, sizeof(s), "%s%s%s", ev & EPOLLIN ? "IN" : "",
		 ev & EPOLLOUT ? "|OUT" : "", ev & EPOLLHUP ? "|HUP" : "");
	return s;
}

static void section_epoll(void)
{
	int next_seq[NSENSORS], open = NSENSORS, ep;
	char name[NSENSORS][16];
	pid_t pids[NSENSORS];

	headline("5. One consumer, several channels: an epoll loop");
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1: %s", strerror(errno));
	for (int i = 0; i < NSENSORS; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

		snprintf(name[i], sizeof(name[i]), "sensor-%c", 'a' + i);
		sensors[i] = make(name[i], sizeof(struct reading), 2);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, sensors[i], &ev))
			die("epoll_ctl: %s", strerror(errno));
		next_seq[i] = 1;
	}
	sensor_start = now_ns() + 100 * MS;
	for (int i = 0; i < NSENSORS; i++)
		pids[i] = spawn(sensor, (void *)(intptr_t)i);
	say("3 children each send %d readings on their own channel, %d ms apart,",
	    NREADINGS, 3 * SLOT_MS);
	say("then close it.  The parent waits on all 3 fds with one epoll_wait():");

	while (open > 0) {
		struct epoll_event evs[NSENSORS];
		int n = epoll_wait(ep, evs, NSENSORS, 30000);

		if (n <= 0)
			die("epoll_wait: %s", n ? strerror(errno) : "timed out");
		for (int e = 0; e < n; e++) {
			int i = evs[e].data.u32;
			struct reading buf[2];
			ssize_t got;

			/* Level-triggered EPOLLIN: a read() will not block. */
			got = read(sensors[i], buf, sizeof(buf));
			if (got < 0)
				die("read %s: %s", name[i], strerror(errno));
			if (got == 0) {
				say("  %-8s [%-6s] read() = 0: closed and drained; removed from the epoll set",
				    name[i], epoll_flags(evs[e].events));
				if (next_seq[i] != NREADINGS + 1)
					die("%s closed after %d readings", name[i], next_seq[i] - 1);
				epoll_ctl(ep, EPOLL_CTL_DEL, sensors[i], NULL);
				open--;
				continue;
			}
			for (size_t k = 0; k < got / sizeof(buf[0]); k++) {
				if (buf[k].sensor != i || buf[k].seq != next_seq[i]++)
					die("%s: unexpected reading %d/%d", name[i],
					    buf[k].sensor, buf[k].seq);
				say("  %-8s [%-6s] reading #%d", name[i],
				    epoll_flags(evs[e].events), buf[k].seq);
			}
		}
	}
	close(ep);
	for (int i = 0; i < NSENSORS; i++)
		reap(pids[i]);
	stat_header();
	for (int i = 0; i < NSENSORS; i++)
		stat_row(name[i], sensors[i], "");
}

/* ------------------------------------------------------------------ */
/* 6. Select across processes                                          */

#define NORDERS		3
#define NALERTS		2
#define SEL_SLOT_MS	80	/* orders at slots 0, 2, 4; alerts at 1, 3 */

struct event {
	int32_t seq;
	char what[28];
};

static int orders, alerts;	/* unbuffered */
static int idle;		/* a signal channel nobody sends on, at first */

/*
 * Feeder @i (0: orders, 1: alerts): once the parent's select is blocked
 * on both channels, it sends event k at slot 2k + i, then closes its
 * channel at the slot after its last event (alerts at 5, orders at 6).
 * The orders feeder reports the blocked select it saw.
 */
static void feeder(void *arg)
{
	int i = (int)(intptr_t)arg;
	int fd = i ? alerts : orders, n = i ? NALERTS : NORDERS;
	int64_t start;

	expect_stat(orders, "orders", 0, 0, 1, true);
	expect_stat(alerts, "alerts", 0, 0, 1, true);
	start = now_ns();
	if (i == 0)
		report(0, 0, 0, "the parent's one select was blocked on orders and on alerts");
	for (int k = 0; k <= n; k++) {
		int64_t at = start + (2 * k + i) * SEL_SLOT_MS * MS;
		struct event e = { .seq = k + 1 };

		if (at > now_ns())
			usleep((at - now_ns()) / 1000);
		if (k == n)
			break;
		snprintf(e.what, sizeof(e.what), "%s #%d", i ? "alert" : "order",
			 k + 1);
		send_or_die(i ? "alerts" : "orders", fd, &e);
	}
	if (gochan_close(fd))
		die("closing %s", i ? "alerts" : "orders");
}

/* The child of part b: one signal on idle, 100 ms into the parent's wait. */
static void idle_poker(void *arg)
{
	(void)arg;
	expect_stat(idle, "idle", 0, 0, 1, true);
	usleep(100 * 1000);
	send_or_die("idle", idle, NULL);
}

/* 6c: the channels of the select set, and the child that feeds three. */
#define NMANY		64
static int many[NMANY];
static const int many_fed[3] = { 7, 42, 63 };

static void set_feeder(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++) {
		uint64_t v = 1000 + many_fed[i];

		usleep(50 * 1000);
		send_or_die("many[]", many[many_fed[i]], &v);
	}
}

static void section_select_set(void)
{
	struct gochan_select_case cases[NMANY];
	struct gochan_select_result res;
	uint64_t v = 0;
	int set, ret;
	pid_t pid;

	say("c) The same select, run again and again: register its cases once");
	say("   (gochan_selset, GOCHAN_IOC_SELSET), as epoll_ctl registers fds; a select");
	say("   on the set looks only at the cases that became ready.  64 channels, and");
	say("   a child sends on three of them, 50 ms apart:");
	for (int i = 0; i < NMANY; i++) {
		many[i] = make("many[]", sizeof(v), 1);
		cases[i] = GOCHAN_RECV(many[i], &v);
	}
	set = gochan_selset(cases, NMANY, GOCHAN_SELSET_CLOEXEC);
	if (set < 0)
		die("gochan_selset: %s", strerror(-set));
	pid = spawn(set_feeder, NULL);
	for (int i = 0; i < 3; i++) {
		ret = gochan_selset_select(set, &res, GOCHAN_NO_DEADLINE);
		if (ret != many_fed[i] || !res.ok || v != (uint64_t)(1000 + ret))
			die("set select: %s (case %d, value %llu)", errname(ret < 0 ? ret : 0),
			    ret, (unsigned long long)v);
		say("  set select -> case %2d of %d: %llu", ret, NMANY, (unsigned long long)v);
	}
	reap(pid);
	ret = gochan_selset_try(set, &res);
	if (ret != -EAGAIN)
		die("set try_select: %s", errname(ret));
	say("  and nothing more is ready: gochan_selset_try() fails with %s", errname(ret));
	close(set);
	for (int i = 0; i < NMANY; i++)
		close(many[i]);
}

static void section_select(void)
{
	const char *names[2] = { "orders", "alerts" };
	int want[2] = { NORDERS, NALERTS }, next[2] = { 1, 1 };
	struct gochan_select_case cases[2];
	int which[2] = { 0, 1 };	/* cases[k] is on channel which[k] */
	struct gochan_select_result res;
	unsigned int n = 2;
	struct event e;
	struct report r;
	int64_t t0, ms;
	pid_t pids[2], pid;
	int ret, ch;

	headline("6. Select across processes");
	say("a) The parent waits on two channels at once with gochan_select(), Go's");
	say("     select { case e, ok := <-orders: ...  case e, ok := <-alerts: ... }");
	say("   Two children feed them, %d ms apart, then close them:", SEL_SLOT_MS);
	orders = make("orders", sizeof(struct event), 0);
	alerts = make("alerts", sizeof(struct event), 0);
	for (int i = 0; i < 2; i++)
		pids[i] = spawn(feeder, (void *)(intptr_t)i);

	cases[0] = GOCHAN_RECV(orders, &e);
	cases[1] = GOCHAN_RECV(alerts, &e);
	while (n > 0) {
		ret = gochan_select(cases, n, &res, GOCHAN_NO_DEADLINE);
		if (ret < 0)
			die("gochan_select: %s", strerror(-ret));
		ch = which[ret];

		if (!res.ok) {
			say("  select -> case %d: %-6s closed (ok = false): drop the case (Go: %s = nil)",
			    ret, names[ch], names[ch]);
			if (next[ch] != want[ch] + 1)
				die("%s closed after %d events", names[ch], next[ch] - 1);
			/* Drop case ret: the last case takes its place. */
			cases[ret] = cases[n - 1];
			which[ret] = which[n - 1];
			n--;
			continue;
		}
		if (e.seq != next[ch]++)
			die("%s: event %d out of order", names[ch], e.seq);
		say("  select -> case %d: %-6s \"%s\"", ret, names[ch], e.what);
	}
	next_report(&r);
	say("Before its first send, the orders feeder saw (GOCHAN_IOC_STAT) that");
	say("%s: 1 receiver each.", r.text);
	for (int i = 0; i < 2; i++)
		reap(pids[i]);
	stat_header();
	stat_row("orders", orders, "");
	stat_row("alerts", alerts, "");

	say("b) A timeout, Go's case <-time.After(150 * time.Millisecond):");
	idle = make("idle", 0, 0);
	{
		struct gochan_select_case one[] = { GOCHAN_RECV(idle, NULL) };

		t0 = now_ns();
		ret = gochan_select(one, 1, &res, t0 + 150 * MS);
		ms = (now_ns() - t0) / MS;
		if (ret != -ETIMEDOUT || ms < 150)
			die("select with a deadline: %s after %lld ms", errname(ret),
			    (long long)ms);
		say("  nobody sends on idle: a timed gochan_select() fails with %s after %lld ms",
		    errname(ret), (long long)ms);

		ret = gochan_try_select(one, 1, &res);
		if (ret != -EAGAIN)
			die("try_select: %s", errname(ret));
		say("  Go's default: gochan_try_select() fails with %s at once", errname(ret));

		pid = spawn(idle_poker, NULL);
		t0 = now_ns();
		ret = gochan_select(one, 1, &res, t0 + 5000 * MS);
		ms = (now_ns() - t0) / MS;
		if (ret != 0 || !res.ok)
			die("select with a deadline and a sender: %s", errname(ret));
		say("  a child signals idle 100 ms in: the 5 s select returns case %d after %lld ms",
		    ret, (long long)ms);
		reap(pid);
	}
	section_select_set();
}

/* ------------------------------------------------------------------ */
/* 7. Close is seen by everyone                                        */

#define NWORKERS	3

static int quit;		/* elem_size 0: Go's chan struct{} */
static int queue;		/* capacity 2, 32-byte strings */

static void worker(void *arg)
{
	int who = (int)(intptr_t)arg;
	bool ok = true;
	int err = gochan_recv(quit, NULL, &ok, GOCHAN_NO_DEADLINE);

	report(who, err, ok, "worker %d woke up: GOCHAN_IOC_RECV returned ok = %d",
	       who, ok);
}

static void queue_sender(void *arg)
{
	char v[32];
	int err = 0, sent = 0;

	(void)arg;
	while (!err) {
		snprintf(v, sizeof(v), "q%d", sent + 1);
		err = gochan_send(queue, v, GOCHAN_NO_DEADLINE);
		if (!err)
			sent++;
	}
	report(0, err, sent, "sender: sent q1..q%d; send of q%d failed with %s",
	       sent, sent + 1, errname(err));
}

/* Receive until end-of-channel; reports the values it got. */
static void queue_receiver(void *arg)
{
	int who = (int)(intptr_t)arg;
	char v[32], got[80] = "";
	int n = 0;

	for (;;) {
		ssize_t len = read(queue, v, sizeof(v));

		if (len < 0)
			die("read on queue: %s", strerror(errno));
		if (len == 0)
			break;
		n++;
		strncat(got, v, sizeof(got) - strlen(got) - 2);
		strcat(got, " ");
	}
	report(who, 0, n, "receiver %d: got %s%sthen read() returned 0",
	       who, n ? got : "nothing, ", n ? "and " : "");
}

static void section_close(void)
{
	struct report r[NWORKERS];
	char v[32] = "late";
	pid_t pid;
	int err;

	headline("7. Close is seen by everyone");
	say("a) Broadcast: 3 workers wait on \"quit\", a signal channel (elem_size 0,");
	say("   Go's chan struct{}); closing it wakes them all.");
	quit = make("quit", 0, 0);
	for (int i = 1; i <= NWORKERS; i++)
		spawn(worker, (void *)(intptr_t)i);
	expect_stat(quit, "quit", 0, 0, NWORKERS, true);
	stat_header();
	stat_row("quit", quit, "3 workers blocked receiving");
	if (gochan_close(quit))
		die("closing quit");
	next_reports_sorted(r, NWORKERS);
	for (int i = 0; i < NWORKERS; i++) {
		if (r[i].err || r[i].value != 0)
			die("worker %d: err %d ok %lld", r[i].who, r[i].err,
			    (long long)r[i].value);
		say("%s", r[i].text);
	}
	reap_all();

	say("b) A full buffer, a blocked sender, then close:");
	queue = make("queue", 32, 2);
	pid = spawn(queue_sender, NULL);
	expect_stat(queue, "queue", 2, 1, 0, true);
	stat_header();
	stat_row("queue", queue, "full; the sender is blocked on q3");
	if (gochan_close(queue))
		die("closing queue");
	next_report(r);
	if (r[0].err != -EPIPE || r[0].value != 2)
		die("the blocked sender should fail with EPIPE after 2 sends");
	say("%s", r[0].text);
	reap(pid);
	expect_stat(queue, "queue", 2, 0, 0, false);
	stat_row("queue", queue, "closed, 2 values still buffered");

	/* One receiver after the other, so the output does not depend on
	 * which of them the scheduler runs first. */
	for (int i = 1; i <= 2; i++) {
		pid = spawn(queue_receiver, (void *)(intptr_t)i);
		next_report(r);
		if (r[0].value != (i == 1 ? 2 : 0))
			die("receiver %d got %lld values", i, (long long)r[0].value);
		say("%s", r[0].text);
		reap(pid);
	}
	err = gochan_send(queue, v, GOCHAN_NO_DEADLINE);
	say("parent: a late send fails with %s", errname(err));
	if (err != -EPIPE)
		die("a send on a closed channel returned %d", err);
	err = gochan_close(queue);
	say("parent: closing it a second time fails with %s (Go panics)", errname(err));
	if (err != -EPIPE)
		die("a second close returned %d", err);
}

/* ------------------------------------------------------------------ */
/* 8. A named channel used by unrelated processes                      */

#define ORDERS_NAME	"demo-orders"
#define NORDERS		3

static int named_orders;	/* the parent's receive-only fd */

/* Print the listing's lines of the demo's names (others may be there). */
static int list_demo_name(const struct gochan_name_info *n, void *arg)
{
	if (strncmp(n->name, "demo-", 5))
		return 0;
	++*(int *)arg;
	say("  %-12s id %llu, elem_size %u, capacity %u, len %u, %s, mode %03o, uid %u",
	    n->name, (unsigned long long)n->id, n->elem_size, n->capacity,
	    n->len, n->closed ? "closed" : "open", (unsigned)n->mode,
	    (unsigned)n->uid);
	return 0;
}

static void show_listing(void)
{
	int shown = 0, err;

	say("read(2) on %s lists the names:", GOCHAN_DEVICE_PATH);
	err = gochan_list(list_demo_name, &shown);
	if (err)
		die("gochan_list: %s", strerror(-err));
	if (!shown)
		say("  (no demo- name)");
}

/*
 * The program the parent execs for this section: it inherits no channel
 * (they are all CLOEXEC) and no socket; it knows only the name.
 */
static int named_sender(const char *name)
{
	int before = count_channel_fds(), fd;
	char buf[32];
	uint64_t id;

	fd = gochan_open_id(name, GOCHAN_OPEN_SEND | GOCHAN_OPEN_CLOEXEC, 0, 0, 0,
			    &id);
	if (fd < 0)
		die("gochan_open(\"%s\", SEND): %s", name, strerror(-fd));
	snprintf(buf, sizeof(buf), "pid %d: %d channels at exec", getpid(), before);
	send_or_die(name, fd, buf);
	for (int i = 1; i <= NORDERS; i++) {
		snprintf(buf, sizeof(buf), "order %d, channel %llu", i,
			 (unsigned long long)id);
		send_or_die(name, fd, buf);
	}
	close(fd);
	return 0;
}

static void exec_named_sender(void *arg)
{
	execl("/proc/self/exe", "gochan-demo", "--named-sender", (char *)arg,
	      (char *)NULL);
	die("exec /proc/self/exe: %s", strerror(errno));
}

/* A child that drops to uid 65534 and tries the name (root only). */
static void stranger(void *arg)
{
	int fd;

	(void)arg;
	if (setgid(65534) || setuid(65534))
		die("setuid 65534: %s", strerror(errno));
	fd = gochan_open(ORDERS_NAME, GOCHAN_OPEN_SEND, 0, 0, 0);
	report(0, fd < 0 ? fd : 0, 0, "uid 65534 opening %s to send: %s",
	       ORDERS_NAME, fd < 0 ? errname(fd) : "allowed");
}

static void section_named(void)
{
	struct report r;
	char buf[32];
	uint64_t id;
	pid_t pid;
	int err;

	headline("8. A named channel used by unrelated processes");
	/* A name outlives a demo that died before its unlink. */
	if (gochan_unlink(ORDERS_NAME) == 0)
		say("(removed a %s left by an earlier run)", ORDERS_NAME);
	named_orders = gochan_open_id(ORDERS_NAME, GOCHAN_OPEN_CREATE |
				      GOCHAN_OPEN_EXCL | GOCHAN_OPEN_RECV |
				      GOCHAN_OPEN_CLOEXEC, 0600, 32, NORDERS + 1,
				      &id);
	if (named_orders < 0)
		die("gochan_open(\"%s\", CREATE|EXCL|RECV): %s", ORDERS_NAME,
		    strerror(-named_orders));
	say("gochan_open(\"%s\", CREATE|EXCL|RECV, 0600, 32, %d) made channel %llu",
	    ORDERS_NAME, NORDERS + 1, (unsigned long long)id);
	say("under a name in this IPC namespace; fd %d may only receive.",
	    named_orders);
	show_listing();

	err = gochan_open(ORDERS_NAME, GOCHAN_OPEN_CREATE | GOCHAN_OPEN_EXCL,
			  0600, 32, NORDERS + 1);
	say("a second CREATE|EXCL of the name fails with %s.", errname(err));
	if (err != -EEXIST)
		die("a second CREATE|EXCL returned %d", err);
	err = gochan_close(named_orders);
	say("closing the channel through the receive-only fd fails with %s.",
	    errname(err));
	if (err != -EBADF)
		die("gochan_close on a receive-only fd returned %d", err);
	if (geteuid() == 0) {
		/* Mode 0600: the owner may, others may not. */
		pid = spawn(stranger, NULL);
		next_report(&r);
		if (r.err != -EACCES)
			die("uid 65534 should get EACCES: %s", r.text);
		say("%s (mode 0600).", r.text);
		reap(pid);
	}

	pid = spawn(exec_named_sender, (void *)ORDERS_NAME);
	say("child %d exec'd a fresh gochan-demo knowing only the name; it opens", pid);
	say("it with gochan_open(\"%s\", SEND) and sends:", ORDERS_NAME);
	for (int i = 0; i <= NORDERS; i++) {
		recv_or_die(ORDERS_NAME, named_orders, buf);
		say("  %s", buf);
	}
	reap(pid);
	stat_header();
	stat_row("by-name", named_orders, "demo-orders; the sender is gone");

	err = gochan_unlink(ORDERS_NAME);
	if (err)
		die("gochan_unlink(\"%s\"): %s", ORDERS_NAME, strerror(-err));
	err = gochan_open(ORDERS_NAME, 0, 0, 0, 0);
	say("gochan_unlink(\"%s\"): opening it now fails with %s;", ORDERS_NAME,
	    errname(err));
	if (err != -ENOENT)
		die("opening an unlinked name returned %d", err);
	show_listing();
	err = gochan_try_recv(named_orders, buf, NULL);
	say("the open fd still works: a receive now finds it empty (%s).",
	    errname(err));
	if (err != -EAGAIN)
		die("a receive on the unlinked channel returned %d", err);
	say("the channel goes with its last fd, at the parent's exit.");
}

/* ------------------------------------------------------------------ */
/* 9. An io_uring consumer                                             */

#define NFEEDS		3

struct item {
	int32_t seq;
	char text[28];
};

static const char *const feed_name[NFEEDS] = { "quotes", "news", "notices" };
static int feeds[NFEEDS];	/* unbuffered */
static int spare;		/* a receive queued here is cancelled */

/* What the publisher sends, in this order, then it closes the feeds. */
static const struct { int feed; const char *text; } script[] = {
	{ 0, "ACME 101.25" },
	{ 1, "ACME beats estimates" },
	{ 0, "ACME 103.50" },
	{ 2, "ACME up 2%" },
	{ 1, "markets close higher" },
	{ 0, "ACME 104.00" },
};
#define NSCRIPT		(int)(sizeof(script) / sizeof(script[0]))
static const int close_order[NFEEDS] = { 1, 0, 2 };

/* Each queued receive shows as a blocked receiver: wait for one on every
 * feed, so the parent takes one completion at a time and the output is in
 * order. */
static void wait_all_queued(void)
{
	for (int f = 0; f < NFEEDS; f++)
		expect_stat(feeds[f], feed_name[f], 0, 0, 1, true);
}

static void publisher(void *arg)
{
	int seq[NFEEDS] = { 0 };

	(void)arg;
	for (int i = 0; i < NSCRIPT; i++) {
		struct item it = { .seq = ++seq[script[i].feed] };

		snprintf(it.text, sizeof(it.text), "%s", script[i].text);
		wait_all_queued();
		send_or_die(feed_name[script[i].feed], feeds[script[i].feed], &it);
	}
	wait_all_queued();
	for (int i = 0; i < NFEEDS; i++)
		if (gochan_close(feeds[close_order[i]]))
			die("closing %s", feed_name[close_order[i]]);
}

static const char *cqe_res(int res)
{
	static char s[32];

	if (res == -ECANCELED)
		return "-ECANCELED";
	snprintf(s, sizeof(s), "%d", res);
	return s;
}

static void section_uring(void)
{
	static struct item got[NFEEDS], spare_item;
	struct gochan_xfer x;
	struct io_uring ring;
	int next_seq[NFEEDS], open = NFEEDS, n = 0, err;
	bool closed[NFEEDS] = { false };
	struct io_uring_cqe *cqe;
	pid_t pid;

	headline("9. An io_uring consumer: queued receives, no thread blocked");
	err = io_uring_queue_init(8, &ring, 0);
	if (err)
		die("io_uring_queue_init: %s", strerror(-err));
	for (int f = 0; f < NFEEDS; f++) {
		feeds[f] = make(feed_name[f], sizeof(struct item), 0);
		next_seq[f] = 1;
		/* user_data (and cancel key) = the feed's index. */
		gochan_prep_recv(io_uring_get_sqe(&ring), feeds[f], &x, &got[f], f);
		if (io_uring_submit(&ring) != 1)
			die("io_uring_submit");
	}
	say("The parent queues one receive (IORING_OP_URING_CMD, GOCHAN_IOC_RECV) on");
	say("each of 3 unbuffered channels.  They wait inside the channels, as blocked");
	say("receivers do, while the parent's only thread waits for completions:");
	wait_all_queued();
	stat_header();
	for (int f = 0; f < NFEEDS; f++)
		stat_row(feed_name[f], feeds[f], "a queued io_uring receive");

	pid = spawn(publisher, NULL);
	say("A publisher process sends %d items with plain blocking sends, then closes", NSCRIPT);
	say("the feeds.  Each send meets the queued receive, which completes with res 1;");
	say("the parent prints the item and queues the next receive on that feed:");
	while (open > 0) {
		int f, res;

		err = io_uring_wait_cqe(&ring, &cqe);
		if (err)
			die("io_uring_wait_cqe: %s", strerror(-err));
		f = (int)cqe->user_data;
		res = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (f < 0 || f >= NFEEDS)
			die("a completion for user_data %d", f);
		if (res == 1) {
			if (got[f].seq != next_seq[f]++ ||
			    strcmp(got[f].text, script[n].text) || script[n].feed != f)
				die("%s: unexpected item #%d \"%.28s\"", feed_name[f],
				    got[f].seq, got[f].text);
			n++;
			say("  cqe %-7s res 1  #%d \"%s\"", feed_name[f], got[f].seq,
			    got[f].text);
			gochan_prep_recv(io_uring_get_sqe(&ring), feeds[f], &x, &got[f], f);
			if (io_uring_submit(&ring) != 1)
				die("io_uring_submit");
		} else if (res == 0) {
			if (n != NSCRIPT || closed[f])
				die("%s closed early", feed_name[f]);
			closed[f] = true;
			open--;
		} else {
			die("%s: completion res %d (%s)", feed_name[f], res,
			    strerror(-res));
		}
	}
	reap(pid);
	/* The three closes come close together: their completions may come
	 * in any order, so they are printed in the feeds' order. */
	for (int f = 0; f < NFEEDS; f++)
		say("  cqe %-7s res 0  closed and drained: not queued again",
		    feed_name[f]);

	/* A queued receive nobody will answer is cancelled by its key. */
	spare = make("spare", sizeof(struct item), 0);
	gochan_prep_recv(io_uring_get_sqe(&ring), spare, &x, &spare_item, 99);
	if (io_uring_submit(&ring) != 1)
		die("io_uring_submit");
	expect_stat(spare, "spare", 0, 0, 1, true);
	err = gochan_cancel(spare, 99, false);
	if (err != 1)
		die("gochan_cancel: %d", err);
	err = io_uring_wait_cqe(&ring, &cqe);
	if (err)
		die("io_uring_wait_cqe: %s", strerror(-err));
	if (cqe->user_data != 99 || cqe->res != -ECANCELED)
		die("cancel: completion %llu res %d",
		    (unsigned long long)cqe->user_data, cqe->res);
	say("A receive queued on a 4th channel, then gochan_cancel(key 99):");
	say("  cqe %-7s res %s  (io_uring's own ASYNC_CANCEL cannot reach it on 6.1)",
	    "spare", cqe_res(cqe->res));
	io_uring_cqe_seen(&ring, cqe);
	expect_stat(spare, "spare", 0, 0, 0, false);
	io_uring_queue_exit(&ring);
	stat_header();
	for (int f = 0; f < NFEEDS; f++)
		stat_row(feed_name[f], feeds[f], "");
	stat_row("spare", spare, "");
}

/* ------------------------------------------------------------------ */
/* 10. Every channel of the demo                                       */

static void section_summary(void)
{
	headline("10. Every channel of the demo, as the kernel sees them now");
	stat_header();
	stat_row("greet", greet, "");
	stat_row("jobs", jobs, "");
	stat_row("requests", requests, "");
	stat_row("replies", replies, "");
	for (int i = 0; i < NSENSORS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "sensor-%c", 'a' + i);
		stat_row(name, sensors[i], "");
	}
	stat_row("orders", orders, "");
	stat_row("alerts", alerts, "");
	stat_row("idle", idle, "");
	stat_row("quit", quit, "");
	stat_row("queue", queue, "");
	stat_row("by-name", named_orders, "demo-orders, unlinked");
	for (int f = 0; f < NFEEDS; f++)
		stat_row(feed_name[f], feeds[f], "");
	stat_row("spare", spare, "");
	stat_row("log", report_fd, "the children's reports");
	show_fdinfo("queue", queue);
}

int main(int argc, char **argv)
{
	struct stat st;

	if (argc == 3 && strcmp(argv[1], "--scm-child") == 0)
		return scm_child(atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "--named-sender") == 0)
		return named_sender(argv[2]);
	if (argc != 1) {
		fprintf(stderr, "usage: gochan-demo\n"
			"Shows Go-style channels shared between processes through %s.\n",
			GOCHAN_DEVICE_PATH);
		return 2;
	}
	if (stat(GOCHAN_DEVICE_PATH, &st)) {
		fprintf(stderr, "gochan-demo: %s: %s: load the module first (insmod gochan.ko)\n",
			GOCHAN_DEVICE_PATH, strerror(errno));
		return 1;
	}

	watchdog(180);
	printf("gochan-demo: Go-style channels between processes, through %s\n",
	       GOCHAN_DEVICE_PATH);
	reports_init();
	section_make();
	section_rendezvous();
	section_buffered();
	section_scm();
	section_epoll();
	section_select();
	section_close();
	section_named();
	section_uring();
	section_summary();
	reap_all();
	printf("\nEvery step behaved as Go's channels do.\n");
	return 0;
}
