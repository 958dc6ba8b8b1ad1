// SPDX-License-Identifier: GPL-2.0
/*
 * Description: every call on something that is not a channel fd fails with
 * the documented -errno (EBADF, ENOTTY), bad element pointers fail with
 * EFAULT without taking or giving an element, and no error path touches
 * errno.  The tests on non-channel fds need no module and run anywhere.
 */
#include <fcntl.h>
#include <sys/mman.h>

#include "helpers.h"

/*
 * Every call that takes a channel fd, on @fd, must return @err and leave
 * errno alone.
 */
static void expect_all_fail(struct __test_metadata *_metadata, int fd, int err)
{
	struct gochan_stat st;
	uint64_t v = 0;
	bool ok = true;
	int64_t later = gochan_now_ns() + 1000 * MSEC;

	errno = ERRNO_CANARY;
	EXPECT_EQ(err, gochan_send(fd, &v, GOCHAN_NO_DEADLINE));
	EXPECT_EQ(err, gochan_recv(fd, &v, &ok, GOCHAN_NO_DEADLINE));
	EXPECT_EQ(err, gochan_try_send(fd, &v));
	EXPECT_EQ(err, gochan_try_recv(fd, &v, &ok));
	EXPECT_EQ(err, gochan_send(fd, &v, later));
	EXPECT_EQ(err, gochan_recv(fd, &v, &ok, later));
	EXPECT_EQ(err, gochan_close(fd));
	EXPECT_EQ(err, gochan_stat(fd, &st));
	/* None of the failures wrote ok or errno. */
	EXPECT_TRUE(ok);
	EXPECT_EQ(ERRNO_CANARY, errno);
}

TEST(negative_fd_gives_ebadf)
{
	/* -1 is never an fd: EBADF from every call. */
	expect_all_fail(_metadata, -1, -EBADF);
}

TEST(closed_fd_gives_ebadf)
{
	int fd = dup(0);

	ASSERT_LE(0, fd);
	close(fd);
	/* A number that was an fd but is closed now: EBADF. */
	expect_all_fail(_metadata, fd, -EBADF);
}

TEST(pipe_gives_enotty)
{
	int p[2];

	ASSERT_EQ(0, pipe(p));
	/* A pipe is an open fd but not a channel: ENOTTY. */
	expect_all_fail(_metadata, p[0], -ENOTTY);
	expect_all_fail(_metadata, p[1], -ENOTTY);
	close(p[0]);
	close(p[1]);
}

TEST(regular_file_gives_enotty)
{
	int fd = open("/proc/self/status", O_RDONLY);

	ASSERT_LE(0, fd);
	/* Nor is a regular file a channel. */
	expect_all_fail(_metadata, fd, -ENOTTY);
	close(fd);
}

TEST(device_fd_is_not_a_channel)
{
	int fd;

	REQUIRE_GOCHAN();
	fd = open(GOCHAN_DEVICE_PATH, O_RDWR);
	ASSERT_LE(0, fd);
	/* /dev/gochan itself only makes channels; channel calls on it fail
	 * like on any other non-channel file. */
	expect_all_fail(_metadata, fd, -ENOTTY);
	close(fd);
}

/* A page that is mapped but not accessible: a guaranteed bad pointer. */
static void *bad_page(void)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

TEST(bad_send_buffer_gives_efault_and_sends_nothing)
{
	struct gochan_stat st;
	void *bad = bad_page();
	int fd;

	REQUIRE_GOCHAN();
	ASSERT_NE(NULL, bad);
	fd = gochan_make(8, 2, 0);
	ASSERT_LE(0, fd);
	errno = ERRNO_CANARY;
	/* Unreadable element: EFAULT, from the blocking and try forms ... */
	EXPECT_EQ(-EFAULT, gochan_send(fd, bad, GOCHAN_NO_DEADLINE));
	EXPECT_EQ(-EFAULT, gochan_try_send(fd, bad));
	EXPECT_EQ(-EFAULT, gochan_send(fd, NULL, GOCHAN_NO_DEADLINE));
	EXPECT_EQ(ERRNO_CANARY, errno);
	ASSERT_EQ(0, gochan_stat(fd, &st));
	/* ... and nothing entered the channel. */
	EXPECT_EQ(0, st.len);
	EXPECT_EQ(0, st.sent);
	close(fd);
	munmap(bad, 4096);
}

TEST(bad_recv_buffer_gives_efault_and_takes_nothing)
{
	struct gochan_stat st;
	void *bad = bad_page();
	uint64_t v = 5;
	bool ok = false;
	int fd;

	REQUIRE_GOCHAN();
	ASSERT_NE(NULL, bad);
	fd = gochan_make(sizeof(v), 2, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gochan_send(fd, &v, GOCHAN_NO_DEADLINE));
	errno = ERRNO_CANARY;
	/* Unwritable destination: EFAULT ... */
	EXPECT_EQ(-EFAULT, gochan_recv(fd, bad, &ok, GOCHAN_NO_DEADLINE));
	EXPECT_EQ(-EFAULT, gochan_try_recv(fd, NULL, &ok));
	/* ... with ok and errno unwritten ... */
	EXPECT_FALSE(ok);
	EXPECT_EQ(ERRNO_CANARY, errno);
	ASSERT_EQ(0, gochan_stat(fd, &st));
	/* ... and the element still in the ring ... */
	EXPECT_EQ(1, st.len);
	EXPECT_EQ(0, st.received);
	v = 0;
	/* ... for the next good receive. */
	EXPECT_EQ(0, gochan_recv(fd, &v, &ok, GOCHAN_NO_DEADLINE));
	EXPECT_TRUE(ok);
	EXPECT_EQ(5, v);
	close(fd);
	munmap(bad, 4096);
}

TEST(signal_channel_ignores_buffer_pointers)
{
	void *bad = bad_page();
	bool ok = false;
	int fd;

	REQUIRE_GOCHAN();
	ASSERT_NE(NULL, bad);
	fd = gochan_make(0, 1, 0);
	ASSERT_LE(0, fd);
	/* Element size 0: the buffer is never touched, so even an
	 * inaccessible pointer sends and receives. */
	EXPECT_EQ(0, gochan_send(fd, bad, GOCHAN_NO_DEADLINE));
	EXPECT_EQ(0, gochan_recv(fd, bad, &ok, GOCHAN_NO_DEADLINE));
	EXPECT_TRUE(ok);
	close(fd);
	munmap(bad, 4096);
}

TEST_HARNESS_MAIN
