// SPDX-License-Identifier: GPL-2.0
/*
 * Description: channel fds of one direction, as a pipe's two ends (the
 * uapi header's "Direction"): send-only and receive-only fds from
 * GOCHAN_IOC_CREATE's SEND / RECV flags and from GOCHAN_IOC_DUP, which
 * narrows a direction and never widens it; what each refuses (EBADF, by
 * every path, a select as a whole); and "a producer that dies": with
 * GOCHAN_CREATE_CLOSE_ON_LAST_SENDER the channel closes when its last file
 * that can send is released (process exit included), so receivers see
 * end-of-channel and POLLHUP.  The io_uring commands' side is in
 * uring_cmd.c (access_mode_of_created_and_dup_fds), named fds in named.c.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include "helpers.h"

#define NB	GOCHAN_XFER_NONBLOCK
#define CLOSE_ON_LAST	GOCHAN_CREATE_CLOSE_ON_LAST_SENDER

/* The access mode fcntl(F_GETFL) shows, or -errno. */
static int accmode(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -errno : (fl & O_ACCMODE);
}

/* poll(2) events of an fd, without waiting (0 if none). */
static short poll_events(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

static bool chan_closed(int fd)
{
	struct gochan_stat st;

	return gc_stat(fd, &st) == 0 && (st.flags & GOCHAN_STAT_CLOSED);
}

/* Poll STAT until the channel is closed; 0 or -ETIMEDOUT. */
static int wait_closed(int fd)
{
	int64_t end = now_ns() + GC_WAIT_MS * 1000000LL;

	while (!chan_closed(fd)) {
		if (now_ns() > end)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return 0;
}

FIXTURE(direction) {
	int dev;
};

FIXTURE_SETUP(direction)
{
	if (!gc_have_device())
		GC_SKIP_SETUP("/dev/gochan is absent");
	self->dev = gc_open_dev();
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(direction)
{
	close(self->dev);
}

/* CREATE's SEND and RECV flags pick the fd's direction; neither, both. */
TEST_F(direction, create_flags_pick_the_direction)
{
	static const struct { uint32_t flags; int mode; } t[] = {
		{ 0, O_RDWR },
		{ GOCHAN_CREATE_SEND | GOCHAN_CREATE_RECV, O_RDWR },
		{ GOCHAN_CREATE_SEND, O_WRONLY },
		{ GOCHAN_CREATE_RECV, O_RDONLY },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int fd = gc_make_id(self->dev, 8, 1,
				    GOCHAN_CREATE_CLOEXEC | t[i].flags, NULL);

		/* Each combination makes a channel... */
		ASSERT_LE(0, fd) TH_LOG("flags %#x", t[i].flags);
		/* ...whose fd has that access mode. */
		EXPECT_EQ(t[i].mode, accmode(fd)) TH_LOG("flags %#x", t[i].flags);
		close(fd);
	}
}

/* A send-only fd sends and closes, and refuses to receive by any path. */
TEST_F(direction, send_only_fd_cannot_receive)
{
	int w = gc_make_id(self->dev, 8, 2,
			   GOCHAN_CREATE_CLOEXEC | GOCHAN_CREATE_SEND, NULL);
	uint64_t v = 5;
	uint32_t index = 0;
	struct gochan_select_case cs = {
		.fd = w, .op = GOCHAN_OP_RECV, .buf = (uintptr_t)&v,
	};

	ASSERT_LE(0, w);
	/* It sends, by write and by ioctl... */
	EXPECT_EQ(8, gc_write(w, &v, 8));
	EXPECT_EQ(0, gc_send_u64(w, 6, NB));
	/* ...and, with two elements buffered, still polls no POLLIN. */
	EXPECT_EQ(0, poll_events(w));
	/* Receiving fails with EBADF however it is asked for. */
	EXPECT_EQ(-EBADF, gc_read(w, &v, 8));
	EXPECT_EQ(-EBADF, gc_recv_u64(w, &v, NB));
	EXPECT_EQ(-EBADF, gc_select(self->dev, &cs, 1, GOCHAN_SELECT_NONBLOCK,
				    0, &index, NULL));
	/* The elements are still there. */
	{
		struct gochan_stat st;

		ASSERT_EQ(0, gc_stat(w, &st));
		EXPECT_EQ(2, st.len);
	}
	/* Closing is a sender's act: allowed. */
	EXPECT_EQ(0, gc_close_chan(w));
	EXPECT_EQ(POLLOUT | POLLHUP, poll_events(w));
	close(w);
}

/* A receive-only fd receives, and refuses to send or close. */
TEST_F(direction, recv_only_fd_cannot_send_or_close)
{
	int fd = gc_make(self->dev, 8, 1), r;
	uint64_t v = 7;
	struct gochan_select_case cs[2];

	ASSERT_LE(0, fd);
	r = gc_dup(fd, GOCHAN_DUP_RECV | GOCHAN_DUP_CLOEXEC);
	ASSERT_LE(0, r);
	/* Empty with a free slot: a receive-only fd polls nothing. */
	EXPECT_EQ(0, poll_events(r));
	EXPECT_EQ(-EBADF, gc_write(r, &v, 8));
	EXPECT_EQ(-EBADF, gc_send_u64(r, 1, NB));
	EXPECT_EQ(-EBADF, gc_close_chan(r));
	/* A select with one such case fails as a whole, even beside a
	 * ready case, and nothing moves. */
	ASSERT_EQ(0, gc_send_u64(fd, 9, NB));
	cs[0] = (struct gochan_select_case){
		.fd = fd, .op = GOCHAN_OP_RECV, .buf = (uintptr_t)&v,
	};
	cs[1] = (struct gochan_select_case){
		.fd = r, .op = GOCHAN_OP_SEND, .buf = (uintptr_t)&v,
	};
	v = 0;
	EXPECT_EQ(-EBADF, gc_select(self->dev, cs, 2, GOCHAN_SELECT_NONBLOCK,
				    0, NULL, NULL));
	EXPECT_EQ(-EBADF, gc_select(fd, cs, 2, 0, 0, NULL, NULL));
	/* Not in a select set either. */
	EXPECT_EQ(-EBADF, gc_selset(self->dev, cs, 2));
	EXPECT_EQ(0, v);
	/* It receives what fd sent. */
	EXPECT_EQ(POLLIN, poll_events(r));
	EXPECT_EQ(0, gc_recv_u64(r, &v, NB));
	EXPECT_EQ(9, v);
	/* The channel is not closed by anything above. */
	EXPECT_FALSE(chan_closed(r));
	close(r);
	close(fd);
}

/* DUP narrows a direction and never widens it. */
TEST_F(direction, dup_narrows_never_widens)
{
	int fd = gc_make(self->dev, 8, 1), w, r, rw, x;
	struct gochan_stat a, b;
	uint64_t v = 0;

	ASSERT_LE(0, fd);
	/* From a two-way fd: any direction. */
	rw = gc_dup(fd, GOCHAN_DUP_SEND | GOCHAN_DUP_RECV);
	w = gc_dup(fd, GOCHAN_DUP_SEND);
	r = gc_dup(fd, GOCHAN_DUP_RECV);
	ASSERT_LE(0, rw);
	ASSERT_LE(0, w);
	ASSERT_LE(0, r);
	EXPECT_EQ(O_RDWR, accmode(rw));
	EXPECT_EQ(O_WRONLY, accmode(w));
	EXPECT_EQ(O_RDONLY, accmode(r));
	/* The same channel: the same id, and w's value reaches r. */
	ASSERT_EQ(0, gc_stat(fd, &a));
	ASSERT_EQ(0, gc_stat(r, &b));
	EXPECT_EQ(a.id, b.id);
	ASSERT_EQ(0, gc_send_u64(w, 42, NB));
	ASSERT_EQ(0, gc_recv_u64(r, &v, NB));
	EXPECT_EQ(42, v);
	/* From a receive-only fd: receive-only again, nothing wider. */
	EXPECT_EQ(-EBADF, gc_dup(r, GOCHAN_DUP_SEND));
	EXPECT_EQ(-EBADF, gc_dup(r, GOCHAN_DUP_SEND | GOCHAN_DUP_RECV));
	x = gc_dup(r, GOCHAN_DUP_RECV);
	ASSERT_LE(0, x);
	EXPECT_EQ(O_RDONLY, accmode(x));
	close(x);
	/* From a send-only fd: send-only again. */
	EXPECT_EQ(-EBADF, gc_dup(w, GOCHAN_DUP_RECV));
	EXPECT_EQ(-EBADF, gc_dup(w, GOCHAN_DUP_SEND | GOCHAN_DUP_RECV));
	x = gc_dup(w, GOCHAN_DUP_SEND);
	ASSERT_LE(0, x);
	EXPECT_EQ(O_WRONLY, accmode(x));
	close(x);
	close(rw);
	close(w);
	close(r);
	close(fd);
}

/* The new file has its own O_NONBLOCK and FD_CLOEXEC, from the flags. */
TEST_F(direction, dup_file_has_its_own_flags)
{
	int fd = gc_make_id(self->dev, 8, 0, GOCHAN_CREATE_NONBLOCK, NULL), x;
	uint64_t v;

	ASSERT_LE(0, fd);
	/* Not inherited from the old file's O_NONBLOCK, nor its fd flags. */
	x = gc_dup(fd, GOCHAN_DUP_RECV);
	ASSERT_LE(0, x);
	EXPECT_EQ(0, fcntl(x, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(0, fcntl(x, F_GETFD) & FD_CLOEXEC);
	close(x);
	x = gc_dup(fd, GOCHAN_DUP_RECV | GOCHAN_DUP_NONBLOCK | GOCHAN_DUP_CLOEXEC);
	ASSERT_LE(0, x);
	EXPECT_EQ(O_NONBLOCK, fcntl(x, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(FD_CLOEXEC, fcntl(x, F_GETFD) & FD_CLOEXEC);
	/* O_NONBLOCK acts: an empty unbuffered channel's read would block. */
	EXPECT_EQ(-EAGAIN, gc_read(x, &v, 8));
	close(x);
	close(fd);
}

/* Every field of struct gochan_dup is checked. */
TEST_F(direction, dup_fields_checked)
{
	int fd = gc_make(self->dev, 8, 1);
	struct {
		struct gochan_dup d;
		uint8_t tail[64];
	} big;
	struct gochan_dup d;

	ASSERT_LE(0, fd);
	/* No direction: EINVAL. */
	EXPECT_EQ(-EINVAL, gc_dup(fd, 0));
	EXPECT_EQ(-EINVAL, gc_dup(fd, GOCHAN_DUP_CLOEXEC));
	/* An unknown flag: EINVAL. */
	EXPECT_EQ(-EINVAL, gc_dup(fd, GOCHAN_DUP_RECV | (GOCHAN_DUP_FLAGS + 1)));
	EXPECT_EQ(-EINVAL, gc_dup(fd, GOCHAN_DUP_RECV | (1u << 31)));
	/* A reserved field not zero: EINVAL. */
	d = (struct gochan_dup){ .size = sizeof(d), .flags = GOCHAN_DUP_RECV };
	d.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, gc_err(ioctl(fd, GOCHAN_IOC_DUP, &d)));
	/* A size below the first version: EINVAL; above a page: E2BIG. */
	d = (struct gochan_dup){ .size = GOCHAN_DUP_SIZE_VER0 - 8,
				 .flags = GOCHAN_DUP_RECV };
	EXPECT_EQ(-EINVAL, gc_err(ioctl(fd, GOCHAN_IOC_DUP, &d)));
	d.size = GC_STRUCT_MAX + 1;
	EXPECT_EQ(-E2BIG, gc_err(ioctl(fd, GOCHAN_IOC_DUP, &d)));
	/* A longer struct: zeros past this version are fine, else E2BIG. */
	memset(&big, 0, sizeof(big));
	big.d.size = sizeof(big);
	big.d.flags = GOCHAN_DUP_RECV | GOCHAN_DUP_CLOEXEC;
	{
		int x = gc_err(ioctl(fd, GOCHAN_IOC_DUP, &big));

		EXPECT_LE(0, x);
		if (x >= 0)
			close(x);
	}
	big.tail[63] = 1;
	EXPECT_EQ(-E2BIG, gc_err(ioctl(fd, GOCHAN_IOC_DUP, &big)));
	/* A bad pointer: EFAULT. */
	EXPECT_EQ(-EFAULT, gc_err(ioctl(fd, GOCHAN_IOC_DUP, GC_BAD_PTR)));
	/* Not on /dev/gochan: it has no channel to duplicate. */
	d = (struct gochan_dup){ .size = sizeof(d), .flags = GOCHAN_DUP_RECV };
	EXPECT_EQ(-ENOTTY, gc_err(ioctl(self->dev, GOCHAN_IOC_DUP, &d)));
	close(fd);
}

/* Duplicating a closed channel's fd works; the fd reads end-of-channel. */
TEST_F(direction, dup_of_a_closed_channel)
{
	int fd = gc_make(self->dev, 8, 1), r;
	uint64_t v;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gc_close_chan(fd));
	r = gc_dup(fd, GOCHAN_DUP_RECV | GOCHAN_DUP_CLOEXEC);
	ASSERT_LE(0, r);
	EXPECT_EQ(0, gc_read(r, &v, 8));
	EXPECT_EQ(POLLIN | POLLHUP, poll_events(r));
	close(r);
	close(fd);
}

/* The flag with a receive-only fd: EINVAL, no sender would be the last. */
TEST_F(direction, close_on_last_sender_needs_a_sender)
{
	int fd;

	EXPECT_EQ(-EINVAL, gc_make_id(self->dev, 8, 1,
				      CLOSE_ON_LAST | GOCHAN_CREATE_RECV, NULL));
	fd = gc_make_id(self->dev, 8, 1, CLOSE_ON_LAST | GOCHAN_CREATE_SEND, NULL);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	fd = gc_make_id(self->dev, 8, 1, CLOSE_ON_LAST, NULL);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
}

/*
 * The producer process exits without closing the channel: its receiver
 * drains what it sent, then sees end-of-channel by every path, and POLLHUP.
 */
TEST_F(direction, producer_exit_closes_the_channel)
{
	int w = gc_make_id(self->dev, 8, 4, CLOSE_ON_LAST, NULL), r;
	uint64_t v = 0;
	uint32_t ok = 7;
	pid_t pid;

	ASSERT_LE(0, w);
	r = gc_dup(w, GOCHAN_DUP_RECV | GOCHAN_DUP_CLOEXEC);
	ASSERT_LE(0, r);
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Sends two and exits: the fd goes with the process. */
		close(r);
		_exit(gc_send_u64(w, 1, 0) || gc_send_u64(w, 2, 0));
	}
	close(w);
	EXPECT_EQ(0, gc_reap(pid));
	/* The buffered values come first... */
	EXPECT_EQ(0, gc_recv_u64(r, &v, NB));
	EXPECT_EQ(1, v);
	EXPECT_EQ(8, gc_read(r, &v, 8));
	EXPECT_EQ(2, v);
	/* ...then end-of-channel: read returns 0, RECV says ok = 0... */
	EXPECT_EQ(0, gc_read(r, &v, 8));
	EXPECT_EQ(0, gc_recv(r, &v, &ok, 0));
	EXPECT_EQ(0, ok);
	/* ...and poll says POLLHUP (with POLLIN: a read would not block). */
	EXPECT_EQ(POLLIN | POLLHUP, poll_events(r));
	EXPECT_TRUE(chan_closed(r));
	close(r);
}

/*
 * A receiver already blocked (read, and an epoll waiter) is woken when the
 * last sender's process dies, even by SIGKILL, mid-wait.
 */
TEST_F(direction, blocked_receiver_woken_when_the_last_sender_dies)
{
	int w = gc_make_id(self->dev, 8, 0, CLOSE_ON_LAST, NULL), r, ep;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	uint64_t v = 99;
	pid_t pid;

	ASSERT_LE(0, w);
	r = gc_dup(w, GOCHAN_DUP_RECV | GOCHAN_DUP_CLOEXEC);
	ASSERT_LE(0, r);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, r, &ev));
	/* Nothing yet: epoll has no event. */
	EXPECT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	pid = gc_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The producer: it waits to be killed, never closing. */
		close(r);
		pause();
		_exit(0);
	}
	close(w);		/* only the child's file can send now */
	{
		pid_t killer = gc_fork();

		ASSERT_LE(0, killer);
		if (killer == 0) {
			/* Kill the producer once the parent blocks in read. */
			if (gc_wait_waiters(r, 0, 1))
				_exit(1);
			kill(pid, SIGKILL);
			_exit(0);
		}
		/* Blocks until the producer is gone, then end-of-channel. */
		EXPECT_EQ(0, gc_read(r, &v, 8));
		EXPECT_EQ(0, gc_reap(killer));
	}
	EXPECT_EQ(128 + SIGKILL, gc_reap(pid));
	/* epoll saw the close: EPOLLHUP with EPOLLIN. */
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, GC_WAIT_MS));
	EXPECT_EQ(EPOLLIN | EPOLLHUP, ev.events & (EPOLLIN | EPOLLOUT | EPOLLHUP));
	close(ep);
	close(r);
}

/*
 * Every open file that can send counts, and only those: dup(2) shares one
 * file, GOCHAN_IOC_DUP makes another, receive-only files do not count.
 */
TEST_F(direction, every_send_capable_file_counts)
{
	int fd = gc_make_id(self->dev, 8, 2, CLOSE_ON_LAST, NULL);
	int fd2, w, r;
	uint64_t v = 0;

	ASSERT_LE(0, fd);
	r = gc_dup(fd, GOCHAN_DUP_RECV);
	ASSERT_LE(0, r);
	/* dup(2): one file, two fds; closing one leaves the file open. */
	fd2 = dup(fd);
	ASSERT_LE(0, fd2);
	close(fd);
	EXPECT_FALSE(chan_closed(r));
	/* A send-only file of its own keeps the channel open past fd2. */
	w = gc_dup(fd2, GOCHAN_DUP_SEND);
	ASSERT_LE(0, w);
	close(fd2);
	EXPECT_FALSE(chan_closed(r));
	EXPECT_EQ(0, gc_send_u64(w, 3, NB));
	/* Receive-only files come and go without closing it. */
	close(gc_dup(r, GOCHAN_DUP_RECV));
	EXPECT_FALSE(chan_closed(r));
	/* The last one that can send: closed, the value still there. */
	close(w);
	EXPECT_TRUE(chan_closed(r));
	EXPECT_EQ(0, gc_recv_u64(r, &v, NB));
	EXPECT_EQ(3, v);
	EXPECT_EQ(GC_CLOSED, gc_recv_u64(r, &v, NB));
	close(r);
}

/* A select set holds its cases' files, so it holds the channel open. */
TEST_F(direction, select_set_holds_a_sender_file)
{
	int fd = gc_make_id(self->dev, 8, 1, CLOSE_ON_LAST, NULL), r, set;
	uint64_t v = 0;
	struct gochan_select_case cs;

	ASSERT_LE(0, fd);
	r = gc_dup(fd, GOCHAN_DUP_RECV);
	ASSERT_LE(0, r);
	/* A receive case, but on the two-way fd: the set holds that file. */
	cs = (struct gochan_select_case){
		.fd = fd, .op = GOCHAN_OP_RECV, .buf = (uintptr_t)&v,
	};
	set = gc_selset(self->dev, &cs, 1);
	ASSERT_LE(0, set);
	close(fd);
	EXPECT_FALSE(chan_closed(r));
	/* The set gone, no file can send: closed. */
	close(set);
	EXPECT_EQ(0, wait_closed(r));
	close(r);
}

/* An fd in flight in a unix socket holds its file too. */
TEST_F(direction, fd_in_flight_holds_the_channel_open)
{
	int fd = gc_make_id(self->dev, 8, 1, CLOSE_ON_LAST, NULL), r, sv[2];
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte = 'x';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	int got;

	ASSERT_LE(0, fd);
	r = gc_dup(fd, GOCHAN_DUP_RECV);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	ASSERT_EQ(1, sendmsg(sv[0], &msg, 0));
	/* Only the message holds the sender now: still open. */
	close(fd);
	EXPECT_FALSE(chan_closed(r));
	/* Received, it works as a sender... */
	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_controllen = sizeof(cbuf);
	ASSERT_EQ(1, recvmsg(sv[1], &msg, MSG_CMSG_CLOEXEC));
	cm = CMSG_FIRSTHDR(&msg);
	ASSERT_NE(NULL, cm);
	memcpy(&got, CMSG_DATA(cm), sizeof(int));
	EXPECT_EQ(0, gc_send_u64(got, 8, NB));
	/* ...and its close is the last sender's. */
	close(got);
	EXPECT_TRUE(chan_closed(r));
	close(sv[0]);
	close(sv[1]);
	close(r);
}

/* Without the flag nothing changes: the last sender leaves it open. */
TEST_F(direction, without_the_flag_the_channel_stays_open)
{
	int fd = gc_make(self->dev, 8, 1), r;

	ASSERT_LE(0, fd);
	r = gc_dup(fd, GOCHAN_DUP_RECV);
	ASSERT_LE(0, r);
	close(fd);
	EXPECT_FALSE(chan_closed(r));
	EXPECT_EQ(0, poll_events(r));
	close(r);
}

/* Closed by GOCHAN_IOC_CLOSE first: the last release changes nothing. */
TEST_F(direction, closed_before_the_last_sender_goes)
{
	int fd = gc_make_id(self->dev, 8, 1, CLOSE_ON_LAST, NULL), r;
	uint64_t v;

	ASSERT_LE(0, fd);
	r = gc_dup(fd, GOCHAN_DUP_RECV);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, gc_send_u64(fd, 4, NB));
	ASSERT_EQ(0, gc_close_chan(fd));
	close(fd);
	EXPECT_TRUE(chan_closed(r));
	EXPECT_EQ(0, gc_recv_u64(r, &v, NB));
	EXPECT_EQ(4, v);
	EXPECT_EQ(GC_CLOSED, gc_recv_u64(r, &v, NB));
	close(r);
}

TEST_HARNESS_MAIN
