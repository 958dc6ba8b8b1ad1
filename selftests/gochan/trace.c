// SPDX-License-Identifier: GPL-2.0
/*
 * Tracing: the gochan tracepoints in tracefs carry the channel id, sizes,
 * the pid and how long an operation waited; the module's BTF is published
 * in /sys/kernel/btf/gochan for bpftool and CO-RE tools.
 */
#include "helpers.h"

#define TRACEFS		"/sys/kernel/tracing"

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

/* The whole trace buffer as one string (caller frees). */
static char *read_trace(void)
{
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	int fd = open(TRACEFS "/trace", O_RDONLY);
	ssize_t n;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
	close(fd);
	return buf;
}

/* Does some line hold the event name and every one of the fields? */
static bool has_event(const char *trace, const char *event, const char *f1,
		      const char *f2, const char *f3)
{
	const char *line = trace;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *l = strndup(line, len);
		bool hit = strstr(l, event) && (!f1 || strstr(l, f1)) &&
			   (!f2 || strstr(l, f2)) && (!f3 || strstr(l, f3));

		free(l);
		if (hit)
			return true;
		line = end ? end + 1 : NULL;
	}
	return false;
}

/* The wait_ns= field of the first line with @event and @field. */
static long long event_wait_ns(const char *trace, const char *event,
			       const char *field)
{
	const char *p = trace;

	while ((p = strstr(p, event))) {
		const char *eol = strchr(p, '\n');
		const char *f = strstr(p, field);
		const char *w = strstr(p, "wait_ns=");

		if (f && w && (!eol || (f < eol && w < eol)))
			return atoll(w + strlen("wait_ns="));
		p += strlen(event);
	}
	return -1;
}

FIXTURE(trace) {
	int dev;
};

FIXTURE_SETUP(trace)
{
	if (!gc_have_device())
		GC_SKIP_SETUP("/dev/gochan is absent");
	if (access(TRACEFS "/events/gochan/enable", W_OK))
		GC_SKIP_SETUP("no writable tracefs at " TRACEFS);
	self->dev = gc_open_dev();
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, write_file(TRACEFS "/events/gochan/enable", "0"));
	ASSERT_EQ(0, write_file(TRACEFS "/trace", ""));
}

FIXTURE_TEARDOWN(trace)
{
	write_file(TRACEFS "/events/gochan/enable", "0");
	close(self->dev);
}

TEST_F(trace, every_event_carries_id_sizes_pid_and_wait)
{
	uint64_t id, v = 7;
	char want_id[64], want_pid[64], want_child[64];
	struct gochan_select_case cs;
	struct gochan_select sel;
	pid_t pid;
	char *t;
	int fd;

	ASSERT_EQ(0, write_file(TRACEFS "/events/gochan/enable", "1"));
	fd = gc_make_id(self->dev, 8, 0, 0, &id);
	ASSERT_LE(0, fd);

	/* A receiver that blocks, then is woken by our send. */
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t got;

		_exit(gc_recv_u64(fd, &got, 0) == 0 && got == 7 ? 0 : 1);
	}
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	gc_sleep_ms(20);	/* let wait_ns grow past the clock's grain */
	ASSERT_EQ(0, gc_send_u64(fd, v, 0));
	ASSERT_EQ(0, gc_reap(pid));

	/* A select that runs at once, and a close. */
	cs = (struct gochan_select_case) {
		.fd = fd, .op = GOCHAN_OP_RECV, .buf = (uintptr_t)&v,
	};
	sel = (struct gochan_select) {
		.size = sizeof(sel), .flags = GOCHAN_SELECT_NONBLOCK,
		.cases = (uintptr_t)&cs, .ncases = 1,
		.case_size = sizeof(cs),
	};
	ASSERT_EQ(-EAGAIN, gc_err(ioctl(fd, GOCHAN_IOC_SELECT, &sel)));
	ASSERT_EQ(0, gc_close_chan(fd));
	ASSERT_EQ(0, write_file(TRACEFS "/events/gochan/enable", "0"));

	t = read_trace();
	ASSERT_NE(NULL, t);
	snprintf(want_id, sizeof(want_id), "id=%llu ", (unsigned long long)id);
	snprintf(want_pid, sizeof(want_pid), "pid=%d", getpid());
	snprintf(want_child, sizeof(want_child), "pid=%d", pid);

	/* make: the id CREATE returned, its sizes, our pid. */
	EXPECT_TRUE(has_event(t, "gochan_make:", want_id,
			      "elem_size=8 capacity=0", want_pid)) TH_LOG("%s", t);
	/* block and wake: the child's receive slept and our send woke it. */
	EXPECT_TRUE(has_event(t, "gochan_block:", want_id, "op=recv", want_child));
	EXPECT_TRUE(has_event(t, "gochan_wake:", want_id, "op=recv", want_child));
	/* send: one 8-byte element moved, by us, without waiting. */
	EXPECT_TRUE(has_event(t, "gochan_send:", want_id,
			      "elem_size=8 nelem=1 ret=1 wait_ns=0", want_pid));
	/* recv: the child's, which waited. */
	EXPECT_TRUE(has_event(t, "gochan_recv:", want_id, "ret=1", want_child));
	EXPECT_LT(0, event_wait_ns(t, "gochan_recv:", want_child));
	/* select: one case, nothing ready: -EAGAIN (-11). */
	EXPECT_TRUE(has_event(t, "gochan_select:", "ncases=1 ret=-11", want_pid, NULL));
	/* close: ours, successful. */
	EXPECT_TRUE(has_event(t, "gochan_close:", want_id, "ret=0", want_pid));
	free(t);
	close(fd);
}

TEST_F(trace, disabled_events_record_nothing)
{
	int fd = gc_make(self->dev, 8, 1);
	char *t;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gc_send_u64(fd, 1, 0));
	ASSERT_EQ(0, gc_close_chan(fd));
	t = read_trace();
	ASSERT_NE(NULL, t);
	/* Nothing was enabled, so no gochan line may appear. */
	EXPECT_EQ(NULL, strstr(t, "gochan_"));
	free(t);
	close(fd);
}

TEST(module_btf_is_published)
{
	unsigned char magic[2];
	int fd = open("/sys/kernel/btf/gochan", O_RDONLY);

	if (fd < 0 && access("/sys/kernel/btf/vmlinux", R_OK))
		GC_SKIP_SETUP("the kernel publishes no BTF");
	/* The module's BTF is there for bpftool and CO-RE programs... */
	ASSERT_LE(0, fd) TH_LOG("no /sys/kernel/btf/gochan: module built without BTF?");
	/* ...and is BTF: magic 0xeB9F, little-endian. */
	ASSERT_EQ(2, read(fd, magic, 2));
	EXPECT_EQ(0x9f, magic[0]);
	EXPECT_EQ(0xeb, magic[1]);
	close(fd);
}

TEST_HARNESS_MAIN
