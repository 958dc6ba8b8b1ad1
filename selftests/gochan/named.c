// SPDX-License-Identifier: GPL-2.0
/*
 * Named channels: GOCHAN_IOC_OPEN / GOCHAN_IOC_UNLINK, System V-style
 * permissions, access modes of the fds, IPC-namespace scoping, and the
 * listing read(2) on /dev/gochan gives.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/epoll.h>
#include <grp.h>

#include "helpers.h"

static int gc_open_name(int dev, const char *name, uint32_t flags,
			uint32_t mode, uint32_t elem_size, uint32_t capacity,
			uint64_t *id)
{
	struct gochan_open op = {
		.size = sizeof(op),
		.flags = flags,
		.name = (uintptr_t)name,
		.mode = mode,
		.elem_size = elem_size,
		.capacity = capacity,
	};
	int fd = gc_err(ioctl(dev, GOCHAN_IOC_OPEN, &op));

	if (fd >= 0 && id)
		*id = op.id;
	return fd;
}

static int gc_unlink_name(int dev, const char *name)
{
	struct gochan_unlink ul = { .size = sizeof(ul), .name = (uintptr_t)name };

	return gc_err(ioctl(dev, GOCHAN_IOC_UNLINK, &ul));
}

#define CREATE_EXCL	(GOCHAN_OPEN_CREATE | GOCHAN_OPEN_EXCL)

/* The listing line for @name, or "" (into @line, @len bytes). */
static void listing_line(const char *name, char *line, size_t len)
{
	char buf[8192], *p;
	int fd = open(GOCHAN_DEVICE_PATH, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	size_t nl = strlen(name);

	line[0] = '\0';
	if (fd >= 0)
		close(fd);
	if (n < 0)
		return;
	buf[n] = '\0';
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, name, nl) && p[nl] == ' ') {
			size_t l = strcspn(p, "\n");

			snprintf(line, len, "%.*s", (int)l, p);
			return;
		}
	}
}

FIXTURE(named) {
	int dev;
	char name[48];
};

FIXTURE_SETUP(named)
{
	if (!gc_have_device())
		GC_SKIP_SETUP("/dev/gochan is absent");
	self->dev = gc_open_dev();
	ASSERT_LE(0, self->dev);
	snprintf(self->name, sizeof(self->name), "selftest-%d", getpid());
}

FIXTURE_TEARDOWN(named)
{
	gc_unlink_name(self->dev, self->name);
	close(self->dev);
}

TEST_F(named, open_by_name_shares_the_channel)
{
	uint64_t id1 = 0, id2 = 0, v = 0;
	int a, b;

	a = gc_open_name(self->dev, self->name, CREATE_EXCL, 0600, 8, 4, &id1);
	ASSERT_LE(0, a);
	b = gc_open_name(self->dev, self->name, 0, 0, 0, 0, &id2);
	ASSERT_LE(0, b);
	/* Both fds are the same channel... */
	EXPECT_EQ(id1, id2);
	/* ...so what one sends, the other receives. */
	ASSERT_EQ(0, gc_send_u64(a, 77, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_recv_u64(b, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(77, v);
	close(a);
	close(b);
}

TEST_F(named, named_channel_outlives_its_fds)
{
	uint64_t v = 0;
	int a = gc_open_name(self->dev, self->name, CREATE_EXCL, 0600, 8, 4, NULL);

	ASSERT_LE(0, a);
	ASSERT_EQ(0, gc_send_u64(a, 5, 0));
	close(a);
	/* No fd is open, yet the name keeps the channel and its element. */
	a = gc_open_name(self->dev, self->name, 0, 0, 0, 0, NULL);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, gc_recv_u64(a, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(5, v);
	close(a);
}

TEST_F(named, create_rules)
{
	int a = gc_open_name(self->dev, self->name, CREATE_EXCL, 0600, 8, 4, NULL);
	int b;

	ASSERT_LE(0, a);
	/* CREATE | EXCL on an existing name: EEXIST. */
	EXPECT_EQ(-EEXIST, gc_open_name(self->dev, self->name, CREATE_EXCL,
					0600, 8, 4, NULL));
	/* CREATE alone opens it, when the sizes match... */
	b = gc_open_name(self->dev, self->name, GOCHAN_OPEN_CREATE, 0600, 8, 4, NULL);
	EXPECT_LE(0, b);
	close(b);
	/* ...and refuses other sizes: EINVAL. */
	EXPECT_EQ(-EINVAL, gc_open_name(self->dev, self->name,
					GOCHAN_OPEN_CREATE, 0600, 16, 4, NULL));
	EXPECT_EQ(-EINVAL, gc_open_name(self->dev, self->name,
					GOCHAN_OPEN_CREATE, 0600, 8, 0, NULL));
	/* Without CREATE, a name that is not there: ENOENT. */
	EXPECT_EQ(-ENOENT, gc_open_name(self->dev, "selftest-no-such-name",
					0, 0, 0, 0, NULL));
	close(a);
}

#define EXPECT_ES	GOCHAN_OPEN_EXPECT_ELEM_SIZE
#define EXPECT_CAP	GOCHAN_OPEN_EXPECT_CAPACITY

TEST_F(named, open_may_state_the_type_it_expects)
{
	char sig[64];
	uint64_t id = 0, id2 = 0;
	int a, b;

	a = gc_open_name(self->dev, self->name, CREATE_EXCL, 0600, 8, 4, &id);
	ASSERT_LE(0, a);
	/* The element size and capacity expected match: it opens, the same
	 * channel. */
	b = gc_open_name(self->dev, self->name, EXPECT_ES | EXPECT_CAP, 0, 8, 4, &id2);
	ASSERT_LE(0, b);
	EXPECT_EQ(id, id2);
	close(b);
	/* Each flag alone checks its own field only. */
	b = gc_open_name(self->dev, self->name, EXPECT_ES, 0, 8, 0, NULL);
	EXPECT_LE(0, b);
	close(b);
	b = gc_open_name(self->dev, self->name, EXPECT_CAP | GOCHAN_OPEN_RECV, 0, 0, 4, NULL);
	EXPECT_LE(0, b);
	close(b);
	/* Another element size or capacity: EPROTOTYPE, not EINVAL. */
	EXPECT_EQ(-EPROTOTYPE, gc_open_name(self->dev, self->name, EXPECT_ES, 0, 16, 0, NULL));
	EXPECT_EQ(-EPROTOTYPE, gc_open_name(self->dev, self->name, EXPECT_CAP, 0, 0, 5, NULL));
	EXPECT_EQ(-EPROTOTYPE, gc_open_name(self->dev, self->name, EXPECT_ES | EXPECT_CAP,
					    0, 8, 2, NULL));
	/* With its flag, 0 is a size to check (a signal channel, an
	 * unbuffered one), not "any". */
	EXPECT_EQ(-EPROTOTYPE, gc_open_name(self->dev, self->name, EXPECT_ES, 0, 0, 0, NULL));
	EXPECT_EQ(-EPROTOTYPE, gc_open_name(self->dev, self->name, EXPECT_CAP, 0, 0, 0, NULL));
	/* Without its flag a nonzero field is still EINVAL: it would be
	 * ignored. */
	EXPECT_EQ(-EINVAL, gc_open_name(self->dev, self->name, EXPECT_ES, 0, 8, 4, NULL));
	EXPECT_EQ(-EINVAL, gc_open_name(self->dev, self->name, EXPECT_CAP, 0, 8, 4, NULL));
	/* With CREATE on the existing name, a flagged field that differs is
	 * EPROTOTYPE; an unflagged one stays CREATE's EINVAL. */
	EXPECT_EQ(-EPROTOTYPE, gc_open_name(self->dev, self->name,
					    GOCHAN_OPEN_CREATE | EXPECT_ES, 0600, 16, 4, NULL));
	EXPECT_EQ(-EINVAL, gc_open_name(self->dev, self->name,
					GOCHAN_OPEN_CREATE | EXPECT_ES, 0600, 8, 2, NULL));
	/* CREATE | EXCL on the existing name is still EEXIST first. */
	EXPECT_EQ(-EEXIST, gc_open_name(self->dev, self->name, CREATE_EXCL | EXPECT_ES,
					0600, 16, 4, NULL));
	/* No such name is ENOENT, whatever is expected. */
	EXPECT_EQ(-ENOENT, gc_open_name(self->dev, "selftest-no-such-name",
					EXPECT_ES, 0, 8, 0, NULL));
	/* A signal channel, expected as one: it opens. */
	snprintf(sig, sizeof(sig), "%s-sig", self->name);
	b = gc_open_name(self->dev, sig, CREATE_EXCL, 0600, 0, 0, NULL);
	ASSERT_LE(0, b);
	close(b);
	b = gc_open_name(self->dev, sig, EXPECT_ES | EXPECT_CAP, 0, 0, 0, NULL);
	EXPECT_LE(0, b);
	close(b);
	EXPECT_EQ(-EPROTOTYPE, gc_open_name(self->dev, sig, EXPECT_ES, 0, 8, 0, NULL));
	EXPECT_EQ(0, gc_unlink_name(self->dev, sig));
	close(a);
}

TEST_F(named, bad_input_is_refused)
{
	char long_name[GOCHAN_NAME_MAX + 1];
	struct gochan_open op = { .size = sizeof(op), .name = (uintptr_t)"x" };

	memset(long_name, 'a', GOCHAN_NAME_MAX);
	long_name[GOCHAN_NAME_MAX] = '\0';
	/* A name of GOCHAN_NAME_MAX bytes leaves no room for its NUL. */
	EXPECT_EQ(-ENAMETOOLONG, gc_open_name(self->dev, long_name, CREATE_EXCL,
					      0600, 8, 0, NULL));
	/* Empty names, spaces and control characters: EINVAL. */
	EXPECT_EQ(-EINVAL, gc_open_name(self->dev, "", CREATE_EXCL, 0600, 8, 0, NULL));
	EXPECT_EQ(-EINVAL, gc_open_name(self->dev, "a b", CREATE_EXCL, 0600, 8, 0, NULL));
	EXPECT_EQ(-EINVAL, gc_open_name(self->dev, "a\tb", CREATE_EXCL, 0600, 8, 0, NULL));
	/* A bad name pointer: EFAULT. */
	EXPECT_EQ(-EFAULT, gc_open_name(self->dev, gc_bad_ptr(), CREATE_EXCL,
					0600, 8, 0, NULL));
	/* Mode bits beyond 0777, EXCL without CREATE, unknown flags: EINVAL. */
	EXPECT_EQ(-EINVAL, gc_open_name(self->dev, self->name, CREATE_EXCL,
					01600, 8, 0, NULL));
	EXPECT_EQ(-EINVAL, gc_open_name(self->dev, self->name, GOCHAN_OPEN_EXCL,
					0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, gc_open_name(self->dev, self->name, 1u << 31,
					0, 0, 0, NULL));
	/* Sizes or mode without CREATE: EINVAL (they would be ignored). */
	EXPECT_EQ(-EINVAL, gc_open_name(self->dev, self->name, 0, 0600, 0, 0, NULL));
	/* Nonzero reserved fields: EINVAL; a short struct: EINVAL. */
	op.reserved0 = 1;
	EXPECT_EQ(-EINVAL, gc_err(ioctl(self->dev, GOCHAN_IOC_OPEN, &op)));
	op.reserved0 = 0;
	op.size = GOCHAN_OPEN_SIZE_VER0 - 8;
	EXPECT_EQ(-EINVAL, gc_err(ioctl(self->dev, GOCHAN_IOC_OPEN, &op)));
	/* The same rules for unlink: no such name is ENOENT. */
	EXPECT_EQ(-ENOENT, gc_unlink_name(self->dev, "selftest-no-such-name"));
	EXPECT_EQ(-EINVAL, gc_unlink_name(self->dev, ""));
	/* Nothing above made a name. */
	EXPECT_EQ(-ENOENT, gc_open_name(self->dev, self->name, 0, 0, 0, 0, NULL));
}

TEST_F(named, access_mode_of_the_fd_is_enforced)
{
	int r, w, both;
	uint64_t v = 1;
	struct gochan_select_case cs = {
		.op = GOCHAN_OP_SEND, .buf = (uintptr_t)&v,
	};
	struct gochan_select sel = {
		.size = sizeof(sel), .flags = GOCHAN_SELECT_NONBLOCK,
		.cases = (uintptr_t)&cs, .ncases = 1, .case_size = sizeof(cs),
	};

	both = gc_open_name(self->dev, self->name, CREATE_EXCL, 0600, 8, 4, NULL);
	ASSERT_LE(0, both);
	r = gc_open_name(self->dev, self->name, GOCHAN_OPEN_RECV, 0, 0, 0, NULL);
	w = gc_open_name(self->dev, self->name, GOCHAN_OPEN_SEND, 0, 0, 0, NULL);
	ASSERT_LE(0, r);
	ASSERT_LE(0, w);
	/* A receive-only fd cannot send, by any path, nor close... */
	EXPECT_EQ(-EBADF, gc_write(r, &v, 8));
	EXPECT_EQ(-EBADF, gc_send_u64(r, 1, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(-EBADF, gc_close_chan(r));
	cs.fd = r;
	EXPECT_EQ(-EBADF, gc_err(ioctl(self->dev, GOCHAN_IOC_SELECT, &sel)));
	/* ...and a send-only fd cannot receive. */
	EXPECT_EQ(-EBADF, gc_read(w, &v, 8));
	EXPECT_EQ(-EBADF, gc_recv_u64(w, &v, GOCHAN_XFER_NONBLOCK));
	/* Each does what it may: w sends, r receives. */
	ASSERT_EQ(0, gc_send_u64(w, 9, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_recv_u64(r, &v, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(9, v);
	/* Stat and poll work on both. */
	{
		struct gochan_stat st;

		EXPECT_EQ(0, gc_stat(r, &st));
		EXPECT_EQ(0, gc_stat(w, &st));
	}
	close(r);
	close(w);
	close(both);
}

/* poll(2) events of an fd, without waiting (0 if none). */
static short poll_events(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

/*
 * poll on a receive-only fd never says a send would not block, nor on a
 * send-only one that a receive would not: the fd can do neither, and an
 * event loop waiting for POLLOUT on a receive-only fd would spin.
 */
TEST_F(named, poll_of_a_one_direction_fd_shows_its_side_only)
{
	int r, w, both;

	both = gc_open_name(self->dev, self->name, CREATE_EXCL, 0600, 8, 1, NULL);
	ASSERT_LE(0, both);
	r = gc_open_name(self->dev, self->name, GOCHAN_OPEN_RECV, 0, 0, 0, NULL);
	w = gc_open_name(self->dev, self->name, GOCHAN_OPEN_SEND, 0, 0, 0, NULL);
	ASSERT_LE(0, r);
	ASSERT_LE(0, w);
	/* Empty, a free slot: only the send side is ready, and only on the
	 * fds that can send. */
	EXPECT_EQ(0, poll_events(r));
	EXPECT_EQ(POLLOUT, poll_events(w));
	EXPECT_EQ(POLLOUT, poll_events(both));
	/* Full: only the receive side, on the fds that can receive. */
	ASSERT_EQ(0, gc_send_u64(w, 1, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(POLLIN, poll_events(r));
	EXPECT_EQ(0, poll_events(w));
	EXPECT_EQ(POLLIN, poll_events(both));
	/* Closed: POLLHUP on every fd, with the events of its direction. */
	ASSERT_EQ(0, gc_close_chan(w));
	EXPECT_EQ(POLLIN | POLLHUP, poll_events(r));
	EXPECT_EQ(POLLOUT | POLLHUP, poll_events(w));
	EXPECT_EQ(POLLIN | POLLOUT | POLLHUP, poll_events(both));
	close(r);
	close(w);
	close(both);
}

/*
 * Another uid, as System V IPC: the owner's bits for the owner, the
 * group's for the group, the others' for the rest; receive needs read,
 * send needs write; unlink only by the owner or creator.
 */
TEST_F(named, permissions_follow_the_mode_as_sysv_ipc)
{
	char other[64];
	int a;
	pid_t pid;

	snprintf(other, sizeof(other), "%s-other", self->name);
	/* Ours (root's): others may receive only. */
	a = gc_open_name(self->dev, self->name, CREATE_EXCL, 0604, 8, 4, NULL);
	ASSERT_LE(0, a);
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd, dev = -1;

		if (gc_become(65534))
			_exit(10);
		dev = gc_open_dev();
		if (dev < 0)
			_exit(11);
		/* Others have read: receive-only opens... */
		fd = gc_open_name(dev, self->name, GOCHAN_OPEN_RECV, 0, 0, 0, NULL);
		if (fd < 0)
			_exit(12);
		close(fd);
		/* ...but not write: sending, or both, is EACCES. */
		if (gc_open_name(dev, self->name, GOCHAN_OPEN_SEND, 0, 0, 0, NULL) != -EACCES)
			_exit(13);
		if (gc_open_name(dev, self->name, 0, 0, 0, 0, NULL) != -EACCES)
			_exit(14);
		/* Not the owner: unlink is EPERM. */
		if (gc_unlink_name(dev, self->name) != -EPERM)
			_exit(15);
		/* A name of its own with mode 0200: the owner may send only. */
		fd = gc_open_name(dev, other, CREATE_EXCL | GOCHAN_OPEN_SEND, 0200, 8, 1, NULL);
		if (fd < 0)
			_exit(16);
		close(fd);
		if (gc_open_name(dev, other, GOCHAN_OPEN_RECV, 0, 0, 0, NULL) != -EACCES)
			_exit(17);
		/* The owner may unlink it. */
		if (gc_unlink_name(dev, other))
			_exit(18);
		_exit(0);
	}
	/* Every check in the other uid held (exit 0; else which one failed). */
	EXPECT_EQ(0, gc_reap(pid));
	/* The other uid's name went with its unlink. */
	EXPECT_EQ(-ENOENT, gc_open_name(self->dev, other, 0, 0, 0, 0, NULL));
	close(a);
}

TEST_F(named, unlink_while_open_keeps_the_fds_working)
{
	uint64_t id1 = 0, id2 = 0, v = 0;
	int a = gc_open_name(self->dev, self->name, CREATE_EXCL, 0600, 8, 4, &id1);
	int b;

	ASSERT_LE(0, a);
	ASSERT_EQ(0, gc_unlink_name(self->dev, self->name));
	/* The name is gone... */
	EXPECT_EQ(-ENOENT, gc_open_name(self->dev, self->name, 0, 0, 0, 0, NULL));
	EXPECT_EQ(-ENOENT, gc_unlink_name(self->dev, self->name));
	/* ...the open fd still works... */
	ASSERT_EQ(0, gc_send_u64(a, 3, 0));
	ASSERT_EQ(0, gc_recv_u64(a, &v, 0));
	EXPECT_EQ(3, v);
	/* ...and the name can be made anew: another channel. */
	b = gc_open_name(self->dev, self->name, CREATE_EXCL, 0600, 8, 4, &id2);
	ASSERT_LE(0, b);
	EXPECT_NE(id1, id2);
	close(a);
	close(b);
}

TEST_F(named, names_are_scoped_to_the_ipc_namespace)
{
	uint64_t id1 = 0;
	char line[256];
	int a = gc_open_name(self->dev, self->name, CREATE_EXCL, 0600, 8, 4, &id1);
	pid_t pid;

	ASSERT_LE(0, a);
	listing_line(self->name, line, sizeof(line));
	/* Our namespace lists it. */
	EXPECT_NE(0, line[0]);
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t id2 = 0;
		int dev, fd;

		if (unshare(CLONE_NEWIPC))
			_exit(10);
		dev = gc_open_dev();
		/* In a new IPC namespace the name does not exist... */
		if (gc_open_name(dev, self->name, 0, 0, 0, 0, NULL) != -ENOENT)
			_exit(11);
		listing_line(self->name, line, sizeof(line));
		if (line[0])
			_exit(12);
		/* ...and can be made there, as another channel. */
		fd = gc_open_name(dev, self->name, CREATE_EXCL, 0600, 8, 4, &id2);
		if (fd < 0 || id2 == id1)
			_exit(13);
		close(fd);
		/* Unlinked, not left for the namespace's death to free. */
		_exit(gc_unlink_name(dev, self->name) ? 14 : 0);
	}
	EXPECT_EQ(0, gc_reap(pid));
	/* Ours is untouched by what happened in the other namespace. */
	{
		uint64_t id = 0;
		int b = gc_open_name(self->dev, self->name, 0, 0, 0, 0, &id);

		EXPECT_LE(0, b);
		EXPECT_EQ(id1, id);
		close(b);
	}
	close(a);
}

/*
 * The names of an IPC namespace go when the namespace does: nobody can
 * reach them any more, so the rings they hold count against
 * max_total_bytes no longer.  A user makes named channels up to the
 * budget in an IPC namespace of its own (unprivileged, through a user
 * namespace, as anyone may; as root if user namespaces are off), and
 * exits, leaving the names; then a ring of that size can be made again.
 */
TEST_F(named, names_of_a_dead_ipc_namespace_are_freed)
{
	unsigned long long old_total = 0;
	int *made = gc_shared(sizeof(int) * 2);
	int fds[16], k, fd;
	pid_t pid;

	ASSERT_NE(NULL, made);
	if (geteuid() != 0 || gc_param("max_total_bytes", &old_total))
		GC_SKIP_SETUP("needs root and max_total_bytes");
	ASSERT_EQ(0, gc_param_write("max_total_bytes", 8 << 20));
	/* Room for k rings of 1 MiB now (fewer than 8 if other rings live). */
	for (k = 0; k < 16; k++) {
		fds[k] = gc_make(self->dev, 65536, 16);
		if (fds[k] < 0)
			break;
	}
	EXPECT_EQ(-ENOSPC, k < 16 ? fds[k] : 0);
	for (int i = 0; i < k; i++)
		close(fds[i]);
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char name[64];
		int dev;

		made[1] = 1;	/* unprivileged */
		if (gc_become(65534) || unshare(CLONE_NEWUSER | CLONE_NEWIPC)) {
			if (gc_become(0) && geteuid() != 0)
				_exit(10);
			made[1] = 0;
			if (unshare(CLONE_NEWIPC))
				_exit(11);
		}
		dev = gc_open_dev();
		if (dev < 0)
			_exit(12);
		for (int i = 0; i < 16; i++) {
			snprintf(name, sizeof(name), "dead-ns-%d-%d", getpid(), i);
			fd = gc_open_name(dev, name, CREATE_EXCL | GOCHAN_OPEN_SEND, 0666,
					  65536, 16, NULL);
			if (fd < 0)
				break;
			made[0]++;
			close(fd);
		}
		/* Exit with the names left: the namespace dies with us. */
		_exit(0);
	}
	EXPECT_EQ(0, gc_reap(pid));
	TH_LOG("%d rings of 1 MiB fit; the %s user made %d names", k,
	       made[1] ? "unprivileged" : "root", made[0]);
	EXPECT_EQ(k, made[0]);
	/* Nobody can reach those names: their rings are freed. */
	fd = gc_make(self->dev, 65536, 16);
	EXPECT_LE(0, fd) TH_LOG("ENOSPC: the dead namespace's names still hold "
				"the budget (%s)", strerror(-fd));
	if (fd >= 0)
		close(fd);
	ASSERT_EQ(0, gc_param_write("max_total_bytes", old_total));
}

TEST_F(named, listing_shows_each_name_with_its_stat)
{
	char line[256], want[256];
	uint64_t id = 0;
	int a = gc_open_name(self->dev, self->name, CREATE_EXCL, 0640, 16, 4, &id);

	ASSERT_LE(0, a);
	ASSERT_EQ(16, gc_write(a, "0123456789abcdef", 16));
	listing_line(self->name, line, sizeof(line));
	/* NAME ID ELEM_SIZE CAPACITY LEN CLOSED MODE UID GID */
	snprintf(want, sizeof(want), "%s %llu 16 4 1 0 640 %u %u", self->name,
		 (unsigned long long)id, geteuid(), getegid());
	EXPECT_STREQ(want, line);
	ASSERT_EQ(0, gc_close_chan(a));
	listing_line(self->name, line, sizeof(line));
	snprintf(want, sizeof(want), "%s %llu 16 4 1 1 640 %u %u", self->name,
		 (unsigned long long)id, geteuid(), getegid());
	EXPECT_STREQ(want, line);
	close(a);
}

TEST_HARNESS_MAIN
