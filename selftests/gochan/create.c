// SPDX-License-Identifier: GPL-2.0
/*
 * Description: GOCHAN_IOC_CREATE.  Every valid element size and capacity
 * makes a working channel that reports itself correctly; every bad input
 * (size field, flags, reserved fields, limits from the module parameters,
 * pointers) gets a clean error and no fd; the creation flags are honoured;
 * ioctls on the wrong kind of fd fail with ENOTTY.
 */
#include "helpers.h"

#include <sys/resource.h>

GC_DEV_FIXTURE(create);

/* A create struct inside a zeroed GC_STRUCT_MAX buffer, for size tests. */
static union {
	struct gochan_create cr;
	unsigned char bytes[2 * GC_STRUCT_MAX];
} big;

static struct gochan_create *big_create(uint32_t size)
{
	memset(&big, 0, sizeof(big));
	big.cr.size = size;
	big.cr.elem_size = 8;
	big.cr.capacity = 1;
	return &big.cr;
}

static unsigned long long param_or(const char *name, unsigned long long dflt)
{
	unsigned long long v = 0;

	return gc_param(name, &v) ? dflt : v;
}

/* Fill the ring of a fresh buffered channel, check it is full, drain it. */
static int fill_and_drain(int fd, uint32_t elem, uint32_t cap)
{
	size_t bytes = (size_t)elem * cap;
	unsigned char *out, *in;
	uint32_t ok;
	int ret = 0;

	if (elem == 0) {
		for (uint32_t i = 0; i < cap; i++)
			if (gc_send(fd, NULL, GOCHAN_XFER_NONBLOCK))
				return 1;
		if (gc_send(fd, NULL, GOCHAN_XFER_NONBLOCK) != -EAGAIN)
			return 2;
		for (uint32_t i = 0; i < cap; i++)
			if (gc_recv(fd, NULL, &ok, GOCHAN_XFER_NONBLOCK) ||
			    ok != 1)
				return 3;
		return gc_recv(fd, NULL, &ok, GOCHAN_XFER_NONBLOCK) == -EAGAIN
			? 0 : 4;
	}
	out = malloc(bytes);
	in = malloc(bytes);
	if (!out || !in)
		return 5;
	for (size_t i = 0; i < bytes; i++)
		out[i] = (unsigned char)(i * 7 + i / 251);
	if (gc_write(fd, out, bytes) != (long)bytes)
		ret = 6;
	else if (gc_send(fd, out, GOCHAN_XFER_NONBLOCK) != -EAGAIN)
		ret = 7;
	else if (gc_read(fd, in, bytes) != (long)bytes)
		ret = 8;
	else if (memcmp(in, out, bytes))
		ret = 9;
	else if (gc_recv(fd, in, &ok, GOCHAN_XFER_NONBLOCK) != -EAGAIN)
		ret = 10;
	free(out);
	free(in);
	return ret;
}

TEST_F(create, accepts_every_valid_elem_size_and_capacity)
{
	static const uint32_t elems[] = {
		0, 1, 2, 3, 7, 8, 16, 255, 4096, 65535, 65536,
	};
	static const uint32_t caps[] = { 0, 1, 2, 7, 64 };
	unsigned long long max_elem = param_or("max_elem_size", 65536);
	unsigned long long max_chan = param_or("max_chan_bytes", 16 << 20);
	int made = 0;

	for (size_t i = 0; i < ARRAY_SIZE(elems); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(caps); j++) {
			uint32_t e = elems[i], c = caps[j];
			struct gochan_stat st;
			uint64_t id = 0;
			int fd;

			if (e > max_elem ||
			    (unsigned long long)(e ? e : 1) * c > max_chan)
				continue;
			/* Every element size 0..max and capacity within
			 * max_chan_bytes makes a channel. */
			fd = gc_make_id(self->dev, e, c, 0, &id);
			ASSERT_LE(0, fd) TH_LOG("elem %u cap %u: %s", e, c,
						strerror(-fd));
			made++;
			/* STAT reports exactly what was asked for, empty,
			 * idle, open, made by us, with the id CREATE gave. */
			ASSERT_EQ(0, gc_stat(fd, &st));
			EXPECT_EQ(id, st.id);
			EXPECT_EQ(e, st.elem_size);
			EXPECT_EQ(c, st.capacity);
			EXPECT_EQ(0, st.len);
			EXPECT_EQ(0, st.flags);
			EXPECT_EQ(0, st.send_waiters);
			EXPECT_EQ(0, st.recv_waiters);
			EXPECT_EQ(0, st.sent);
			EXPECT_EQ(0, st.received);
			EXPECT_EQ(getpid(), st.creator_pid);
			EXPECT_EQ(0, st.reserved0);
			EXPECT_EQ(0, st.reserved1);
			EXPECT_EQ(0, st.reserved[0]);
			EXPECT_EQ(0, st.reserved[1]);
			/* The ring holds exactly capacity elements, byte for
			 * byte; an unbuffered one holds none. */
			EXPECT_EQ(0, fill_and_drain(fd, e, c))
				TH_LOG("elem %u cap %u", e, c);
			close(fd);
		}
	}
	/* The loop is not vacuous. */
	ASSERT_LE(40, made);
}

TEST_F(create, ids_are_unique_and_match_stat)
{
	uint64_t ids[16];
	int fds[16];

	for (int i = 0; i < 16; i++) {
		struct gochan_stat st;

		fds[i] = gc_make_id(self->dev, 8, i, 0, &ids[i]);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, gc_stat(fds[i], &st));
		/* CREATE's id is the one STAT reports. */
		EXPECT_EQ(ids[i], st.id);
		/* No two channels share an id. */
		for (int j = 0; j < i; j++) {
			EXPECT_NE(ids[j], ids[i]);
		}
	}
	for (int i = 0; i < 16; i++)
		close(fds[i]);
}

TEST_F(create, size_below_ver0_is_einval)
{
	static const uint32_t sizes[] = {
		0, 1, 4, 8, GOCHAN_CREATE_SIZE_VER0 - 1,
	};

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		/* A size smaller than the first version's is a bad size
		 * field: EINVAL, no channel. */
		EXPECT_EQ(-EINVAL, gc_create_raw(self->dev,
						 big_create(sizes[i])))
			TH_LOG("size %u", sizes[i]);
	}
}

TEST_F(create, size_above_4096_is_e2big)
{
	static const uint32_t sizes[] = {
		GC_STRUCT_MAX + 1, GC_STRUCT_MAX + 8, 2 * GC_STRUCT_MAX,
		0x7fffffff, 0xffffffff,
	};

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		/* The kernel accepts sizes only up to 4096: a larger size
		 * field is E2BIG, even with a zero tail. */
		EXPECT_EQ(-E2BIG, gc_create_raw(self->dev,
						 big_create(sizes[i])))
			TH_LOG("size %u", sizes[i]);
	}
}

TEST_F(create, larger_struct_with_zero_tail_is_accepted)
{
	static const uint32_t sizes[] = {
		GOCHAN_CREATE_SIZE_VER0 + 1, GOCHAN_CREATE_SIZE_VER0 + 8,
		1024, GC_STRUCT_MAX,
	};

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct gochan_create *cr = big_create(sizes[i]);
		uint64_t v = 42;
		int fd;

		/* A newer caller's larger struct with only zeros past this
		 * version is accepted and makes a working channel. */
		fd = gc_create_raw(self->dev, cr);
		ASSERT_LE(0, fd) TH_LOG("size %u: %s", sizes[i], strerror(-fd));
		EXPECT_NE(0, cr->id);
		EXPECT_EQ(0, gc_send_u64(fd, 7, GOCHAN_XFER_NONBLOCK));
		EXPECT_EQ(0, gc_recv_u64(fd, &v, GOCHAN_XFER_NONBLOCK));
		EXPECT_EQ(7, v);
		/* Output goes back only up to the kernel's own struct size:
		 * the caller's tail stays zero. */
		EXPECT_EQ(-1, gc_first_not(big.bytes, GOCHAN_CREATE_SIZE_VER0,
					   sizes[i], 0));
		close(fd);
	}
}

TEST_F(create, larger_struct_with_nonzero_tail_is_e2big)
{
	static const struct { uint32_t size, byte; } cases[] = {
		{ GOCHAN_CREATE_SIZE_VER0 + 1, GOCHAN_CREATE_SIZE_VER0 },
		{ GOCHAN_CREATE_SIZE_VER0 + 8, GOCHAN_CREATE_SIZE_VER0 + 7 },
		{ 1024, 600 },
		{ GC_STRUCT_MAX, GC_STRUCT_MAX - 1 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct gochan_create *cr = big_create(cases[i].size);

		big.bytes[cases[i].byte] = 1;
		/* A nonzero byte past the part the kernel knows means the
		 * caller wants something this kernel cannot do: E2BIG. */
		EXPECT_EQ(-E2BIG, gc_create_raw(self->dev, cr))
			TH_LOG("size %u byte %u", cases[i].size, cases[i].byte);
	}
	/* A nonzero byte past the caller's size is not part of the struct
	 * and is not looked at. */
	big_create(GOCHAN_CREATE_SIZE_VER0);
	big.bytes[GOCHAN_CREATE_SIZE_VER0] = 1;
	int fd = gc_create_raw(self->dev, &big.cr);

	EXPECT_LE(0, fd);
	close(fd);
}

TEST_F(create, output_written_back_no_further_than_size)
{
	struct gochan_create *cr = big_create(GOCHAN_CREATE_SIZE_VER0);
	int fd;

	/* Bytes past the caller's struct are caller memory, not output. */
	memset(big.bytes + GOCHAN_CREATE_SIZE_VER0, 0xa5,
	       sizeof(big.bytes) - GOCHAN_CREATE_SIZE_VER0);
	fd = gc_create_raw(self->dev, cr);
	ASSERT_LE(0, fd);
	/* The id is written back... */
	EXPECT_NE(0, cr->id);
	/* ...and nothing past size. */
	EXPECT_EQ(-1, gc_first_not(big.bytes, GOCHAN_CREATE_SIZE_VER0,
				   sizeof(big.bytes), 0xa5));
	close(fd);
}

TEST_F(create, unknown_flags_are_einval)
{
	for (int bit = 0; bit < 32; bit++) {
		struct gochan_create cr = {
			.size = sizeof(cr), .elem_size = 8, .capacity = 1,
			.flags = 1u << bit,
		};
		int fd;

		if (cr.flags & GOCHAN_CREATE_FLAGS)
			continue;
		/* Every flag bit this ABI does not define is EINVAL. */
		fd = gc_create_raw(self->dev, &cr);
		EXPECT_EQ(-EINVAL, fd) TH_LOG("flag bit %d", bit);
		if (fd >= 0)
			close(fd);
	}
}

TEST_F(create, nonzero_reserved_is_einval)
{
	for (int i = 0; i < 3; i++) {
		for (int bit = 0; bit < 64; bit += 63) {
			struct gochan_create cr = {
				.size = sizeof(cr), .elem_size = 8,
				.capacity = 1,
			};
			int fd;

			cr.reserved[i] = 1ull << bit;
			/* Any set bit in any reserved field is EINVAL. */
			fd = gc_create_raw(self->dev, &cr);
			EXPECT_EQ(-EINVAL, fd)
				TH_LOG("reserved[%d] bit %d", i, bit);
			if (fd >= 0)
				close(fd);
		}
	}
}

TEST_F(create, elem_size_above_max_is_einval)
{
	unsigned long long max_elem;
	int fd;

	/* The limit is the module parameter the header names. */
	ASSERT_EQ(0, gc_param("max_elem_size", &max_elem));
	ASSERT_GE(GOCHAN_ELEM_SIZE_MAX, max_elem);

	/* elem_size == max_elem_size is allowed (unbuffered: no ring). */
	fd = gc_make(self->dev, max_elem, 0);
	EXPECT_LE(0, fd);
	close(fd);
	/* One more byte is EINVAL, as is anything above the ABI's max. */
	EXPECT_EQ(-EINVAL, gc_make(self->dev, max_elem + 1, 0));
	EXPECT_EQ(-EINVAL, gc_make(self->dev, GOCHAN_ELEM_SIZE_MAX + 1, 0));
	EXPECT_EQ(-EINVAL, gc_make(self->dev, 0x80000000u, 1));
	EXPECT_EQ(-EINVAL, gc_make(self->dev, 0xffffffffu, 1));
}

TEST_F(create, lowered_max_elem_size_is_enforced)
{
	unsigned long long old;
	char buf[32];
	int pfd, fd;

	ASSERT_EQ(0, gc_param("max_elem_size", &old));
	pfd = open("/sys/module/gochan/parameters/max_elem_size", O_WRONLY);
	if (pfd < 0)
		SKIP(return, "max_elem_size not writable here (%s)",
		     strerror(errno));
	ASSERT_EQ(3, write(pfd, "100", 3));
	/* A lowered limit applies to the next create at once. */
	fd = gc_make(self->dev, 101, 1);
	EXPECT_EQ(-EINVAL, fd);
	if (fd >= 0)
		close(fd);
	fd = gc_make(self->dev, 100, 1);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	snprintf(buf, sizeof(buf), "%llu", old);
	ASSERT_EQ((ssize_t)strlen(buf), pwrite(pfd, buf, strlen(buf), 0));
	close(pfd);
}

TEST_F(create, ring_above_max_chan_bytes_is_einval)
{
	unsigned long long max_chan;
	int fd;

	/* The limit is the module parameter the header names. */
	ASSERT_EQ(0, gc_param("max_chan_bytes", &max_chan));
	ASSERT_LT(8, max_chan);

	/* capacity * elem_size one element above the limit is EINVAL. */
	if (max_chan / 8 + 1 <= 0xffffffffull) {
		EXPECT_EQ(-EINVAL, gc_make(self->dev, 8, max_chan / 8 + 1));
	}
	/* A signal channel's slots count one byte each. */
	if (max_chan + 1 <= 0xffffffffull) {
		EXPECT_EQ(-EINVAL, gc_make(self->dev, 0, max_chan + 1));
	}
	/* Products that overflow 32 or 64 bits are caught, not wrapped:
	 * 4096 * 0x100001 is 0x1000 in 32 bits. */
	EXPECT_EQ(-EINVAL, gc_make(self->dev, 4096, 0x100001));
	EXPECT_EQ(-EINVAL, gc_make(self->dev, 65536, 0xffffffffu));
	EXPECT_EQ(-EINVAL, gc_make(self->dev, 0, 0xffffffffu));

	/* Exactly at the limit is allowed (tested where it is small enough
	 * to allocate in a test guest). */
	if (max_chan <= (64ull << 20)) {
		fd = gc_make(self->dev, 8, max_chan / 8);
		EXPECT_LE(0, fd) TH_LOG("cap %llu: %s", max_chan / 8,
					strerror(-fd));
		close(fd);
		fd = gc_make(self->dev, 0, max_chan);
		EXPECT_LE(0, fd);
		close(fd);
	} else {
		TH_LOG("max_chan_bytes %llu too large to allocate; boundary "
		       "not tried", max_chan);
	}
}

TEST_F(create, total_rings_above_max_total_bytes_is_enospc)
{
	const char *path = "/sys/module/gochan/parameters/max_total_bytes";
	unsigned long long old;
	char buf[32];
	int pfd, fds[4];

	ASSERT_EQ(0, gc_param("max_total_bytes", &old));
	pfd = open(path, O_WRONLY);
	if (pfd < 0)
		SKIP(return, "max_total_bytes not writable here (%s)",
		     strerror(errno));
	/* Room for three 64 KiB rings. */
	snprintf(buf, sizeof(buf), "%u", 3 * 65536);
	ASSERT_EQ((ssize_t)strlen(buf), write(pfd, buf, strlen(buf)));

	for (int i = 0; i < 3; i++) {
		/* Rings up to max_total_bytes in all are allowed. */
		fds[i] = gc_make(self->dev, 8, 8192);
		EXPECT_LE(0, fds[i]) TH_LOG("ring %d: %s", i, strerror(-fds[i]));
	}
	/* One more ring would exceed max_total_bytes: ENOSPC. */
	fds[3] = gc_make(self->dev, 8, 8192);
	EXPECT_EQ(-ENOSPC, fds[3]);
	/* An unbuffered channel has no ring and still works. */
	int u = gc_make(self->dev, 8, 0);

	EXPECT_LE(0, u);
	close(u);
	/* Closing the last fd of a channel gives its bytes back. */
	if (fds[0] >= 0)
		close(fds[0]);
	fds[0] = gc_make(self->dev, 8, 8192);
	EXPECT_LE(0, fds[0]);

	snprintf(buf, sizeof(buf), "%llu", old);
	EXPECT_EQ((ssize_t)strlen(buf), pwrite(pfd, buf, strlen(buf), 0));
	close(pfd);
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

TEST_F(create, no_free_fd_is_emfile)
{
	struct rlimit rl = { 0 };
	int spare, fd;

	/* Use up the fd table below a lowered limit. */
	spare = dup(0);
	ASSERT_LE(0, spare);
	rl.rlim_cur = rl.rlim_max = spare + 1;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	/* No fd can be had: EMFILE, and no channel leaks... */
	EXPECT_EQ(-EMFILE, gc_make(self->dev, 8, 1024));
	/* ...so once an fd is free, creating works again. */
	close(spare);
	fd = gc_make(self->dev, 8, 1024);
	EXPECT_EQ(spare, fd);
	close(fd);
}

/* Read memory.current of cgroup dir; -1 on error. */
static long long memcg_current(const char *dir)
{
	char path[256], buf[64] = "";
	int fd;

	snprintf(path, sizeof(path), "%s/memory.current", dir);
	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return atoll(buf);
}

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

TEST_F(create, ring_is_charged_to_callers_memory_cgroup)
{
	const char *root = "/sys/fs/cgroup";
	const uint32_t elem = 65536, cap = 64;	/* a 4 MiB ring */
	const long long ring = (long long)elem * cap;
	long long *res = gc_shared(4 * sizeof(long long));
	unsigned long long max_chan = 0;
	char dir[128], procs[160], ctl[64] = "";
	int fd;
	pid_t pid;

	ASSERT_NE(NULL, res);
	gc_param("max_chan_bytes", &max_chan);
	if ((unsigned long long)ring > max_chan)
		SKIP(return, "max_chan_bytes %llu < %lld", max_chan, ring);
	fd = open("/sys/fs/cgroup/cgroup.controllers", O_RDONLY);
	if (fd >= 0) {
		read(fd, ctl, sizeof(ctl) - 1);
		close(fd);
	}
	if (geteuid() != 0 || !strstr(ctl, "memory"))
		SKIP(return, "needs root and cgroup2 with the memory controller");
	if (write_str("/sys/fs/cgroup/cgroup.subtree_control", "+memory"))
		SKIP(return, "cannot enable the memory controller");
	snprintf(dir, sizeof(dir), "%s/gochan-selftest-%d", root, getpid());
	ASSERT_EQ(0, mkdir(dir, 0755));
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);

	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd;

		if (write_str(procs, "0"))
			_exit(1);
		res[0] = memcg_current(dir);
		cfd = gc_make(self->dev, elem, cap);
		if (cfd < 0)
			_exit(2);
		res[1] = memcg_current(dir);
		close(cfd);
		res[2] = memcg_current(dir);
		_exit(0);
	}
	EXPECT_EQ(0, gc_reap(pid));
	rmdir(dir);
	TH_LOG("memory.current: %lld, with a %lld-byte ring %lld, after "
	       "close %lld", res[0], ring, res[1], res[2]);
	ASSERT_LE(0, res[0]);
	/* Making the channel charges its ring to the creator's cgroup (give
	 * or take a tenth for per-cpu charge batching)... */
	EXPECT_LE(res[0] + ring * 9 / 10, res[1]);
	/* ...and the last close gives it back. */
	EXPECT_GE(res[1] - ring * 9 / 10, res[2]);
}

TEST_F(create, bad_pointer_is_efault)
{
	struct gochan_create *cr;
	int fd;

	/* A NULL or unmapped struct pointer is EFAULT. */
	EXPECT_EQ(-EFAULT, gc_err(ioctl(self->dev, GOCHAN_IOC_CREATE, NULL)));
	EXPECT_EQ(-EFAULT, gc_err(ioctl(self->dev, GOCHAN_IOC_CREATE,
					GC_BAD_PTR)));

	/* A struct ending right at an unmapped page works... */
	cr = gc_buf_before_hole(sizeof(*cr));
	ASSERT_NE(NULL, cr);
	memset(cr, 0, sizeof(*cr));
	cr->size = sizeof(*cr);
	cr->elem_size = 8;
	fd = gc_create_raw(self->dev, cr);
	EXPECT_LE(0, fd);
	close(fd);

	/* ...but a size field reaching past it into the hole is EFAULT. */
	cr = gc_buf_before_hole(sizeof(*cr));
	ASSERT_NE(NULL, cr);
	memset(cr, 0, sizeof(*cr));
	cr->size = sizeof(*cr) + 16;
	cr->elem_size = 8;
	EXPECT_EQ(-EFAULT, gc_create_raw(self->dev, cr));
}

TEST_F(create, cloexec_flag_sets_fd_cloexec)
{
	int fd;

	/* GOCHAN_CREATE_CLOEXEC: the new fd has FD_CLOEXEC. */
	fd = gc_make_id(self->dev, 8, 1, GOCHAN_CREATE_CLOEXEC, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);

	/* Without it, the fd survives exec. */
	fd = gc_make_id(self->dev, 8, 1, 0, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

TEST_F(create, nonblock_flag_sets_o_nonblock)
{
	uint64_t v;
	int fd;

	/* GOCHAN_CREATE_NONBLOCK: the new file has O_NONBLOCK... */
	fd = gc_make_id(self->dev, 8, 1, GOCHAN_CREATE_NONBLOCK, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(O_NONBLOCK, fcntl(fd, F_GETFL) & O_NONBLOCK);
	/* ...and so read(2) on an empty channel fails with EAGAIN. */
	EXPECT_EQ(-EAGAIN, gc_read(fd, &v, sizeof(v)));
	close(fd);

	/* Without it, the file is blocking. */
	fd = gc_make_id(self->dev, 8, 1, 0, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, fcntl(fd, F_GETFL) & O_NONBLOCK);
	/* Both flags together. */
	close(fd);
	fd = gc_make_id(self->dev, 8, 1,
			GOCHAN_CREATE_NONBLOCK | GOCHAN_CREATE_CLOEXEC, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(O_NONBLOCK, fcntl(fd, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

TEST_F(create, channel_ioctls_on_device_are_enotty)
{
	struct gochan_xfer x = { .size = sizeof(x) };
	struct gochan_stat st = { .size = sizeof(st) };

	/* /dev/gochan only makes channels: the channel ioctls are ENOTTY. */
	EXPECT_EQ(-ENOTTY, gc_err(ioctl(self->dev, GOCHAN_IOC_SEND, &x)));
	EXPECT_EQ(-ENOTTY, gc_err(ioctl(self->dev, GOCHAN_IOC_RECV, &x)));
	EXPECT_EQ(-ENOTTY, gc_err(ioctl(self->dev, GOCHAN_IOC_CLOSE, 0)));
	EXPECT_EQ(-ENOTTY, gc_err(ioctl(self->dev, GOCHAN_IOC_STAT, &st)));
}

TEST_F(create, create_on_channel_fd_is_enotty)
{
	struct gochan_create cr = {
		.size = sizeof(cr), .elem_size = 8, .capacity = 1,
	};
	int fd = gc_make(self->dev, 8, 1);

	ASSERT_LE(0, fd);
	/* A channel fd does not make channels. */
	EXPECT_EQ(-ENOTTY, gc_create_raw(fd, &cr));
	close(fd);
}

TEST_F(create, unknown_ioctls_are_enotty)
{
	unsigned char arg[GC_STRUCT_MAX] = { 0 };
	int fd = gc_make(self->dev, 8, 1);
	int fds[2] = { self->dev, fd };

	ASSERT_LE(0, fd);
	for (int i = 0; i < 2; i++) {
		/* Unknown numbers in gochan's range are ENOTTY... */
		EXPECT_EQ(-ENOTTY, gc_err(ioctl(fds[i],
				_IO(GOCHAN_IOC_MAGIC, 0xff), arg)));
		EXPECT_EQ(-ENOTTY, gc_err(ioctl(fds[i],
				_IOWR(GOCHAN_IOC_MAGIC, 0xfe, uint64_t), arg)));
		/* ...as is a known number with the wrong size or direction
		 * encoded... */
		EXPECT_EQ(-ENOTTY, gc_err(ioctl(fds[i],
				_IOWR(GOCHAN_IOC_MAGIC, 0x00, uint64_t), arg)));
		EXPECT_EQ(-ENOTTY, gc_err(ioctl(fds[i],
				_IOW(GOCHAN_IOC_MAGIC, 0x13,
				     struct gochan_stat), arg)));
		/* ...and another driver's ioctl. */
		EXPECT_EQ(-ENOTTY, gc_err(ioctl(fds[i], TCGETS, arg)));
	}
	close(fd);
}

TEST_HARNESS_MAIN
