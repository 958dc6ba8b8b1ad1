// SPDX-License-Identifier: GPL-2.0
/*
 * Description: channels across processes: an fd keeps working after fork(),
 * dup() and SCM_RIGHTS (and outlives the creator's fd); fdinfo shows the
 * struct gochan_stat fields with the right values; creator_pid is the
 * creator's tgid as seen from the caller's pid namespace.
 */
#include "helpers.h"

#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <sys/socket.h>

GC_DEV_FIXTURE(xproc);

static int send_fd(int sock, int fd, uint64_t tag)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &tag, sizeof(tag) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == sizeof(tag) ? 0 : -errno;
}

/* Receive an fd and its tag; returns the fd or -errno. */
static int recv_fd(int sock, uint64_t *tag)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { tag, sizeof(*tag) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != sizeof(*tag))
		return -EIO;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

TEST_F(xproc, fd_works_after_fork)
{
	int fd = gc_make(self->dev, 8, 0);
	uint64_t id = 0, v = 0;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gc_stat(fd, &(struct gochan_stat){ 0 }));
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct gochan_stat st;

		/* The child's inherited fd is the same channel: same id,
		 * created by the parent. */
		if (gc_stat(fd, &st) || st.creator_pid != getppid())
			_exit(1);
		if (gc_send_u64(fd, st.id, 0))
			_exit(2);
		if (gc_recv_u64(fd, &v, 0) || v != 0x1234)
			_exit(3);
		_exit(0);
	}
	/* Values go both ways between parent and child. */
	ASSERT_EQ(0, gc_recv_u64(fd, &id, 0));
	struct gochan_stat st;

	ASSERT_EQ(0, gc_stat(fd, &st));
	EXPECT_EQ(st.id, id);
	ASSERT_EQ(0, gc_send_u64(fd, 0x1234, 0));
	EXPECT_EQ(0, gc_reap(pid));
	close(fd);
}

TEST_F(xproc, fd_works_after_scm_rights)
{
	int sv[2], fd;
	uint64_t id, v = 0;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	/* The child is forked before the channel exists: it can only get it
	 * over the socket. */
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct gochan_stat st;
		uint64_t tag;
		int cfd;

		close(sv[0]);
		cfd = recv_fd(sv[1], &tag);
		if (cfd < 0)
			_exit(1);
		if (gc_stat(cfd, &st) || st.id != tag)
			_exit(2);
		/* The creator closed its fd: a buffered element is still
		 * there for us. */
		if (gc_recv_u64(cfd, &v, 0) || v != 0x55)
			_exit(3);
		/* Rendezvous with the parent over the passed fd's twin. */
		cfd = recv_fd(sv[1], &tag);
		if (cfd < 0)
			_exit(4);
		if (gc_send_u64(cfd, tag + 1, 0))
			_exit(5);
		_exit(0);
	}
	close(sv[1]);
	fd = gc_make_id(self->dev, 8, 1, GOCHAN_CREATE_CLOEXEC, &id);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gc_send_u64(fd, 0x55, 0));
	ASSERT_EQ(0, send_fd(sv[0], fd, id));
	/* The passed file keeps the channel alive after our close(2). */
	close(fd);

	fd = gc_make_id(self->dev, 8, 0, GOCHAN_CREATE_CLOEXEC, &id);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_fd(sv[0], fd, 99));
	/* The receiving process sends on the passed fd; we get it here. */
	ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
	EXPECT_EQ(100, v);
	EXPECT_EQ(0, gc_reap(pid));
	close(fd);
	close(sv[0]);
}

TEST_F(xproc, dup_shares_the_channel)
{
	int fd = gc_make(self->dev, 8, 2), fd2;
	struct gochan_stat a, b;
	uint64_t v;

	ASSERT_LE(0, fd);
	fd2 = dup(fd);
	ASSERT_LE(0, fd2);
	/* A dup()ed fd is the same channel: what goes in one comes out of
	 * the other, and both report the same id and counters. */
	ASSERT_EQ(0, gc_send_u64(fd, 8, 0));
	ASSERT_EQ(0, gc_recv_u64(fd2, &v, 0));
	EXPECT_EQ(8, v);
	ASSERT_EQ(0, gc_stat(fd, &a));
	ASSERT_EQ(0, gc_stat(fd2, &b));
	EXPECT_EQ(a.id, b.id);
	EXPECT_EQ(1, b.sent);
	EXPECT_EQ(1, b.received);
	close(fd);
	close(fd2);
}

/* A parsed fdinfo: each field as a number, -1 if absent. */
struct fdinfo {
	long long id, elem_size, capacity, len, closed, send_waiters,
		  recv_waiters, sent, received, creator_pid;
	int seen[10];	/* times each name appeared */
	int bad;	/* gochan- lines not of the form "name:\t<decimal>" */
};

/* The names the header spells out, in struct gochan_stat's order. */
static const struct {
	const char *name;
	size_t off;
} fdinfo_fields[] = {
#define F(s, n) { s, offsetof(struct fdinfo, n) }
	F("gochan-id", id), F("gochan-elem-size", elem_size),
	F("gochan-capacity", capacity), F("gochan-len", len),
	F("gochan-closed", closed), F("gochan-send-waiters", send_waiters),
	F("gochan-recv-waiters", recv_waiters), F("gochan-sent", sent),
	F("gochan-received", received), F("gochan-creator-pid", creator_pid),
#undef F
};

/* Parse the exact "gochan-<name>:\t<value>" lines of an fd's fdinfo. */
static int parse_fdinfo(pid_t pid, int fd, struct fdinfo *fi)
{
	char path[64], line[256];
	FILE *f;

	memset(fi, 0xff, sizeof(*fi));
	memset(fi->seen, 0, sizeof(fi->seen));
	fi->bad = 0;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *end;
		long long val;

		if (strncmp(line, "gochan-", 7))
			continue;
		if (!colon || colon[1] != '\t') {
			fi->bad++;
			continue;
		}
		*colon = '\0';
		errno = 0;
		val = strtoll(colon + 2, &end, 10);
		if (errno || end == colon + 2 || *end != '\n') {
			fi->bad++;
			continue;
		}
		for (size_t i = 0; i < ARRAY_SIZE(fdinfo_fields); i++) {
			if (strcmp(line, fdinfo_fields[i].name))
				continue;
			*(long long *)((char *)fi + fdinfo_fields[i].off) = val;
			fi->seen[i]++;
		}
	}
	fclose(f);
	return 0;
}

/* Every name the header lists appeared exactly once, each well formed. */
static bool fdinfo_complete(const struct fdinfo *fi)
{
	for (size_t i = 0; i < ARRAY_SIZE(fdinfo_fields); i++)
		if (fi->seen[i] != 1)
			return false;
	return fi->bad == 0;
}

TEST_F(xproc, fdinfo_shows_stat_fields)
{
	struct fdinfo fi;
	uint64_t id, v;
	int fd = gc_make_id(self->dev, 8, 4, 0, &id);

	ASSERT_LE(0, fd);
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, gc_send_u64(fd, i, 0));
	}
	ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
	ASSERT_EQ(0, parse_fdinfo(getpid(), fd, &fi));
	/* Every field is there once, under the header's exact name
	 * ("gochan-elem-size:\t<n>"...), in decimal... */
	for (size_t i = 0; i < ARRAY_SIZE(fdinfo_fields); i++) {
		EXPECT_EQ(1, fi.seen[i]) TH_LOG("%s", fdinfo_fields[i].name);
	}
	EXPECT_EQ(0, fi.bad);
	/* ...with its value. */
	EXPECT_EQ((long long)id, fi.id);
	EXPECT_EQ(8, fi.elem_size);
	EXPECT_EQ(4, fi.capacity);
	EXPECT_EQ(2, fi.len);
	EXPECT_EQ(0, fi.closed);
	EXPECT_EQ(0, fi.send_waiters);
	EXPECT_EQ(0, fi.recv_waiters);
	EXPECT_EQ(3, fi.sent);
	EXPECT_EQ(1, fi.received);
	EXPECT_EQ(getpid(), fi.creator_pid);
	/* A close shows. */
	ASSERT_EQ(0, gc_close_chan(fd));
	ASSERT_EQ(0, parse_fdinfo(getpid(), fd, &fi));
	EXPECT_TRUE(fdinfo_complete(&fi));
	EXPECT_EQ(1, fi.closed);
	EXPECT_EQ(2, fi.len);
	close(fd);
}

TEST_F(xproc, fdinfo_counts_waiters)
{
	struct gc_op *ops = gc_ops(3);
	int fd = gc_make(self->dev, 8, 0);
	struct fdinfo fi;
	pid_t pids[3];
	uint64_t v;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, ops);
	for (int i = 0; i < 2; i++) {
		ops[i].fd = fd;
		ops[i].kind = GC_OP_RECV;
		pids[i] = gc_spawn_op(&ops[i]);
		ASSERT_LT(0, pids[i]);
	}
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 2));
	/* Two blocked receivers show as recv waiters... */
	ASSERT_EQ(0, parse_fdinfo(getpid(), fd, &fi));
	EXPECT_EQ(0, fi.send_waiters);
	EXPECT_EQ(2, fi.recv_waiters);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, gc_send_u64(fd, i, 0));
	}
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, gc_reap(pids[i]));
	}
	/* ...a blocked sender as a send waiter. */
	ops[2].fd = fd;
	ops[2].kind = GC_OP_SEND;
	pids[2] = gc_spawn_op(&ops[2]);
	ASSERT_LT(0, pids[2]);
	ASSERT_EQ(0, gc_wait_waiters(fd, 1, 0));
	ASSERT_EQ(0, parse_fdinfo(getpid(), fd, &fi));
	EXPECT_EQ(1, fi.send_waiters);
	EXPECT_EQ(0, fi.recv_waiters);
	EXPECT_EQ(2, fi.sent);
	EXPECT_EQ(0, fi.len);
	ASSERT_EQ(0, gc_recv_u64(fd, &v, 0));
	ASSERT_EQ(0, gc_reap(pids[2]));
	close(fd);
}

TEST_F(xproc, fdinfo_in_child_names_the_creator)
{
	int fd = gc_make(self->dev, 8, 1);
	pid_t parent = getpid(), pid;

	ASSERT_LE(0, fd);
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct fdinfo fi;

		/* The inheriting process sees the creator's pid, not its
		 * own. */
		if (parse_fdinfo(getpid(), fd, &fi))
			_exit(1);
		_exit(fi.creator_pid == parent ? 0 : 2);
	}
	EXPECT_EQ(0, gc_reap(pid));
	close(fd);
}

static void *make_in_thread(void *arg)
{
	int *fds = arg;

	fds[1] = gc_make(fds[0], 8, 1);
	return NULL;
}

TEST_F(xproc, creator_pid_is_the_tgid)
{
	int fds[2] = { self->dev, -1 };
	struct gochan_stat st;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, make_in_thread, fds));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_LE(0, fds[1]);
	/* A channel made by a second thread is the process's (tgid), not
	 * the thread's id. */
	ASSERT_EQ(0, gc_stat(fds[1], &st));
	EXPECT_EQ(getpid(), st.creator_pid);
	close(fds[1]);
}

TEST_F(xproc, creator_pid_is_zero_outside_its_pid_namespace)
{
	int fd = gc_make(self->dev, 8, 1);
	pid_t pid;

	ASSERT_LE(0, fd);
	if (unshare(CLONE_NEWPID))
		SKIP(return, "unshare(CLONE_NEWPID): %s", strerror(errno));
	/* Plain fork(): gc_fork()'s parent check cannot see our pid from
	 * inside the new namespace. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct gochan_stat st;

		/* We are pid 1 of a new namespace; the creator is not
		 * visible here, so creator_pid is 0. */
		if (getpid() != 1 || gc_stat(fd, &st))
			_exit(1);
		_exit(st.creator_pid == 0 ? 0 : 2);
	}
	EXPECT_EQ(0, gc_reap(pid));
	close(fd);
}

TEST_HARNESS_MAIN
