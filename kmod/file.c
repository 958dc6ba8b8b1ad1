// SPDX-License-Identifier: GPL-2.0
/*
 * The channel file: read/write/ioctl/poll/fdinfo on a channel fd.
 *
 * This is where user memory is touched.  Senders copy user data into a
 * kernel buffer before calling into chan.c (one element through the stack,
 * the ioctls' and io_uring's too), or a write(2) of several pins its
 * buffer for reading when it cannot go straight into the ring (pin.c), so
 * a bad buffer fails before anything is sent.  Receivers take an element only once it has reached
 * their buffer: buffered elements, and one element from wherever it is,
 * go straight into it under the channel lock with page faults disabled
 * (chan.c; a fault takes nothing, and the call faults the buffer in and
 * comes again); a receive that must wait, or take from blocked senders
 * through the bounce buffer, pins its buffer first (pin.c) and writes
 * what it got through the pins, which cannot fault.  Nothing is lost,
 * nothing is received twice, nothing is given back.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "compat.h"
#include "internal.h"
#include "gochan_trace.h"
#include "select.h"

/*
 * Bounce buffers: calls moving at most GOCHAN_STACK_BUF bytes use the
 * stack; larger ones a heap buffer of at most GOCHAN_CHUNK_BYTES (or one
 * element, when elements are larger), reused chunk by chunk, allocated
 * only once the call needs it (bounce_get()): a read or write the ring
 * serves moves its elements straight between the ring and the caller's
 * buffer and never does, and the allocation (zeroed, with init_on_alloc)
 * cost such a call more than its copies.
 */
#define GOCHAN_STACK_BUF	128
#define GOCHAN_CHUNK_BYTES	(16 * 1024)

/*
 * A write(2) that cannot go straight into the ring pins its buffer instead
 * of copying it into a bounce buffer when it moves at least this much:
 * pinning costs a page walk and a reference per page, what copying (and
 * zeroing, with init_on_alloc) a few hundred bytes costs.  Measured under
 * the instruction clock (make bench, 6.1): 64 elements of 64 B went from
 * 349 to 289 instructions each, 64 of 8 B from 89 to 125 if pinned.
 */
#define GOCHAN_PIN_MIN_BYTES	PAGE_SIZE

struct gochan_bounce {
	void	*buf;		/* NULL until bounce_get() */
	u32	nelem;		/* elements per chunk */
	u32	bytes;		/* nelem * elem_size */
	u8	stack[GOCHAN_STACK_BUF] __aligned(8);
};

/* Size a bounce buffer for up to @total elements. */
static void bounce_init(struct gochan_bounce *b, u32 elem_size, size_t total)
{
	size_t bytes = (size_t)elem_size * total;

	if (!elem_size) {		/* signal channel: nothing to carry */
		b->buf = b->stack;
		b->nelem = min_t(size_t, total, U32_MAX);
		b->bytes = 0;
		return;
	}
	if (bytes <= sizeof(b->stack)) {
		b->buf = b->stack;
		b->nelem = total;
		b->bytes = bytes;
		return;
	}
	b->nelem = max_t(size_t, 1, min_t(size_t, total, GOCHAN_CHUNK_BYTES / elem_size));
	b->bytes = b->nelem * elem_size;
	b->buf = NULL;
}

/* The buffer itself, allocated on first use: 0 or -ENOMEM. */
static int bounce_get(struct gochan_bounce *b)
{
	if (!b->buf)
		b->buf = kvmalloc(b->bytes, GFP_KERNEL_ACCOUNT);
	return b->buf ? 0 : -ENOMEM;
}

static void bounce_free(struct gochan_bounce *b)
{
	if (!b->buf)
		return;
	gochan_poison(b->buf, b->bytes);
	if (b->buf != b->stack)
		kvfree(b->buf);
}

/* Whether read and write would block: the file's mode, or the kiocb's. */
static __always_inline bool rw_nonblock(struct kiocb *iocb)
{
	return (iocb->ki_filp->f_flags & O_NONBLOCK) ||
	       (iocb->ki_flags & IOCB_NOWAIT);
}

/*
 * What read and write share: a length of 0 returns 0 at once, whatever the
 * channel (pipe_read() and pipe_write() do the same), without a look at
 * it; any other length must be whole elements (a signal channel has none
 * to move: EINVAL); then the bounce buffer's size (bounce_get() allocates
 * it) and the blocking mode.  Returns 1 with *want elements to move, 0 for
 * a zero length, or -errno.
 */
static __always_inline int rw_begin(struct kiocb *iocb, struct iov_iter *iter,
				    size_t *want, struct gochan_bounce *b,
				    struct gochan_block *blk)
{
	struct gochan_chan *c = iocb->ki_filp->private_data;
	size_t es = c->elem_size;

	if (!iov_iter_count(iter))
		return 0;
	if (!es)
		return -EINVAL;
	*want = iov_iter_count(iter) / es;	/* one division, not two */
	if (*want * es != iov_iter_count(iter))
		return -EINVAL;
	bounce_init(b, es, *want);
	*blk = (struct gochan_block) { .nonblock = rw_nonblock(iocb) };
	return 1;
}

/*
 * A call moving @len bytes is one element of at most GOCHAN_ELEM_STACK
 * bytes: what most reads and writes are.  It goes straight between the
 * user buffer and the channel (a send through an element on the stack), by
 * the same rules as the general loops of gochan_read_iter() and
 * gochan_write_iter(), with no bounce buffer and no iov_iter.
 */
static __always_inline bool one_elem(struct gochan_chan *c, size_t len)
{
	return len && len == c->elem_size && len <= GOCHAN_ELEM_STACK;
}

/**
 * gochan_recv_user_now - gochan_chan_recv_user(), faulting in what faults.
 * @c: the channel
 * @ubuf: room for one element
 * @ok: NULL, or GOCHAN_IOC_RECV's ok
 * @blk: whether the call may block (it never does here)
 *
 * A fault takes nothing: the buffer (and @ok) is faulted in, without the
 * lock, and the receive tried again.  Returns what gochan_chan_recv_user()
 * returns; -EFAULT once the buffer cannot be faulted in.
 */
long gochan_recv_user_now(struct gochan_chan *c, void __user *ubuf,
			  u32 __user *ok, const struct gochan_block *blk)
{
	long ret;

	while ((ret = gochan_chan_recv_user(c, ubuf, ok, blk)) == -EFAULT) {
		if (fault_in_writeable(ubuf, c->elem_size) ||
		    (ok && fault_in_writeable((char __user *)ok, sizeof(*ok))) ||
		    fatal_signal_pending(current))
			break;
	}
	return ret;
}

/*
 * A one-element receive that must wait, or claim its sender
 * (GOCHAN_RECV_PIN): pin the buffer and @ok, take the general path, and
 * write what it got through the pins.
 */
static noinline long recv_one_pinned(struct gochan_chan *c,
				     void __user *ubuf, u32 __user *ok,
				     const struct gochan_block *blk)
{
	u64 stack[GOCHAN_ELEM_STACK / sizeof(u64)];
	static const u32 one = 1;
	struct gochan_pin pin, pin_ok = { };
	u32 es = c->elem_size;
	void *kbuf = stack;
	long ret;

	if (es > sizeof(stack)) {
		kbuf = kvmalloc(es, GFP_KERNEL_ACCOUNT);
		if (!kbuf)
			return -ENOMEM;
	}
	ret = gochan_pin_user(&pin, ubuf, es);
	if (!ret && ok)
		ret = gochan_pin_user(&pin_ok, ok, sizeof(*ok));
	if (!ret) {
		ret = gochan_chan_recv(c, kbuf, 1, blk);
		if (ret == 1) {
			gochan_pin_write(&pin, 0, kbuf, es);
			if (ok)
				gochan_pin_write(&pin_ok, 0, &one, sizeof(one));
		}
	}
	gochan_pin_release(&pin_ok);
	gochan_pin_release(&pin);
	gochan_poison(kbuf, es);
	if (kbuf != stack)
		kvfree(kbuf);
	return ret;
}

/*
 * Receive one element into @ubuf, and 1 into *@ok if @ok: 1, 0 (closed
 * and drained: nothing written) or -errno (nothing taken).
 */
static __always_inline long recv_one(struct gochan_chan *c, void __user *ubuf,
				     u32 __user *ok,
				     const struct gochan_block *blk)
{
	long ret;

	/*
	 * Nothing to take, by a racy look (internal.h's [L, R] fields), and the
	 * call may wait: it most likely will, so it pins first rather than
	 * lock once to find nothing and again to wait.  A look that was
	 * wrong costs only the pin.
	 */
	if (!blk->nonblock && !READ_ONCE(c->len) && !READ_ONCE(c->nsend) &&
	    !READ_ONCE(c->closed))
		return recv_one_pinned(c, ubuf, ok, blk);
	ret = gochan_recv_user_now(c, ubuf, ok, blk);
	if (unlikely(ret == GOCHAN_RECV_PIN))
		return recv_one_pinned(c, ubuf, ok, blk);
	if (ret != -EFAULT)
		trace_gochan_recv(c->id, c->elem_size, 1, ret, 0);
	return ret;
}

static __always_inline ssize_t read_one(struct gochan_chan *c,
					void __user *ubuf,
					const struct gochan_block *blk)
{
	long got = recv_one(c, ubuf, NULL, blk);

	return got <= 0 ? got : c->elem_size;
}

static __always_inline ssize_t write_one(struct gochan_chan *c,
					 const void __user *ubuf,
					 const struct gochan_block *blk)
{
	u64 kbuf[GOCHAN_ELEM_STACK / sizeof(u64)];
	u32 es = c->elem_size;
	long sent;

	if (copy_from_user(kbuf, ubuf, es))
		return -EFAULT;
	sent = gochan_chan_send(c, kbuf, 1, blk);
	gochan_poison(kbuf, es);
	return sent <= 0 ? sent : es;
}

/*
 * The same for an iov_iter, when it is one user buffer: ITER_UBUF (what
 * read(2) builds for read_iter, and io_uring's READ on 6.12), or an
 * ITER_IOVEC of one segment (io_uring's READ on 6.1, a readv(2) of one
 * iovec).  Returns the buffer, or NULL to take the general path.
 */
static __always_inline void __user *iter_one_ubuf(struct gochan_chan *c,
						  struct iov_iter *iter)
{
	if (!one_elem(c, iov_iter_count(iter)))
		return NULL;
	if (iter_is_ubuf(iter))
		return iter->ubuf + iter->iov_offset;
	if (iter_is_iovec(iter) && iter->nr_segs == 1)
		return gochan_iter_iov(iter)->iov_base + iter->iov_offset;
	return NULL;
}

/*
 * read_iter or write_iter (@send) of one element (one_elem()) in one
 * user buffer: true with *ret the bytes moved, 0 (closed: end of file) or
 * -errno; false if @iter is not such a call.
 */
static __always_inline bool rw_iter_one(struct kiocb *iocb,
					struct iov_iter *iter, bool send,
					ssize_t *ret)
{
	struct gochan_chan *c = iocb->ki_filp->private_data;
	void __user *ubuf = iter_one_ubuf(c, iter);
	struct gochan_block blk = { .nonblock = rw_nonblock(iocb) };

	if (!ubuf)
		return false;
	*ret = send ? write_one(c, ubuf, &blk) : read_one(c, ubuf, &blk);
	if (*ret > 0)
		iov_iter_advance(iter, *ret);
	return true;
}

/*
 * Pin the user pages of the next @n elements of @iter (for writing a
 * read's, for reading a write's): returns the whole elements pinned from
 * the first, up to a bad part (> 0), or -EFAULT (not even one) or -ENOMEM,
 * with nothing held then.
 */
static long pin_elems(struct gochan_pin *pin, const struct iov_iter *iter,
		      u32 n, size_t es)
{
	ssize_t pinned = gochan_pin_iter(pin, iter, (size_t)n * es);

	if (pinned >= 0 && pinned < es) {
		gochan_pin_release(pin);
		pinned = -EFAULT;
	}
	return pinned < 0 ? pinned : (long)(pinned / es);
}

/*
 * read: block for the first element, then take what is there without
 * blocking, chunk by chunk, up to the length asked for.  Buffered elements
 * go straight from the ring to the caller (gochan_chan_recv_iter()); the
 * rest (a wait, a handoff from a blocked sender) through the bounce buffer
 * into the caller's pages, pinned before anything is taken.
 */
static ssize_t gochan_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct gochan_chan *c = iocb->ki_filp->private_data;
	size_t es = c->elem_size, want, done = 0, copied;
	struct gochan_bounce b;
	struct gochan_block blk;
	ssize_t ret;

	if (rw_iter_one(iocb, to, false, &ret))
		return ret;
	ret = rw_begin(iocb, to, &want, &b, &blk);
	if (ret <= 0)
		return ret;

	while (done < want) {
		u32 n = min_t(size_t, b.nelem, want - done);
		struct gochan_pin pin = { };
		long got;

		got = gochan_chan_recv_iter(c, to, min_t(size_t, want - done, U32_MAX));
		if (got > 0) {
			done += got;
			blk.nonblock = true;
			continue;
		}
		if (got == -EFAULT) {
			/* Nothing taken: fault it in, unlocked, and again. */
			if (fault_in_iov_iter_writeable(to, es) ||
			    fatal_signal_pending(current)) {
				ret = -EFAULT;
				break;
			}
			continue;
		}
		/*
		 * Pin the room for n elements: a bad buffer fails here, before
		 * anything is taken, and one bad part way takes only the whole
		 * elements before the bad part.  The elements then go straight
		 * to the pinned pages, also those a sender hands over while
		 * the call waits.  (Kernel memory cannot fault: it goes
		 * through the bounce buffer.)
		 */
		if (user_backed_iter(to)) {
			long pinned = pin_elems(&pin, to, n, es);

			if (pinned < 0) {
				ret = pinned;
				break;
			}
			n = pinned;
			got = gochan_chan_recv_pinned(c, &pin, n, &blk);
			if (got > 0)
				iov_iter_advance(to, got * es);
			gochan_pin_release(&pin);
		} else {
			ret = bounce_get(&b);
			if (ret)
				break;
			got = gochan_chan_recv(c, b.buf, n, &blk);
			if (got > 0) {
				copied = copy_to_iter(b.buf, got * es, to);
				WARN_ON_ONCE(copied != got * es);
			}
		}
		if (got <= 0) {
			ret = got;
			break;
		}
		done += got;
		if (got < n)
			break;		/* nothing more without blocking */
		blk.nonblock = true;	/* only the first element may block */
	}
	bounce_free(&b);
	/* Partial progress wins over an error. */
	return done ? done * es : ret;
}

/*
 * write: send every element, blocking as needed; partial on signal/close.
 * Elements that fit in the ring's free slots, or that a reader waiting on
 * pinned pages takes, go straight from the caller (gochan_chan_send_iter());
 * the rest wait in the caller's pages, pinned, for receivers to take them
 * (gochan_chan_send_pinned()), or, from kernel memory, in the bounce buffer.
 */
static ssize_t gochan_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct gochan_chan *c = iocb->ki_filp->private_data;
	size_t es = c->elem_size, want, done = 0;
	struct gochan_bounce b;
	struct gochan_block blk;
	ssize_t ret;

	if (rw_iter_one(iocb, from, true, &ret))
		return ret;
	ret = rw_begin(iocb, from, &want, &b, &blk);
	if (ret <= 0)
		return ret;
	ret = 0;

	while (done < want) {
		u32 n = min_t(size_t, b.nelem, want - done);
		long sent;

		sent = gochan_chan_send_iter(c, from, min_t(size_t, want - done, U32_MAX));
		if (sent > 0) {
			done += sent;
			continue;
		}
		if (sent == -EFAULT) {
			if (fault_in_iov_iter_readable(from, es) ||
			    fatal_signal_pending(current)) {
				ret = -EFAULT;
				break;
			}
			continue;
		}
		if (user_backed_iter(from) && (size_t)n * es >= GOCHAN_PIN_MIN_BYTES) {
			/*
			 * Pin the n elements: receivers take them from these
			 * pages, also while the call waits, one copy from here
			 * to where they go.  A bad buffer fails here, before
			 * anything is sent; one bad part way sends the whole
			 * elements before the bad part.
			 */
			struct gochan_pin pin;
			long pinned = pin_elems(&pin, from, n, es);

			if (pinned < 0) {
				ret = pinned;
				break;
			}
			n = pinned;
			sent = gochan_chan_send_pinned(c, &pin, n, &blk);
			if (sent > 0)
				iov_iter_advance(from, sent * es);
			gochan_pin_release(&pin);
		} else {
			/* Less than a page, or kernel memory (a bvec from
			 * io_uring's fixed buffers, splice): through the
			 * bounce buffer. */
			ret = bounce_get(&b);
			if (ret)
				break;
			if (!copy_from_iter_full(b.buf, n * es, from)) {
				ret = -EFAULT;
				break;
			}
			sent = gochan_chan_send(c, b.buf, n, &blk);
		}
		if (sent <= 0) {
			ret = sent;
			break;
		}
		done += sent;
		if (sent < n)
			break;		/* signal, close, or would block */
	}
	bounce_free(&b);
	return done ? done * es : ret;
}

/*
 * read(2) and write(2) (@send).  One element (one_elem()) goes straight
 * between the user buffer and the channel; anything else takes read_iter
 * or write_iter through a kiocb and an iov_iter built here as the VFS
 * builds them (new_sync_read()), so both paths follow one set of rules.
 * readv(2), io_uring and aio call read_iter and write_iter themselves.
 */
static ssize_t rw_sync(struct file *file, void __user *buf, size_t len,
		       bool send)
{
	struct gochan_chan *c = file->private_data;
	struct kiocb kiocb;
	struct iov_iter iter;

	if (one_elem(c, len)) {
		struct gochan_block blk = {
			.nonblock = file->f_flags & O_NONBLOCK,
		};

		return send ? write_one(c, buf, &blk) : read_one(c, buf, &blk);
	}
	init_sync_kiocb(&kiocb, file);
	iov_iter_ubuf(&iter, send ? ITER_SOURCE : ITER_DEST, buf, len);
	return send ? gochan_write_iter(&kiocb, &iter) :
		      gochan_read_iter(&kiocb, &iter);
}

static ssize_t gochan_read(struct file *file, char __user *buf, size_t len,
			   loff_t *ppos)
{
	return rw_sync(file, buf, len, false);
}

static ssize_t gochan_write(struct file *file, const char __user *buf,
			    size_t len, loff_t *ppos)
{
	return rw_sync(file, (void __user *)buf, len, true);
}

/* --- ioctl --- */

/**
 * gochan_copy_struct_from_user - read a size-versioned uapi struct.
 * @dst: kernel copy, @ksize bytes
 * @ksize: sizeof the struct as this module knows it
 * @ver0: size of the struct's first published version
 * @src: user pointer
 *
 * The struct's first __u32 is its size as the caller knows it: at least
 * @ver0, at most PAGE_SIZE; zero-extended if shorter than @ksize, and any
 * bytes past @ksize must be zero (copy_struct_from_user()'s rules).
 */
int gochan_copy_struct_from_user(void *dst, size_t ksize, size_t ver0,
				 const void __user *src)
{
	u32 usize;
	int err;

	if (get_user(usize, (const u32 __user *)src))
		return -EFAULT;
	if (usize < ver0)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	err = copy_struct_from_user(dst, ksize, src, usize);
	if (err)
		return err;
	*(u32 *)dst = usize;
	return 0;
}

/* Write back a struct read by gochan_copy_struct_from_user(). */
int gochan_copy_struct_to_user(void __user *dst, const void *src, size_t ksize)
{
	size_t usize = *(const u32 *)src;

	return copy_to_user(dst, src, min(usize, ksize)) ? -EFAULT : 0;
}

/* Read and check a struct gochan_xfer (the ioctls and uring.c). */
int gochan_xfer_read(struct gochan_xfer *x, void __user *argp,
		     struct gochan_block *blk)
{
	int err = gochan_copy_struct_from_user(x, sizeof(*x),
					       GOCHAN_XFER_SIZE_VER0, argp);

	if (err)
		return err;
	if (x->flags & ~GOCHAN_XFER_FLAGS || x->reserved0 ||
	    x->reserved[0] || x->reserved[1])
		return -EINVAL;
	if (!(x->flags & GOCHAN_XFER_DEADLINE) && x->deadline_ns)
		return -EINVAL;
	x->ok = 0;	/* output only: a reused struct may still hold 1 */
	*blk = (struct gochan_block) {
		.nonblock	= x->flags & GOCHAN_XFER_NONBLOCK,
		.has_deadline	= x->flags & GOCHAN_XFER_DEADLINE,
		.deadline	= ns_to_ktime(x->deadline_ns),
	};
	return 0;
}

static long gochan_ioctl_send(struct gochan_chan *c, void __user *argp)
{
	struct gochan_bounce b;
	struct gochan_block blk;
	struct gochan_xfer x;
	long ret;

	ret = gochan_xfer_read(&x, argp, &blk);
	if (ret)
		return ret;
	bounce_init(&b, c->elem_size, 1);
	ret = bounce_get(&b);
	if (ret)
		goto out_free;
	if (copy_from_user(b.buf, u64_to_user_ptr(x.buf), c->elem_size)) {
		ret = -EFAULT;
		goto out_free;
	}
	ret = gochan_chan_send(c, b.buf, 1, &blk);
	if (ret > 0)
		ret = 0;
out_free:
	bounce_free(&b);
	return ret;
}

static long gochan_ioctl_recv(struct gochan_chan *c, void __user *argp)
{
	struct gochan_xfer __user *ux = argp;
	struct gochan_block blk;
	struct gochan_xfer x;
	long ret;

	ret = gochan_xfer_read(&x, argp, &blk);
	if (ret)
		return ret;
	/*
	 * ok, the struct's one Out field, is 0 until a value is taken; then
	 * the value and 1 are written with it, under the lock or through
	 * pins (recv_one()): either both reach the caller and the call says
	 * so, or nothing is taken.  A read-only struct fails here.
	 */
	if (put_user(0, &ux->ok))
		return -EFAULT;
	ret = recv_one(c, u64_to_user_ptr(x.buf), &ux->ok, &blk);
	return ret < 0 ? ret : 0;
}

static long gochan_ioctl_stat(struct gochan_chan *c, void __user *argp)
{
	struct gochan_stat st;
	int err;

	err = gochan_copy_struct_from_user(&st, sizeof(st),
					   GOCHAN_STAT_SIZE_VER0, argp);
	if (err)
		return err;
	if (st.flags)
		return -EINVAL;
	/* Every output field is set, so no stale input goes back out. */
	st = (struct gochan_stat) { .size = st.size };
	gochan_chan_stat(c, &st);
	return gochan_copy_struct_to_user(argp, &st, sizeof(st));
}

/*
 * GOCHAN_IOC_DUP: a new file on the same channel, of the direction asked
 * for, which must be one the old file has: a direction narrows, never
 * widens.
 */
static long gochan_ioctl_dup(struct file *file, void __user *argp)
{
	struct gochan_chan *c = file->private_data;
	struct gochan_dup d;
	fmode_t want = 0;
	u32 create_flags = 0;
	struct file *nfile;
	int fd, err;

	err = gochan_copy_struct_from_user(&d, sizeof(d), GOCHAN_DUP_SIZE_VER0,
					   argp);
	if (err)
		return err;
	if (d.flags & ~GOCHAN_DUP_FLAGS || d.reserved[0] || d.reserved[1] ||
	    !(d.flags & (GOCHAN_DUP_SEND | GOCHAN_DUP_RECV)))
		return -EINVAL;
	if (d.flags & GOCHAN_DUP_SEND)
		want |= FMODE_WRITE;
	if (d.flags & GOCHAN_DUP_RECV)
		want |= FMODE_READ;
	if (want & ~file->f_mode)
		return -EBADF;
	if (d.flags & GOCHAN_DUP_CLOEXEC)
		create_flags |= GOCHAN_CREATE_CLOEXEC;
	if (d.flags & GOCHAN_DUP_NONBLOCK)
		create_flags |= GOCHAN_CREATE_NONBLOCK;
	fd = gochan_chan_prepare_fd(c, create_flags,
				    want == (FMODE_READ | FMODE_WRITE) ? O_RDWR :
				    want == FMODE_READ ? O_RDONLY : O_WRONLY,
				    &nfile);
	if (fd < 0)
		return fd;
	fd_install(fd, nfile);
	return fd;
}

static long gochan_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct gochan_chan *c = file->private_data;
	void __user *argp = (void __user *)arg;

	/*
	 * A channel file may be receive-only (no FMODE_WRITE) or send-only
	 * (no FMODE_READ): see "Direction" in the uapi header.  read(2) and
	 * write(2) are refused by the VFS, and these the same way.  Closing
	 * is a sender's act.
	 */
	switch (cmd) {
	case GOCHAN_IOC_SEND:
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		return gochan_ioctl_send(c, argp);
	case GOCHAN_IOC_RECV:
		if (!(file->f_mode & FMODE_READ))
			return -EBADF;
		return gochan_ioctl_recv(c, argp);
	case GOCHAN_IOC_CLOSE:
		if (arg)
			return -EINVAL;
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		return gochan_chan_close(c);
	case GOCHAN_IOC_STAT:
		return gochan_ioctl_stat(c, argp);
	case GOCHAN_IOC_SELECT:
		return gochan_ioctl_select(argp);
	case GOCHAN_IOC_SELSET:
		return gochan_ioctl_selset(argp);
	case GOCHAN_IOC_CANCEL:
		return gochan_ioctl_cancel(file, argp);
	case GOCHAN_IOC_DUP:
		return gochan_ioctl_dup(file, argp);
	default:
		return -ENOTTY;
	}
}

/*
 * poll_wait() first, then the look (lockless, unless a waiting partner
 * alone decides it: gochan_chan_poll_mask()): any change after the look
 * wakes poll_wq, which we are on by then (pipe_poll's argument), if it is
 * a change we asked for (gochan_poll_want()).
 *
 * The waker skips the wakeup when nobody is queued (gochan_poll_wake():
 * the change, a full barrier, then waitqueue_active()), so this side needs
 * its full barrier too, between queueing and looking, as sock_poll_wait()
 * has: else each side's load may pass its own store (store buffering) and
 * both miss the other, the look the change and the waker the entry.
 */
static __poll_t gochan_poll(struct file *file, poll_table *wait)
{
	struct gochan_chan *c = file->private_data;

	/* What the file's direction cannot report, it does not wait for. */
	gochan_poll_want(c, poll_requested_events(wait) &
			 gochan_poll_events(file->f_mode));
	if (!poll_does_not_wait(wait)) {
		poll_wait(file, &c->poll_wq, wait);
		smp_mb();	/* pairs with gochan_poll_wake()'s */
	}
	return gochan_chan_poll_mask(c, file->f_mode);
}

static void gochan_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct gochan_chan *c = file->private_data;
	struct gochan_stat st = {};

	gochan_chan_stat(c, &st);
	seq_printf(m, "gochan-id:\t%llu\n", st.id);
	seq_printf(m, "gochan-elem-size:\t%u\n", st.elem_size);
	seq_printf(m, "gochan-capacity:\t%u\n", st.capacity);
	seq_printf(m, "gochan-len:\t%u\n", st.len);
	seq_printf(m, "gochan-closed:\t%u\n", !!(st.flags & GOCHAN_STAT_CLOSED));
	seq_printf(m, "gochan-send-waiters:\t%u\n", st.send_waiters);
	seq_printf(m, "gochan-recv-waiters:\t%u\n", st.recv_waiters);
	seq_printf(m, "gochan-sent:\t%llu\n", st.sent);
	seq_printf(m, "gochan-received:\t%llu\n", st.received);
	seq_printf(m, "gochan-creator-pid:\t%d\n", st.creator_pid);
}

/*
 * The file's last reference went (every fd closed, in every process).  If
 * it could send and was the channel's last such file, a channel made with
 * GOCHAN_CREATE_CLOSE_ON_LAST_SENDER closes, as a pipe's readers see end
 * of file once its last writer is gone.
 */
static int gochan_release(struct inode *inode, struct file *file)
{
	struct gochan_chan *c = file->private_data;

	if ((file->f_mode & FMODE_WRITE) &&
	    atomic_dec_and_test(&c->senders) && c->close_on_last_sender &&
	    !READ_ONCE(c->closed))
		gochan_chan_close(c);	/* -EPIPE if closed meanwhile: fine */
	gochan_chan_put(c);
	return 0;
}

static const struct file_operations gochan_chan_fops = {
	.owner		= THIS_MODULE,
	.read		= gochan_read,
	.write		= gochan_write,
	.read_iter	= gochan_read_iter,
	.write_iter	= gochan_write_iter,
	.poll		= gochan_poll,
	.unlocked_ioctl	= gochan_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.uring_cmd	= gochan_uring_cmd,
	.show_fdinfo	= gochan_show_fdinfo,
	.flush		= gochan_flush,
	.release	= gochan_release,
};

/* The channel behind @file, or NULL if @file is not a channel. */
struct gochan_chan *gochan_chan_from_file(struct file *file)
{
	return file->f_op == &gochan_chan_fops ? file->private_data : NULL;
}

/**
 * gochan_chan_prepare_fd - a new file on a channel, and an fd reserved for it.
 * @c: the channel
 * @create_flags: GOCHAN_CREATE_CLOEXEC and GOCHAN_CREATE_NONBLOCK (others
 *	ignored)
 * @accmode: O_RDONLY (receive only), O_WRONLY (send only) or O_RDWR
 * @filep: where the new file is returned
 *
 * Takes a channel reference for the file.  The fd is reserved but not yet
 * installed: the caller calls fd_install(ret, *filep) once nothing can fail
 * any more, or put_unused_fd(ret) and fput(*filep) to back out.  Returns
 * the fd or -errno.
 */
int gochan_chan_prepare_fd(struct gochan_chan *c, u32 create_flags,
			   int accmode, struct file **filep)
{
	int oflags = accmode, fd;
	struct file *file;

	if (create_flags & GOCHAN_CREATE_NONBLOCK)
		oflags |= O_NONBLOCK;
	fd = get_unused_fd_flags(create_flags & GOCHAN_CREATE_CLOEXEC ? O_CLOEXEC : 0);
	if (fd < 0)
		return fd;
	file = anon_inode_getfile("[gochan]", &gochan_chan_fops, c, oflags);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	gochan_chan_get(c);
	if (file->f_mode & FMODE_WRITE)
		atomic_inc(&c->senders);	/* see gochan_release() */
	/* Reads and writes honour IOCB_NOWAIT: io_uring need not punt them. */
	file->f_mode |= FMODE_NOWAIT;
	*filep = file;
	return fd;
}
