// SPDX-License-Identifier: GPL-2.0
/*
 * Description: gochan_make() and gochan_make_id(): the fd they return, the
 * flags, the id, and the errors for bad arguments or a missing device.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>

#include "helpers.h"

TEST(make_returns_a_channel_fd_with_the_asked_shape)
{
	struct gochan_stat st;
	int fd;

	REQUIRE_GOCHAN();
	fd = gochan_make(24, 5, 0);
	/* A valid make returns an fd, not an error. */
	ASSERT_LE(0, fd);
	/* The fd is a channel: stat works on it. */
	ASSERT_EQ(0, gochan_stat(fd, &st));
	/* The kernel made what was asked, empty and open. */
	EXPECT_EQ(24, st.elem_size);
	EXPECT_EQ(5, st.capacity);
	EXPECT_EQ(0, st.len);
	EXPECT_EQ(0, st.flags & GOCHAN_STAT_CLOSED);
	close(fd);
}

TEST(make_leaves_no_device_fd_open)
{
	int before, fd;

	REQUIRE_GOCHAN();
	before = lowest_free_fd();
	fd = gochan_make(8, 1, 0);
	ASSERT_LE(0, fd);
	/* The library closed the /dev/gochan fd it opened: the lowest free fd
	 * number is what it was (the channel took the next one). */
	EXPECT_EQ(before, lowest_free_fd());
	close(fd);
}

TEST(make_id_matches_stat_and_ids_differ)
{
	struct gochan_stat st;
	uint64_t id1 = 0, id2 = 0;
	int fd1, fd2;

	REQUIRE_GOCHAN();
	fd1 = gochan_make_id(8, 1, 0, &id1);
	ASSERT_LE(0, fd1);
	fd2 = gochan_make_id(8, 1, 0, &id2);
	ASSERT_LE(0, fd2);
	/* The id the make returned is the one stat reports. */
	ASSERT_EQ(0, gochan_stat(fd1, &st));
	EXPECT_EQ(id1, st.id);
	/* Two channels never share an id. */
	EXPECT_NE(id1, id2);
	/* A NULL id pointer is allowed. */
	int fd3 = gochan_make_id(8, 1, 0, NULL);
	EXPECT_LE(0, fd3);
	close(fd1);
	close(fd2);
	close(fd3);
}

TEST(make_flags_set_cloexec_and_nonblock)
{
	int plain, cloexec, nonblock;

	REQUIRE_GOCHAN();
	plain = gochan_make(4, 1, 0);
	cloexec = gochan_make(4, 1, GOCHAN_CREATE_CLOEXEC);
	nonblock = gochan_make(4, 1, GOCHAN_CREATE_NONBLOCK);
	ASSERT_LE(0, plain);
	ASSERT_LE(0, cloexec);
	ASSERT_LE(0, nonblock);
	/* Without flags the fd is inherited over exec and blocks. */
	EXPECT_EQ(0, fcntl(plain, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, fcntl(plain, F_GETFL) & O_NONBLOCK);
	/* GOCHAN_CREATE_CLOEXEC sets FD_CLOEXEC. */
	EXPECT_EQ(FD_CLOEXEC, fcntl(cloexec, F_GETFD) & FD_CLOEXEC);
	/* GOCHAN_CREATE_NONBLOCK sets O_NONBLOCK on the file. */
	EXPECT_EQ(O_NONBLOCK, fcntl(nonblock, F_GETFL) & O_NONBLOCK);
	close(plain);
	close(cloexec);
	close(nonblock);
}

TEST(make_signal_channel_of_element_size_zero)
{
	struct gochan_stat st;
	int fd;

	REQUIRE_GOCHAN();
	/* Element size 0 is a valid channel, buffered or not. */
	fd = gochan_make(0, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gochan_stat(fd, &st));
	EXPECT_EQ(0, st.elem_size);
	close(fd);
	fd = gochan_make(0, 16, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gochan_stat(fd, &st));
	EXPECT_EQ(16, st.capacity);
	close(fd);
}

TEST(make_rejects_bad_arguments_with_einval)
{
	int before;

	REQUIRE_GOCHAN();
	before = lowest_free_fd();
	errno = ERRNO_CANARY;
	/* An unknown flag bit is EINVAL. */
	EXPECT_EQ(-EINVAL, gochan_make(8, 1, 1u << 31));
	EXPECT_EQ(-EINVAL, gochan_make(8, 1, ~GOCHAN_CREATE_FLAGS));
	/* An element larger than the ABI's maximum is EINVAL. */
	EXPECT_EQ(-EINVAL, gochan_make(GOCHAN_ELEM_SIZE_MAX + 1, 1, 0));
	/* A size that does not fit the uapi's 32 bits is EINVAL, not a
	 * truncated small size (4 GiB + 8 would truncate to 8). */
	EXPECT_EQ(-EINVAL, gochan_make((size_t)UINT32_MAX + 9, 1, 0));
	/* A ring of 4 GiB slots of 64 KiB, or of 4 Gi signal slots, exceeds any
	 * max_chan_bytes: EINVAL. */
	EXPECT_EQ(-EINVAL, gochan_make(GOCHAN_ELEM_SIZE_MAX, UINT32_MAX, 0));
	EXPECT_EQ(-EINVAL, gochan_make(0, UINT32_MAX, 0));
	/* None of those failures set errno. */
	EXPECT_EQ(ERRNO_CANARY, errno);
	/* The failures leaked no fd: the lowest free number is unchanged. */
	EXPECT_EQ(before, lowest_free_fd());
}

TEST(make_without_device_gives_enoent)
{
	int fd;

	/*
	 * Hide the device, if present, behind an empty /dev in a private
	 * mount namespace, so this runs with and without the module.
	 */
	if (access(GOCHAN_DEVICE_PATH, F_OK) == 0) {
		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("none", "/dev", "tmpfs", 0, NULL))
			SKIP(return, "cannot hide %s: %s", GOCHAN_DEVICE_PATH,
			     strerror(errno));
	}
	errno = ERRNO_CANARY;
	fd = gochan_make(8, 1, 0);
	/* No device node: the open's ENOENT comes back as the result. */
	EXPECT_EQ(-ENOENT, fd);
	/* And errno is not touched. */
	EXPECT_EQ(ERRNO_CANARY, errno);
}

TEST_HARNESS_MAIN
