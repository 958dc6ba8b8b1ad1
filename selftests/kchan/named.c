// SPDX-License-Identifier: GPL-2.0
/*
 * Description: named channels through the library: gochan_open(),
 * gochan_open_id(), gochan_unlink() and gochan_list(): create, open, EXCL,
 * ENOENT, the fd's access mode (-EBADF), unlink with fds open, the listing
 * parsed into struct gochan_name_info, permissions for another uid, and
 * errno left as it was.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <stdio.h>

#include "helpers.h"

#define CREATE_EXCL	(GOCHAN_OPEN_CREATE | GOCHAN_OPEN_EXCL)

/* What a gochan_list() callback found for one name. */
struct find {
	const char		*name;
	unsigned		seen;	/* lines with this name */
	unsigned		total;	/* lines in all */
	struct gochan_name_info	info;
};

static int find_cb(const struct gochan_name_info *info, void *arg)
{
	struct find *f = arg;

	f->total++;
	if (!strcmp(info->name, f->name)) {
		f->seen++;
		f->info = *info;
	}
	return 0;
}

static int stop_cb(const struct gochan_name_info *info, void *arg)
{
	(void)info;
	++*(int *)arg;
	return 99;
}

/* A callback that clobbers errno: gochan_list must still restore it. */
static int errno_cb(const struct gochan_name_info *info, void *arg)
{
	(void)info;
	/* errno is as the caller left it when the callback runs. */
	*(int *)arg = errno;
	errno = EIO;
	return 0;
}

FIXTURE(named) {
	char name[48];
};

FIXTURE_SETUP(named)
{
	snprintf(self->name, sizeof(self->name), "kchan-test-%d", getpid());
}

FIXTURE_TEARDOWN(named)
{
	if (access(GOCHAN_DEVICE_PATH, F_OK) == 0)
		gochan_unlink(self->name);
}

TEST_F(named, create_then_open_shares_the_channel)
{
	uint64_t id1 = 0, id2 = 0, v = 7, got = 0;
	bool ok = false;
	int a, b;

	REQUIRE_GOCHAN();
	a = gochan_open_id(self->name, CREATE_EXCL, 0600, sizeof(v), 2, &id1);
	ASSERT_LE(0, a);
	/* Opened by name: the same channel, whose id the call gave back. */
	b = gochan_open_id(self->name, 0, 0, 0, 0, &id2);
	ASSERT_LE(0, b);
	EXPECT_EQ(id1, id2);
	ASSERT_EQ(0, gochan_send(a, &v, GOCHAN_NO_DEADLINE));
	ASSERT_EQ(0, gochan_try_recv(b, &got, &ok));
	EXPECT_TRUE(ok);
	EXPECT_EQ(7, got);
	/* A NULL id is allowed. */
	int c = gochan_open(self->name, 0, 0, 0, 0);
	EXPECT_LE(0, c);
	close(a);
	close(b);
	close(c);
}

TEST_F(named, create_rules_excl_and_enoent)
{
	int a, b;

	REQUIRE_GOCHAN();
	/* Without CREATE a name that is not there: -ENOENT. */
	EXPECT_EQ(-ENOENT, gochan_open(self->name, 0, 0, 0, 0));
	a = gochan_open(self->name, CREATE_EXCL, 0600, 8, 4);
	ASSERT_LE(0, a);
	/* CREATE | EXCL on it now: -EEXIST. */
	EXPECT_EQ(-EEXIST, gochan_open(self->name, CREATE_EXCL, 0600, 8, 4));
	/* CREATE alone opens it when the shape matches, not otherwise. */
	b = gochan_open(self->name, GOCHAN_OPEN_CREATE, 0600, 8, 4);
	EXPECT_LE(0, b);
	EXPECT_EQ(-EINVAL, gochan_open(self->name, GOCHAN_OPEN_CREATE, 0600, 16, 4));
	/* Sizes without CREATE, EXCL alone: -EINVAL. */
	EXPECT_EQ(-EINVAL, gochan_open(self->name, 0, 0, 8, 4));
	EXPECT_EQ(-EINVAL, gochan_open(self->name, GOCHAN_OPEN_EXCL, 0, 0, 0));
	close(a);
	close(b);
}

TEST_F(named, bad_names)
{
	char long_name[GOCHAN_NAME_MAX + 1];

	REQUIRE_GOCHAN();
	memset(long_name, 'n', GOCHAN_NAME_MAX);
	long_name[GOCHAN_NAME_MAX] = '\0';
	EXPECT_EQ(-ENAMETOOLONG, gochan_open(long_name, CREATE_EXCL, 0600, 8, 1));
	EXPECT_EQ(-EINVAL, gochan_open("", CREATE_EXCL, 0600, 8, 1));
	EXPECT_EQ(-EINVAL, gochan_open("a b", CREATE_EXCL, 0600, 8, 1));
	/* Mode bits beyond 0777. */
	EXPECT_EQ(-EINVAL, gochan_open(self->name, CREATE_EXCL, 01600, 8, 1));
	/* A size that does not fit the uapi's 32 bits is not wrapped. */
	if (sizeof(size_t) > 4)
		EXPECT_EQ(-EINVAL, gochan_open(self->name, CREATE_EXCL, 0600,
					       (size_t)1 << 32, 1));
	EXPECT_EQ(-ENOENT, gochan_unlink(self->name));
	EXPECT_EQ(-EINVAL, gochan_unlink(""));
	EXPECT_EQ(-ENAMETOOLONG, gochan_unlink(long_name));
}

TEST_F(named, access_mode_of_the_fd)
{
	uint64_t v = 1;
	bool ok;
	int mk, r, w;

	REQUIRE_GOCHAN();
	mk = gochan_open(self->name, CREATE_EXCL, 0600, sizeof(v), 4);
	ASSERT_LE(0, mk);
	r = gochan_open(self->name, GOCHAN_OPEN_RECV, 0, 0, 0);
	ASSERT_LE(0, r);
	w = gochan_open(self->name, GOCHAN_OPEN_SEND, 0, 0, 0);
	ASSERT_LE(0, w);
	/* A receive-only fd may not send or close: -EBADF. */
	EXPECT_EQ(-EBADF, gochan_try_send(r, &v));
	EXPECT_EQ(-EBADF, gochan_close(r));
	/* A send-only fd may not receive. */
	EXPECT_EQ(-EBADF, gochan_try_recv(w, &v, &ok));
	/* Each does what it was opened for. */
	EXPECT_EQ(0, gochan_try_send(w, &v));
	EXPECT_EQ(0, gochan_try_recv(r, &v, &ok));
	EXPECT_TRUE(ok);
	EXPECT_EQ(0, gochan_close(w));
	close(mk);
	close(r);
	close(w);
}

TEST_F(named, permissions_for_another_uid)
{
	pid_t pid;
	int mk, status;

	REQUIRE_GOCHAN();
	if (geteuid() != 0)
		SKIP(return, "needs root to become another uid");
	/* Others may receive (read) but not send (write). */
	mk = gochan_open(self->name, CREATE_EXCL, 0604, 8, 1);
	ASSERT_LE(0, mk);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(10);
		fd = gochan_open(self->name, GOCHAN_OPEN_RECV, 0, 0, 0);
		if (fd < 0)
			_exit(11);
		if (gochan_open(self->name, GOCHAN_OPEN_SEND, 0, 0, 0) != -EACCES)
			_exit(12);
		/* Neither owner nor creator: may not unlink. */
		if (gochan_unlink(self->name) != -EPERM)
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(mk);
}

TEST_F(named, unlink_keeps_open_fds_working)
{
	uint64_t v = 5, got = 0, id1 = 0, id2 = 0;
	bool ok = false;
	int a, b;

	REQUIRE_GOCHAN();
	a = gochan_open_id(self->name, CREATE_EXCL, 0600, sizeof(v), 2, &id1);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, gochan_unlink(self->name));
	/* The name is gone... */
	EXPECT_EQ(-ENOENT, gochan_open(self->name, 0, 0, 0, 0));
	EXPECT_EQ(-ENOENT, gochan_unlink(self->name));
	/* ...the fd is not. */
	EXPECT_EQ(0, gochan_send(a, &v, GOCHAN_NO_DEADLINE));
	EXPECT_EQ(0, gochan_try_recv(a, &got, &ok));
	EXPECT_TRUE(ok);
	EXPECT_EQ(5, got);
	/* The name can be made again, for a new channel. */
	b = gochan_open_id(self->name, CREATE_EXCL, 0600, sizeof(v), 2, &id2);
	ASSERT_LE(0, b);
	EXPECT_NE(id1, id2);
	close(a);
	close(b);
}

TEST_F(named, listing_parses_each_field)
{
	struct find f = { .name = self->name };
	uint64_t id = 0, v = 3;
	int a;

	REQUIRE_GOCHAN();
	a = gochan_open_id(self->name, CREATE_EXCL, 0640, sizeof(v), 5, &id);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, gochan_send(a, &v, GOCHAN_NO_DEADLINE));
	ASSERT_EQ(0, gochan_list(find_cb, &f));
	ASSERT_EQ(1, f.seen);
	EXPECT_EQ(id, f.info.id);
	EXPECT_EQ(sizeof(v), f.info.elem_size);
	EXPECT_EQ(5, f.info.capacity);
	EXPECT_EQ(1, f.info.len);
	EXPECT_FALSE(f.info.closed);
	EXPECT_EQ(0640, f.info.mode);
	EXPECT_EQ(geteuid(), f.info.uid);
	EXPECT_EQ(getegid(), f.info.gid);
	/* Closed shows too. */
	ASSERT_EQ(0, gochan_close(a));
	f.seen = 0;
	ASSERT_EQ(0, gochan_list(find_cb, &f));
	ASSERT_EQ(1, f.seen);
	EXPECT_TRUE(f.info.closed);
	/* Unlinked, the name is not listed, though its fd is open. */
	ASSERT_EQ(0, gochan_unlink(self->name));
	f.seen = 0;
	ASSERT_EQ(0, gochan_list(find_cb, &f));
	EXPECT_EQ(0, f.seen);
	close(a);
}

TEST_F(named, listing_many_names_and_stopping)
{
	struct find f = { .name = self->name };
	char names[200][GOCHAN_NAME_MAX];
	int fds[200], i, calls = 0;

	REQUIRE_GOCHAN();
	/* More lines than one read(2) of the library's buffer holds. */
	for (i = 0; i < 200; i++) {
		/* Long names, so the listing spans several reads. */
		snprintf(names[i], sizeof(names[i]), "%.24s-%03d-%.31s", self->name, i,
			 "padding-padding-padding-padding");
		fds[i] = gochan_open(names[i], CREATE_EXCL, 0600, 0, 0);
		ASSERT_LE(0, fds[i]);
	}
	ASSERT_EQ(0, gochan_list(find_cb, &f));
	EXPECT_LE(200, f.total);
	for (i = 0; i < 200; i++) {
		struct find g = { .name = names[i] };

		if (i % 37)
			continue;
		ASSERT_EQ(0, gochan_list(find_cb, &g));
		EXPECT_EQ(1, g.seen);
	}
	/* A nonzero return from the callback stops the listing, and is what
	 * gochan_list returns. */
	EXPECT_EQ(99, gochan_list(stop_cb, &calls));
	EXPECT_EQ(1, calls);
	for (i = 0; i < 200; i++) {
		EXPECT_EQ(0, gochan_unlink(names[i]));
		close(fds[i]);
	}
}

TEST_F(named, errno_is_preserved)
{
	int a, seen = 0;

	REQUIRE_GOCHAN();
	errno = ERRNO_CANARY;
	a = gochan_open(self->name, CREATE_EXCL, 0600, 8, 1);
	ASSERT_LE(0, a);
	EXPECT_EQ(ERRNO_CANARY, errno);
	EXPECT_EQ(-EEXIST, gochan_open(self->name, CREATE_EXCL, 0600, 8, 1));
	EXPECT_EQ(ERRNO_CANARY, errno);
	EXPECT_EQ(-ENOENT, gochan_open("kchan-test-no-such-name", 0, 0, 0, 0));
	EXPECT_EQ(ERRNO_CANARY, errno);
	/* The callback sees the caller's errno, and what it leaves there does
	 * not come out of gochan_list. */
	EXPECT_EQ(0, gochan_list(errno_cb, &seen));
	EXPECT_EQ(ERRNO_CANARY, seen);
	EXPECT_EQ(ERRNO_CANARY, errno);
	EXPECT_EQ(0, gochan_unlink(self->name));
	EXPECT_EQ(ERRNO_CANARY, errno);
	EXPECT_EQ(-ENOENT, gochan_unlink(self->name));
	EXPECT_EQ(ERRNO_CANARY, errno);
	close(a);
}

TEST_HARNESS_MAIN
