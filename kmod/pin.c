// SPDX-License-Identifier: GPL-2.0
/*
 * Pinned user buffers: a receive's, to write into, and a blocked write's,
 * to read from.
 *
 * A receive that may wait, or that must claim its partner (a select, a
 * queued io_uring command: a claim cannot be undone), cannot deliver its
 * element under the channel lock with page faults disabled and take it
 * only once it is there, as the plain one-element and bulk paths do
 * (chan.c).  It pins the pages of its buffer first instead
 * (pin_user_pages_fast() with FOLL_WRITE, with no lock held: the pin may
 * fault them in, for as long as the memory's owner likes), and once a
 * value is its own writes it through the pins, with no user access: the
 * write cannot fault, so nothing taken is ever given back.  What it
 * writes into are the pages mapped at the buffer when it was pinned, as
 * for O_DIRECT: a mapping changed under a waiting receive (mprotect()
 * leaves the pages; munmap() does not) does not fail it.
 *
 * A write(2) of several elements that must wait (a full ring, an
 * unbuffered channel) pins its source the same way, for reading: its
 * receivers take the elements from those pages, under the channel lock,
 * one copy from the writer's memory into the ring or into the receiver's
 * buffer, as pipe_write() makes one copy into the pipe's page.  A change
 * the writer makes to its buffer while the call waits may be seen by a
 * receiver, as with vmsplice(2): the call has not returned.
 *
 * The pins are dropped by gochan_pin_release(), in process context or
 * task work (it may sleep); the pages written are marked dirty then.
 */
#include <linux/highmem.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "compat.h"
#include "internal.h"

/* Pages pinned per pin_user_pages_fast() call. */
#define PIN_BATCH	16

/* The segments of a user-backed iov_iter, from its current position. */
struct pin_seg_iter {
	const struct iov_iter	*iter;
	unsigned long		k;		/* iovec index */
	size_t			skip;		/* into the first segment */
};

/* The next segment of @si with bytes in it: false when there is none. */
static bool pin_next_seg(struct pin_seg_iter *si, unsigned long *base,
			 size_t *len)
{
	const struct iov_iter *i = si->iter;

	if (iter_is_ubuf(i)) {
		if (si->k++)
			return false;
		*base = (unsigned long)i->ubuf + i->iov_offset;
		*len = iov_iter_count(i);
		return *len;
	}
	while (si->k < i->nr_segs) {
		const struct iovec *iov = gochan_iter_iov(i) + si->k++;

		*base = (unsigned long)iov->iov_base + si->skip;
		*len = iov->iov_len - si->skip;
		si->skip = 0;
		if (*len)
			return true;
	}
	return false;
}

static struct bio_vec *pin_vec(struct gochan_pin *p)
{
	return p->cap > ARRAY_SIZE(p->inline_vec) ? p->ext : p->inline_vec;
}

/*
 * Pin [addr, addr + len) after what @p holds, for writing (@foll:
 * FOLL_WRITE) or reading (0); returns the bytes pinned.
 */
static size_t pin_range(struct gochan_pin *p, unsigned long addr, size_t len,
			unsigned int foll)
{
	struct bio_vec *vec = pin_vec(p);
	struct page *pages[PIN_BATCH];
	size_t done = 0;

	while (done < len) {
		unsigned long start = addr + done;
		size_t off = offset_in_page(start);
		int want = min_t(size_t, DIV_ROUND_UP(off + len - done, PAGE_SIZE),
				 PIN_BATCH);
		int got, i;

		want = min_t(int, want, p->cap - p->nvec);
		got = pin_user_pages_fast(start - off, want, foll, pages);
		if (got <= 0)
			break;
		for (i = 0; i < got; i++) {
			size_t n = min_t(size_t, PAGE_SIZE - off, len - done);

			vec[p->nvec++] = (struct bio_vec) {
				.bv_page	= pages[i],
				.bv_offset	= off,
				.bv_len		= n,
			};
			done += n;
			off = 0;
		}
		if (got < want)
			break;
	}
	p->len += done;
	return done;
}

/* Pin [addr, addr + len), which one page holds: 0 or -EFAULT. */
static int pin_one_page(struct gochan_pin *p, unsigned long addr, size_t len,
			unsigned int foll)
{
	*p = (struct gochan_pin) { };
	if (pin_user_pages_fast(addr & PAGE_MASK, 1, foll,
				&p->inline_vec[0].bv_page) != 1)
		return -EFAULT;
	p->inline_vec[0].bv_offset = offset_in_page(addr);
	p->inline_vec[0].bv_len = len;
	p->len = len;
	p->nvec = 1;
	p->cap = 1;
	return 0;
}

/**
 * gochan_pin_iter - pin the next bytes of a user-backed iov_iter.
 * @p: holds no pin (whatever it held before is forgotten)
 * @iter: ITER_UBUF or ITER_IOVEC; not advanced.  A destination (a read's)
 *        is pinned for writing, a source (a write's) for reading.
 * @len: how many bytes, at most iov_iter_count(@iter)
 *
 * Pins from the start up to the first byte that cannot be written (read).
 * Returns the number of bytes pinned (> 0), or -EFAULT (the first one
 * cannot) or -ENOMEM; nothing is held after an error.
 */
ssize_t gochan_pin_iter(struct gochan_pin *p, const struct iov_iter *iter,
			size_t len)
{
	struct pin_seg_iter si = { .iter = iter, .skip = iter->iov_offset };
	unsigned int foll = iov_iter_rw(iter) == READ ? FOLL_WRITE : 0;
	unsigned long base;
	size_t seg, left = len;
	u32 cap = 0;

	*p = (struct gochan_pin) { };
	if (!len)
		return 0;
	/* Within one page of the first segment: the common case. */
	if (pin_next_seg(&si, &base, &seg) && seg >= len &&
	    offset_in_page(base) + len <= PAGE_SIZE)
		return pin_one_page(p, base, len, foll) ?: (ssize_t)len;
	si = (struct pin_seg_iter) { .iter = iter, .skip = iter->iov_offset };
	/* How many pages: as many as the segments span, up to @len bytes. */
	while (left && pin_next_seg(&si, &base, &seg)) {
		seg = min(seg, left);
		cap += DIV_ROUND_UP(offset_in_page(base) + seg, PAGE_SIZE);
		left -= seg;
	}
	if (cap > ARRAY_SIZE(p->inline_vec)) {
		p->ext = kvmalloc_array(cap, sizeof(*p->ext), GFP_KERNEL_ACCOUNT);
		if (!p->ext)
			return -ENOMEM;
	}
	p->cap = cap;

	si = (struct pin_seg_iter) { .iter = iter, .skip = iter->iov_offset };
	left = len;
	while (left && pin_next_seg(&si, &base, &seg)) {
		size_t got;

		seg = min(seg, left);
		got = pin_range(p, base, seg, foll);
		left -= got;
		if (got < seg)
			break;
	}
	if (!p->len) {
		gochan_pin_release(p);
		return -EFAULT;
	}
	return p->len;
}

/**
 * gochan_pin_user - pin @len bytes at @buf for writing, all of them or none.
 * @p: holds no pin (whatever it held before is forgotten)
 * @buf: user address
 * @len: bytes
 *
 * Returns 0 (with @len 0 too: nothing is pinned then), -EFAULT or -ENOMEM.
 */
int gochan_pin_user(struct gochan_pin *p, void __user *buf, size_t len)
{
	unsigned long addr = (unsigned long)buf;
	struct iov_iter iter;
	ssize_t ret;

	/* Within one page, what an element of up to a page mostly is. */
	if (len && offset_in_page(addr) + len <= PAGE_SIZE)
		return pin_one_page(p, addr, len, FOLL_WRITE);
	iov_iter_ubuf(&iter, ITER_DEST, buf, len);
	ret = gochan_pin_iter(p, &iter, len);
	if (ret >= 0 && ret < len) {
		gochan_pin_release(p);
		ret = -EFAULT;
	}
	return ret < 0 ? ret : 0;
}

/**
 * gochan_pin_write - write @len bytes into the pinned buffer, from @off.
 * @p: pinned over at least @off + @len bytes
 * @off: where in the pinned bytes
 * @src: kernel memory
 * @len: bytes
 *
 * Cannot fail, and takes no lock: callable under a channel lock.
 */
void gochan_pin_write(struct gochan_pin *p, size_t off, const void *src,
		      size_t len)
{
	struct bio_vec *vec = pin_vec(p);
	u32 i;

	if (WARN_ON_ONCE(off + len > p->len))
		return;
	p->dirty |= len != 0;
	for (i = 0; i < p->nvec && len; i++) {
		size_t n;

		if (off >= vec[i].bv_len) {
			off -= vec[i].bv_len;
			continue;
		}
		n = min_t(size_t, vec[i].bv_len - off, len);
		memcpy_to_page(vec[i].bv_page, vec[i].bv_offset + off, src, n);
		src += n;
		len -= n;
		off = 0;
	}
}

/*
 * gochan_pin_dest - an iov_iter writing into the pinned buffer: what
 * copy_to_iter() writes through it cannot fault (callable under a channel
 * lock).  The caller marks the pin dirty (p->dirty) if it wrote.
 */
void gochan_pin_dest(struct gochan_pin *p, struct iov_iter *to)
{
	iov_iter_bvec(to, ITER_DEST, pin_vec(p), p->nvec, p->len);
}

/*
 * gochan_pin_copy_from_iter - copy up to @len bytes from @from into the
 * pinned buffer, from its start, without faulting on @from (callable under
 * a channel lock).  Returns the bytes copied: fewer than @len where @from
 * met a fault (they are written all the same).
 */
size_t gochan_pin_copy_from_iter(struct gochan_pin *p, size_t len,
				 struct iov_iter *from)
{
	struct bio_vec *vec = pin_vec(p);
	size_t done = 0;
	u32 i;

	if (WARN_ON_ONCE(len > p->len))
		return 0;
	for (i = 0; i < p->nvec && done < len; i++) {
		size_t n = min_t(size_t, vec[i].bv_len, len - done);
		size_t got = copy_page_from_iter_atomic(vec[i].bv_page,
							vec[i].bv_offset, n, from);

		done += got;
		if (got < n)
			break;
	}
	p->dirty |= done != 0;
	return done;
}

/*
 * The pinned bytes from @off on, a segment at a time: calls @fn(@arg, page,
 * offset in page, bytes) until it has seen @len bytes or it returns fewer
 * than it was given; returns the bytes it took.
 */
static size_t pin_walk(struct gochan_pin *p, size_t off, size_t len,
		       size_t (*fn)(void *arg, struct page *page, size_t pgoff,
				    size_t n),
		       void *arg)
{
	struct bio_vec *vec = pin_vec(p);
	size_t done = 0;
	u32 i;

	if (WARN_ON_ONCE(off + len > p->len))
		return 0;
	for (i = 0; i < p->nvec && done < len; i++) {
		size_t n, got;

		if (off >= vec[i].bv_len) {
			off -= vec[i].bv_len;
			continue;
		}
		n = min_t(size_t, vec[i].bv_len - off, len - done);
		got = fn(arg, vec[i].bv_page, vec[i].bv_offset + off, n);
		done += got;
		if (got < n)
			break;
		off = 0;
	}
	return done;
}

static size_t walk_to_kernel(void *arg, struct page *page, size_t pgoff, size_t n)
{
	void **dst = arg;

	memcpy_from_page(*dst, page, pgoff, n);
	*dst += n;
	return n;
}

/**
 * gochan_pin_read - copy pinned bytes to kernel memory.
 * @p: pinned over at least @off + @len bytes
 * @off: where in the pinned bytes
 * @dst: kernel memory
 * @len: bytes
 *
 * Cannot fail, and takes no lock: callable under a channel lock.
 */
void gochan_pin_read(struct gochan_pin *p, size_t off, void *dst, size_t len)
{
	pin_walk(p, off, len, walk_to_kernel, &dst);
}

static size_t walk_to_iter(void *arg, struct page *page, size_t pgoff, size_t n)
{
	return copy_page_to_iter(page, pgoff, n, arg);
}

/**
 * gochan_pin_copy_to_iter - copy pinned bytes to an iov_iter.
 * @p: pinned over at least @off + @len bytes
 * @off: where in the pinned bytes
 * @len: bytes
 * @to: must not fault (kernel memory or pinned pages: callable under a
 *      channel lock)
 *
 * Returns the bytes copied.
 */
size_t gochan_pin_copy_to_iter(struct gochan_pin *p, size_t off, size_t len,
			       struct iov_iter *to)
{
	return pin_walk(p, off, len, walk_to_iter, to);
}

struct walk_pin {
	struct gochan_pin	*dst;
	size_t			off;
};

static size_t walk_to_pin(void *arg, struct page *page, size_t pgoff, size_t n)
{
	struct walk_pin *w = arg;
	void *src = kmap_local_page(page);

	gochan_pin_write(w->dst, w->off, src + pgoff, n);
	kunmap_local(src);
	w->off += n;
	return n;
}

/**
 * gochan_pin_copy_pin - copy between pinned buffers: a blocked writer's
 * elements to a waiting reader.
 * @dst: pinned for writing over at least @doff + @len bytes
 * @doff: where in @dst
 * @src: pinned over at least @soff + @len bytes
 * @soff: where in @src
 * @len: bytes
 *
 * Cannot fail, and takes no lock: callable under a channel lock.
 */
void gochan_pin_copy_pin(struct gochan_pin *dst, size_t doff,
			 struct gochan_pin *src, size_t soff, size_t len)
{
	struct walk_pin w = { .dst = dst, .off = doff };

	pin_walk(src, soff, len, walk_to_pin, &w);
}

/* Drop the pins (marking the pages dirty if written); may sleep. */
void gochan_pin_release(struct gochan_pin *p)
{
	struct bio_vec *vec = pin_vec(p);
	u32 i;

	for (i = 0; i < p->nvec; i++)
		unpin_user_pages_dirty_lock(&vec[i].bv_page, 1, p->dirty);
	if (p->cap > ARRAY_SIZE(p->inline_vec))
		kvfree(p->ext);
	*p = (struct gochan_pin) { };
}
