// SPDX-License-Identifier: GPL-2.0
/*
 * Description: the module's lifetime: it cannot be unloaded while any
 * channel is open (held by us, or only by another process), and unloads
 * once the last one is closed.  It is then loaded again from $GOCHAN_KO
 * (default /lib/gochan.ko) with the parameters it had, so later tests find
 * it as before.
 *
 * The same once a process exits with io_uring commands still queued on
 * its channels, with its ring still set up or torn down first.
 *
 * This unloads the module for the whole machine, so it runs only as root in
 * the gochan-vm guest (hostname "gochan-vm"), or where GOCHAN_UNLOAD_TESTS=1
 * says the machine may lose its channels.
 *
 * And the debugging parameter poison_freed: switched on at run time, the
 * module works as before (it only marks buffers it is done with).
 */
#include "helpers.h"

#include <dirent.h>
#include <liburing.h>

#define MOD_NAME	"gochan"
#define MOD_SYSFS	"/sys/module/" MOD_NAME
#define DEFAULT_KO	"/lib/gochan.ko"

static int delete_module(void)
{
	return gc_err(syscall(SYS_delete_module, MOD_NAME, O_NONBLOCK));
}

static bool module_loaded(void)
{
	return access(MOD_SYSFS, F_OK) == 0;
}

static const char *ko_path(void)
{
	const char *p = getenv("GOCHAN_KO");

	return p && *p ? p : DEFAULT_KO;
}

/* "name=value ..." for every readable, writable parameter of the loaded
 * module (a read-only one cannot be given to insmod). */
static int save_params(char *buf, size_t size)
{
	DIR *d = opendir(MOD_SYSFS "/parameters");
	struct dirent *de;
	size_t used = 0;

	buf[0] = '\0';
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		unsigned long long v = 0;
		struct stat st;

		if (de->d_name[0] == '.' ||
		    fstatat(dirfd(d), de->d_name, &st, 0) ||
		    !(st.st_mode & S_IWUSR) || gc_param(de->d_name, &v))
			continue;
		used += snprintf(buf + used, size - used, "%s%s=%llu",
				 used ? " " : "", de->d_name, v);
		if (used >= size) {
			closedir(d);
			return -ENOSPC;
		}
	}
	closedir(d);
	return 0;
}

/* finit_module() the .ko with params; waits for the device node. */
static int load_module(const char *params)
{
	int fd = open(ko_path(), O_RDONLY | O_CLOEXEC);
	int64_t end = now_ns() + GC_WAIT_MS * 1000000LL;
	int ret;

	if (fd < 0)
		return -errno;
	ret = gc_err(syscall(SYS_finit_module, fd, params, 0));
	close(fd);
	if (ret)
		return ret;
	while (!gc_have_device()) {
		if (now_ns() > end)
			return -ENODEV;
		usleep(1000);
	}
	return 0;
}

static bool allowed_here(void)
{
	char host[64] = "";
	const char *env = getenv("GOCHAN_UNLOAD_TESTS");

	if (env && !strcmp(env, "1"))
		return true;
	gethostname(host, sizeof(host) - 1);
	return !strcmp(host, "gochan-vm");
}

FIXTURE(module) {
	char params[512];
};

FIXTURE_SETUP(module)
{
	char initstate[32] = "";
	int fd;

	if (!gc_have_device())
		GC_SKIP_SETUP(GOCHAN_DEVICE_PATH " absent (module not loaded)");
	if (geteuid() != 0)
		GC_SKIP_SETUP("needs root");
	if (!allowed_here())
		GC_SKIP_SETUP("unloads the module: only in the gochan-vm "
		     "guest or with GOCHAN_UNLOAD_TESTS=1");
	fd = open(MOD_SYSFS "/initstate", O_RDONLY);
	if (fd < 0)
		GC_SKIP_SETUP("gochan is built in, not a module");
	read(fd, initstate, sizeof(initstate) - 1);
	close(fd);
	ASSERT_EQ(0, strncmp(initstate, "live", 4));
	if (access(ko_path(), R_OK))
		GC_SKIP_SETUP("%s not readable: could not reload (set "
		     "GOCHAN_KO)", ko_path());
	ASSERT_EQ(0, save_params(self->params, sizeof(self->params)));
	TH_LOG("reload: %s %s", ko_path(), self->params);
}

FIXTURE_TEARDOWN(module)
{
	/* Whatever happened above, leave the module loaded for the tests
	 * that run after this one. */
	if (!module_loaded()) {
		EXPECT_EQ(0, load_module(self->params));
	}
}

TEST_F(module, unload_refused_while_channel_open_then_accepted)
{
	struct gc_op *op = gc_ops(1);
	char now[512];
	uint64_t v = 0;
	int dev, fd, ret;
	pid_t pid;

	ASSERT_NE(NULL, op);
	dev = gc_open_dev();
	ASSERT_LE(0, dev);
	fd = gc_make(dev, 8, 1);
	ASSERT_LE(0, fd);
	/* Only the channel fd remains open, not the device. */
	close(dev);

	/* A channel is open: unloading is refused (EWOULDBLOCK with
	 * O_NONBLOCK, or EBUSY)... */
	ret = delete_module();
	EXPECT_TRUE(ret == -EWOULDBLOCK || ret == -EBUSY)
		TH_LOG("delete_module: %d (%s)", ret, strerror(-ret));
	ASSERT_TRUE(module_loaded());
	/* ...and the channel still works. */
	EXPECT_EQ(0, gc_send_u64(fd, 1, 0));
	EXPECT_EQ(0, gc_recv_u64(fd, &v, 0));
	EXPECT_EQ(1, v);

	/* Held only by another process, blocked in it: still refused. */
	op->fd = fd;
	op->kind = GC_OP_RECV;
	pid = gc_spawn_op(op);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, gc_wait_waiters(fd, 0, 1));
	close(fd);
	ret = delete_module();
	EXPECT_TRUE(ret == -EWOULDBLOCK || ret == -EBUSY)
		TH_LOG("delete_module: %d (%s)", ret, strerror(-ret));
	ASSERT_TRUE(module_loaded());

	/* The last holder goes away: unloading is accepted, and the module
	 * and its device are gone. */
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, gc_reap(pid));
	ret = delete_module();
	ASSERT_EQ(0, ret) TH_LOG("delete_module: %s", strerror(-ret));
	EXPECT_FALSE(module_loaded());
	EXPECT_FALSE(gc_have_device());

	/* Loading it again works, with the same parameters, and makes
	 * working channels. */
	ASSERT_EQ(0, load_module(self->params));
	ASSERT_EQ(0, save_params(now, sizeof(now)));
	EXPECT_STREQ(self->params, now);
	dev = gc_open_dev();
	ASSERT_LE(0, dev);
	fd = gc_make(dev, 8, 1);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, gc_send_u64(fd, 2, 0));
	EXPECT_EQ(0, gc_recv_u64(fd, &v, 0));
	EXPECT_EQ(2, v);
	close(fd);
	close(dev);
}

/* Queue one GOCHAN_IOC_SEND / _RECV command on @fd. */
static int queue_cmd(struct io_uring *ring, int fd, uint32_t op,
		     struct gochan_xfer *x)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct gochan_uring_cmd *uc;

	if (!sqe)
		return -EBUSY;
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = op;
	uc = (struct gochan_uring_cmd *)sqe->cmd;
	uc->arg = (uintptr_t)x;
	uc->key = 0;
	return io_uring_submit(ring);
}

TEST_F(module, unload_after_exit_with_queued_uring_cmds)
{
	int64_t end;
	pid_t pid;
	int ret;

	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		static uint64_t buf[2];
		struct gochan_xfer xr = {
			.size = sizeof(xr), .buf = (uintptr_t)&buf[0],
		};
		struct gochan_xfer xs = {
			.size = sizeof(xs), .buf = (uintptr_t)&buf[1],
		};
		struct io_uring kept, dropped;
		int dev = gc_open_dev();
		int a = gc_make(dev, 8, 0), b = gc_make(dev, 0, 0);

		if (dev < 0 || a < 0 || b < 0 ||
		    io_uring_queue_init(4, &kept, 0) ||
		    io_uring_queue_init(4, &dropped, 0))
			_exit(2);
		/* A receive and a send in each ring, all queued. */
		if (queue_cmd(&kept, a, GOCHAN_IOC_RECV, &xr) != 1 ||
		    queue_cmd(&kept, b, GOCHAN_IOC_SEND, &xs) != 1 ||
		    queue_cmd(&dropped, a, GOCHAN_IOC_RECV, &xr) != 1 ||
		    queue_cmd(&dropped, b, GOCHAN_IOC_SEND, &xs) != 1)
			_exit(3);
		if (gc_wait_waiters(a, 0, 2) || gc_wait_waiters(b, 2, 0))
			_exit(4);
		/* One ring torn down first, the other left to exit. */
		io_uring_queue_exit(&dropped);
		_exit(0);
	}
	ASSERT_EQ(0, gc_reap(pid));

	/* The commands end with the process (their completions run
	 * asynchronously): then nothing holds the module. */
	end = now_ns() + GC_WAIT_MS * 1000000LL;
	while ((ret = delete_module()) && now_ns() < end)
		usleep(10000);
	ASSERT_EQ(0, ret) TH_LOG("delete_module: %s", strerror(-ret));
	EXPECT_FALSE(module_loaded());
	ASSERT_EQ(0, load_module(self->params));
}

FIXTURE(params) {
	int dev;
	unsigned long long poison;	/* as the test found it */
};

FIXTURE_SETUP(params)
{
	GC_SETUP_DEV(self->dev);
	if (gc_param("poison_freed", &self->poison))
		GC_SKIP_SETUP("no poison_freed parameter");
	if (geteuid() != 0)
		GC_SKIP_SETUP("needs root to set poison_freed");
}

FIXTURE_TEARDOWN(params)
{
	gc_param_write("poison_freed", self->poison);
	close(self->dev);
}

/*
 * poison_freed marks buffers as they are freed; a value in flight is in no
 * freed buffer, so with it on every path still delivers what was sent:
 * through the ring and directly, one element and many, a large element
 * (heap bounce buffers), selects that send and receive, an element given
 * back by a faulting receive.
 */
TEST_F(params, poison_freed_switches_at_run_time_and_changes_no_value)
{
	uint8_t big[1024], got[1024];
	uint64_t v[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, w[8] = { 0 }, x = 0;
	int fd8 = gc_make(self->dev, 8, 8), fdbig = gc_make(self->dev, sizeof(big), 2);
	struct gochan_select_case c = { .fd = fd8, .op = GOCHAN_OP_SEND, .buf = (uintptr_t)&v[0] };
	struct gochan_select sel = {
		.size = sizeof(sel), .cases = (uintptr_t)&c, .ncases = 1,
		.case_size = sizeof(c), .flags = GOCHAN_SELECT_NONBLOCK,
	};
	unsigned long long on = 0;

	ASSERT_LE(0, fd8);
	ASSERT_LE(0, fdbig);
	/* It can be switched on while channels are in use... */
	ASSERT_EQ(0, gc_param_write("poison_freed", 1));
	ASSERT_EQ(0, gc_param("poison_freed", &on));
	EXPECT_EQ(1, on);
	/* ...and the values sent come out as they went in. */
	ASSERT_EQ(0, gc_send_u64(fd8, 42, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_recv_u64(fd8, &x, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(42, x);
	ASSERT_EQ((long)sizeof(v), gc_write(fd8, v, sizeof(v)));
	ASSERT_EQ((long)sizeof(w), gc_read(fd8, w, sizeof(w)));
	EXPECT_EQ(0, memcmp(v, w, sizeof(v)));
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 1);
	ASSERT_EQ((long)sizeof(big), gc_write(fdbig, big, sizeof(big)));
	ASSERT_EQ((long)sizeof(got), gc_read(fdbig, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(big, got, sizeof(big)));
	ASSERT_EQ(0, gc_err(ioctl(self->dev, GOCHAN_IOC_SELECT, &sel)));
	c.op = GOCHAN_OP_RECV;
	c.buf = (uintptr_t)&x;
	x = 0;
	ASSERT_EQ(0, gc_err(ioctl(self->dev, GOCHAN_IOC_SELECT, &sel)));
	EXPECT_EQ(1, sel.ok);
	EXPECT_EQ(1, x);
	/* A receive whose copy-out faults gives the element back, intact. */
	ASSERT_EQ(0, gc_send_u64(fd8, 77, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(-EFAULT, gc_recv(fd8, GC_BAD_PTR, NULL, GOCHAN_XFER_NONBLOCK));
	ASSERT_EQ(0, gc_recv_u64(fd8, &x, GOCHAN_XFER_NONBLOCK));
	EXPECT_EQ(77, x);
	/* And switched off again. */
	ASSERT_EQ(0, gc_param_write("poison_freed", 0));
	ASSERT_EQ(0, gc_param("poison_freed", &on));
	EXPECT_EQ(0, on);
	close(fd8);
	close(fdbig);
}

TEST_HARNESS_MAIN
