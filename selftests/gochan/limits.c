// SPDX-License-Identifier: GPL-2.0
/*
 * Description: the limits on channel memory, beyond create.c's checks of
 * each module parameter at its default.
 *
 *  - A creator in a memory cgroup with a small memory.max: creating rings
 *    past the limit fails with ENOMEM, the creator is not OOM-killed and
 *    keeps working, and once its channels are closed memory.current is back
 *    where it started.  A failed create gives its max_total_bytes
 *    reservation back.
 *  - In such a cgroup, receives that fault charge nothing: none takes an
 *    element it cannot deliver, so none allocates to give one back (that
 *    allocation could not fail, and was charged past memory.max).
 *  - max_chan_bytes lowered at run time bounds the next creates: ring bytes
 *    (capacity * elem_size, one byte a slot for a signal channel), for
 *    CREATE and for a named OPEN | CREATE alike.
 *  - max_total_bytes bounds named channels too, counts a ring until its
 *    name is unlinked and its last fd closed, and overflowing products
 *    (capacity * elem_size past 32 bits) are refused, never wrapped.
 *
 * Each test that writes a module parameter puts the old value back.
 */
#include "helpers.h"

#define PARAM_DIR	"/sys/module/gochan/parameters/"
#define CG_ROOT		"/sys/fs/cgroup"

GC_DEV_FIXTURE(limits);

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -errno;
	close(fd);
	return ret;
}

/* Set module parameter name to v; its old value in *old.  -errno. */
static int param_set(const char *name, unsigned long long v,
		     unsigned long long *old)
{
	char path[128], buf[32];

	if (old && gc_param(name, old))
		return -ENOENT;
	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	snprintf(buf, sizeof(buf), "%llu", v);
	return write_str(path, buf);
}

static long long cg_read(const char *dir, const char *file)
{
	char path[256], buf[64] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoll(buf) : -1;
}

/* A fresh cgroup with the memory controller, or a reason to skip. */
static const char *cg_make(char *dir, size_t len)
{
	char ctl[256] = "";
	int fd;

	if (geteuid() != 0)
		return "needs root";
	fd = open(CG_ROOT "/cgroup.controllers", O_RDONLY);
	if (fd >= 0) {
		read(fd, ctl, sizeof(ctl) - 1);
		close(fd);
	}
	if (!strstr(ctl, "memory"))
		return "no cgroup2 memory controller at " CG_ROOT;
	if (write_str(CG_ROOT "/cgroup.subtree_control", "+memory"))
		return "cannot enable the memory controller";
	snprintf(dir, len, CG_ROOT "/gochan-limits-%d", getpid());
	if (mkdir(dir, 0755))
		return "cannot make a cgroup";
	return NULL;
}

/* What the child in the small cgroup saw. */
struct memcg_result {
	long long before, full, after;	/* memory.current */
	int made;			/* 1 MiB rings made before the failure */
	int err;			/* the failing create's errno */
	int later;			/* a small channel after the failure */
	int stage;
};

#define RING		(1 << 20)	/* 16 x 64 KiB */
#define LIMIT		(8 << 20)

TEST_F(limits, memcg_limit_gives_enomem_and_nothing_leaks)
{
	struct memcg_result *res = gc_shared(sizeof(*res));
	unsigned long long max_chan = 0;
	char dir[128], path[192], buf[32];
	const char *why;
	int status;
	pid_t pid;

	ASSERT_NE(NULL, res);
	gc_param("max_chan_bytes", &max_chan);
	if (max_chan < RING)
		SKIP(return, "max_chan_bytes %llu below a 1 MiB ring", max_chan);
	why = cg_make(dir, sizeof(dir));
	if (why)
		SKIP(return, "%s", why);
	snprintf(path, sizeof(path), "%s/memory.max", dir);
	snprintf(buf, sizeof(buf), "%d", LIMIT);
	ASSERT_EQ(0, write_str(path, buf));
	snprintf(path, sizeof(path), "%s/memory.swap.max", dir);
	write_str(path, "0");
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fds[64], n = 0;

		if (write_str(path, "0"))
			_exit(1);
		res->stage = 1;
		res->before = cg_read(dir, "memory.current");
		/* 1 MiB rings until the 8 MiB limit refuses one. */
		for (n = 0; n < 64; n++) {
			fds[n] = gc_make(self->dev, 65536, 16);
			if (fds[n] < 0)
				break;
			res->made = n + 1;
		}
		res->made = n;
		res->err = n < 64 ? -fds[n] : 0;
		res->full = cg_read(dir, "memory.current");
		res->stage = 2;
		for (int i = 0; i < n; i++)
			close(fds[i]);
		/* The creator goes on working. */
		res->later = gc_make(self->dev, 8, 16);
		if (res->later >= 0)
			close(res->later);
		res->stage = 3;
		/* Freed rings are uncharged at once; per-cpu stock may hold
		 * a little. */
		res->after = cg_read(dir, "memory.current");
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	rmdir(dir);
	TH_LOG("memory.current %lld before, %lld with %d rings of 1 MiB, %lld "
	       "after closing them; the next create: %s", res->before, res->full,
	       res->made, res->after, strerror(res->err));
	/* The creator was not killed (no memcg OOM kill for a ring)... */
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("the creator died of signal %d at stage %d, "
					      "after %d rings: the memcg OOM killer, not "
					      "ENOMEM", WTERMSIG(status), res->stage,
					      res->made);
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* ...some rings fit, and the one past the limit is ENOMEM... */
	EXPECT_LE(1, res->made);
	EXPECT_GT(LIMIT / RING, res->made);
	EXPECT_EQ(ENOMEM, res->err);
	/* ...the creator can still make a channel... */
	EXPECT_LE(0, res->later);
	/* ...and closing the channels gave the memory back (within 512 KiB:
	 * per-cpu charge stock, slab pages). */
	EXPECT_GT(res->before + (512 << 10), res->after);
}

TEST_F(limits, failed_create_gives_back_its_total_bytes)
{
	unsigned long long old_total;
	struct memcg_result *res = gc_shared(sizeof(*res));
	char dir[128], path[192], buf[32];
	const char *why;
	int fds[4], status;
	pid_t pid;

	ASSERT_NE(NULL, res);
	why = cg_make(dir, sizeof(dir));
	if (why)
		SKIP(return, "%s", why);
	snprintf(path, sizeof(path), "%s/memory.max", dir);
	snprintf(buf, sizeof(buf), "%d", 2 << 20);
	ASSERT_EQ(0, write_str(path, buf));
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	/* Room for four 1 MiB rings in the whole module, not five (the
	 * slack is for rings other tests' named channels may still hold). */
	if (param_set("max_total_bytes", 4 * RING + RING / 2, &old_total)) {
		rmdir(dir);
		SKIP(return, "max_total_bytes not writable");
	}
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (write_str(path, "0"))
			_exit(1);
		/* A 2 MiB cgroup: once a ring or two are made, every
		 * further create fails with ENOMEM. */
		for (int i = 0; i < 20; i++) {
			int fd = gc_make(self->dev, 65536, 16);

			if (fd == -ENOMEM)
				res->made++;
			else if (fd < 0)
				res->err = -fd;
		}
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	rmdir(dir);
	if (!WIFEXITED(status)) {
		param_set("max_total_bytes", old_total, NULL);
		ASSERT_TRUE(WIFEXITED(status)) TH_LOG("the creator died of signal %d: "
						      "the memcg OOM killer, not ENOMEM",
						      WTERMSIG(status));
	}
	EXPECT_LE(1, res->made) TH_LOG("no create failed with ENOMEM in a 2 MiB cgroup");
	EXPECT_EQ(0, res->err) TH_LOG("a create failed with %s", strerror(res->err));
	/* Outside the cgroup, the four rings max_total_bytes allows fit
	 * (EXPECT, not ASSERT, up to the restore below):
	 * the failed creates reserved nothing that stayed. */
	for (int i = 0; i < 4; i++) {
		fds[i] = gc_make(self->dev, 65536, 16);
		EXPECT_LE(0, fds[i]) TH_LOG("ring %d: %s", i, strerror(-fds[i]));
	}
	EXPECT_EQ(-ENOSPC, gc_make(self->dev, 65536, 16));
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	ASSERT_EQ(0, param_set("max_total_bytes", old_total, NULL));
}

/*
 * 160 channels of one 64 KiB element each, made and filled outside the
 * cgroup; a process in an 8 MiB cgroup receives from each into a
 * read-only buffer.  A receive that took the element and gave it back
 * allocated 64 KiB to keep it, in a way that could not fail, charged to
 * the receiver: 10 MiB past the 8 MiB limit, or the memcg OOM killer.
 * Now each receive takes nothing and charges nothing, and every element
 * is still in its ring.
 */
#define NFAULT		160

TEST_F(limits, faulting_receives_charge_nothing)
{
	struct memcg_result *res = gc_shared(sizeof(*res));
	unsigned long long max_elem = 0;
	char dir[128], path[192], buf[32];
	static int fds[NFAULT];
	struct gochan_stat st;
	const char *why;
	char *val;
	int status;
	pid_t pid;

	ASSERT_NE(NULL, res);
	gc_param("max_elem_size", &max_elem);
	if (max_elem < 65536)
		SKIP(return, "max_elem_size %llu below 64 KiB", max_elem);
	val = malloc(65536);
	ASSERT_NE(NULL, val);
	memset(val, 0x5a, 65536);
	for (int i = 0; i < NFAULT; i++) {
		fds[i] = gc_make(self->dev, 65536, 1);
		if (fds[i] == -ENOSPC) {
			/* max_total_bytes or max_user_bytes lowered (by a
			 * test that failed before restoring it) */
			for (int k = 0; k < i; k++)
				close(fds[k]);
			SKIP(return, "room for %d rings of 64 KiB only", i);
		}
		ASSERT_LE(0, fds[i]) TH_LOG("channel %d: %s", i, strerror(-fds[i]));
		ASSERT_EQ(0, gc_send(fds[i], val, GOCHAN_XFER_NONBLOCK));
	}
	why = cg_make(dir, sizeof(dir));
	if (why)
		SKIP(return, "%s", why);
	snprintf(path, sizeof(path), "%s/memory.max", dir);
	snprintf(buf, sizeof(buf), "%d", LIMIT);
	ASSERT_EQ(0, write_str(path, buf));
	snprintf(path, sizeof(path), "%s/memory.swap.max", dir);
	write_str(path, "0");
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *ro = mmap(NULL, 65536, PROT_READ,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (ro == MAP_FAILED || write_str(path, "0"))
			_exit(1);
		res->stage = 1;
		res->before = cg_read(dir, "memory.current");
		for (int i = 0; i < NFAULT; i++) {
			if (gc_recv(fds[i], ro, NULL, GOCHAN_XFER_NONBLOCK) != -EFAULT)
				_exit(4);
			res->made = i + 1;
		}
		res->stage = 2;
		res->full = cg_read(dir, "memory.current");
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	rmdir(dir);
	TH_LOG("memory.current %lld before, %lld after %d faulting receives",
	       res->before, res->full, res->made);
	/* The receiver was not killed, and every receive failed cleanly... */
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("killed by signal %d after %d "
					      "receives: the memcg OOM killer",
					      WTERMSIG(status), res->made);
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* ...nothing was charged for them, let alone past the limit... */
	EXPECT_GT(LIMIT, res->full);
	EXPECT_GT(res->before + (1 << 20), res->full);
	/* ...and every element is still in its ring, len within cap. */
	for (int i = 0; i < NFAULT; i++) {
		ASSERT_EQ(0, gc_stat(fds[i], &st));
		EXPECT_EQ(1, st.len) TH_LOG("channel %d", i);
		EXPECT_EQ(0, st.received);
		EXPECT_EQ(-EAGAIN, gc_send(fds[i], val, GOCHAN_XFER_NONBLOCK));
		close(fds[i]);
	}
	free(val);
}

static int open_named(int dev, const char *name, uint32_t flags,
		      uint32_t elem, uint32_t cap)
{
	struct gochan_open op = {
		.size = sizeof(op),
		.flags = flags | GOCHAN_OPEN_SEND | GOCHAN_OPEN_RECV |
			 GOCHAN_OPEN_CLOEXEC,
		.name = (uintptr_t)name,
		.mode = flags & GOCHAN_OPEN_CREATE ? 0600 : 0,
		.elem_size = elem,
		.capacity = cap,
	};

	return gc_err(ioctl(dev, GOCHAN_IOC_OPEN, &op));
}

static int unlink_named(int dev, const char *name)
{
	struct gochan_unlink ul = { .size = sizeof(ul), .name = (uintptr_t)name };

	return gc_err(ioctl(dev, GOCHAN_IOC_UNLINK, &ul));
}

/* What a user's helper saw: rings made, then the error that stopped it. */
struct user_share {
	int made;
	int err;
	volatile int ready, release;
};

/*
 * One user's rings together are bounded by max_user_bytes, below
 * max_total_bytes, so that one user (any user: /dev/gochan is 0666) cannot
 * take the whole budget from the others.  User A makes 1 MiB rings until
 * refused and keeps them; user B can still make one.
 */
TEST_F(limits, one_user_cannot_take_the_whole_budget)
{
	struct user_share *a = gc_shared(sizeof(*a));
	unsigned long long old_total = 0, old_user = 0;
	bool have_user;
	pid_t pa, pb;
	int status;

	ASSERT_NE(NULL, a);
	if (geteuid() != 0 || param_set("max_total_bytes", 8 * RING, &old_total))
		SKIP(return, "needs root and a writable max_total_bytes");
	have_user = !param_set("max_user_bytes", 2 * RING, &old_user);
	if (!have_user)
		TH_LOG("no max_user_bytes parameter");
	pa = gc_fork();
	ASSERT_LE(0, pa);
	if (pa == 0) {
		int fds[16];

		if (gc_become(65534))
			_exit(1);
		for (a->made = 0; a->made < 16; a->made++) {
			fds[a->made] = gc_make(self->dev, 65536, 16);
			if (fds[a->made] < 0) {
				a->err = -fds[a->made];
				break;
			}
		}
		__atomic_store_n(&a->ready, 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&a->release, __ATOMIC_ACQUIRE))
			usleep(1000);
		_exit(0);
	}
	for (int64_t end = now_ns() + GC_WAIT_MS * 1000000LL;
	     !__atomic_load_n(&a->ready, __ATOMIC_ACQUIRE) && now_ns() < end;)
		usleep(1000);
	pb = gc_fork();
	ASSERT_LE(0, pb);
	if (pb == 0) {
		int fd;

		if (gc_become(65533))
			_exit(1);
		fd = gc_make(self->dev, 65536, 16);
		_exit(fd >= 0 ? 0 : fd == -ENOSPC ? 2 : 3);
	}
	ASSERT_EQ(pb, waitpid(pb, &status, 0));
	__atomic_store_n(&a->release, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(0, gc_reap(pa));
	param_set("max_total_bytes", old_total, NULL);
	if (have_user)
		param_set("max_user_bytes", old_user, NULL);
	TH_LOG("user A made %d rings of 1 MiB, then %s", a->made, strerror(a->err));
	/* A was stopped: by its own bound, before the total's. */
	EXPECT_EQ(ENOSPC, a->err);
	EXPECT_GE(2, a->made);
	/* B was not. */
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("user B got %s",
		WEXITSTATUS(status) == 2 ? "ENOSPC" : "another error");
}

TEST_F(limits, lowered_max_chan_bytes_is_enforced)
{
	unsigned long long old;
	int fd;

	if (param_set("max_chan_bytes", 4096, &old))
		SKIP(return, "max_chan_bytes not writable");
	/* A ring of exactly max_chan_bytes is allowed... */
	fd = gc_make(self->dev, 512, 8);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	/* ...one slot more is not, nor a larger element... */
	EXPECT_EQ(-EINVAL, gc_make(self->dev, 512, 9));
	EXPECT_EQ(-EINVAL, gc_make(self->dev, 513, 8));
	/* ...a signal channel's slots count one byte each... */
	fd = gc_make(self->dev, 0, 4096);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(-EINVAL, gc_make(self->dev, 0, 4097));
	/* ...an unbuffered channel has no ring at all... */
	fd = gc_make(self->dev, 8192, 0);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	/* ...and a named channel made by OPEN is bound the same way. */
	EXPECT_EQ(-EINVAL, open_named(self->dev, "gochan-limits-big",
				      GOCHAN_OPEN_CREATE, 512, 9));
	EXPECT_EQ(-ENOENT, unlink_named(self->dev, "gochan-limits-big"));
	ASSERT_EQ(0, param_set("max_chan_bytes", old, NULL));
}

TEST_F(limits, ring_size_overflow_is_refused)
{
	unsigned long long old;

	/* capacity * elem_size past 32 and 64 bits of a careless product:
	 * refused at any setting of max_chan_bytes. */
	if (param_set("max_chan_bytes", ~0ull >> 1, &old))
		SKIP(return, "max_chan_bytes not writable");
	EXPECT_GT(0, gc_make(self->dev, 65536, 0xffffffffu));
	EXPECT_GT(0, gc_make(self->dev, 65536, 0x10000)) TH_LOG("a 4 GiB ring");
	ASSERT_EQ(0, param_set("max_chan_bytes", old, NULL));
	/* At the default, both are EINVAL (a signal channel has no ring,
	 * but its slots count one byte each against max_chan_bytes). */
	EXPECT_EQ(-EINVAL, gc_make(self->dev, 65536, 0xffffffffu));
	EXPECT_EQ(-EINVAL, gc_make(self->dev, 0, 0xffffffffu));
}

TEST_F(limits, max_total_bytes_counts_named_rings_until_last_close)
{
	const char *name = "gochan-limits-total";
	unsigned long long old;
	int a, b, fd;

	unlink_named(self->dev, name);
	/* Room for two 64 KiB rings, not three (the slack is for rings
	 * other tests' named channels may still hold). */
	if (param_set("max_total_bytes", 2 * 65536 + 32768, &old))
		SKIP(return, "max_total_bytes not writable");
	/* A named ring and an anonymous one fill the budget... */
	a = open_named(self->dev, name, GOCHAN_OPEN_CREATE, 8, 8192);
	ASSERT_LE(0, a);
	fd = gc_make(self->dev, 8, 8192);
	EXPECT_LE(0, fd);
	/* ...so a third ring, named or not, is ENOSPC... */
	EXPECT_EQ(-ENOSPC, open_named(self->dev, "gochan-limits-other",
				      GOCHAN_OPEN_CREATE, 8, 8192));
	EXPECT_EQ(-ENOSPC, gc_make(self->dev, 8, 8192));
	/* ...opening the existing name makes no new ring... */
	b = open_named(self->dev, name, 0, 0, 0);
	EXPECT_LE(0, b);
	/* ...unlinking the name keeps the ring while fds are open... */
	EXPECT_EQ(0, unlink_named(self->dev, name));
	close(a);
	EXPECT_EQ(-ENOSPC, gc_make(self->dev, 8, 8192));
	/* ...and the last close gives its bytes back. */
	if (b >= 0)
		close(b);
	int c = gc_make(self->dev, 8, 8192);

	EXPECT_LE(0, c);
	if (c >= 0)
		close(c);
	if (fd >= 0)
		close(fd);
	ASSERT_EQ(0, param_set("max_total_bytes", old, NULL));
}

TEST_HARNESS_MAIN
