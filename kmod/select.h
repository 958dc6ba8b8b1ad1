/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The select machinery select.c shares with selset.c (select sets): a
 * select's cases, its passes, and the write-back of its outcome.
 */
#ifndef _GOCHAN_SELECT_H
#define _GOCHAN_SELECT_H

#include <linux/err.h>

#include "internal.h"

/*
 * One case of a select.  @file is referenced, except in a select that
 * borrows its cases from a select set (struct gochan_sel.borrowed), where
 * it is NULL: the set holds the reference.
 *
 * A nil case (fd GOCHAN_NIL_FD) has no sel_case: sel_read_cases() leaves
 * it out, so every case here has a channel, and a case's place in
 * gochan_sel.cases (what the passes, the waiters' @index and the set's
 * hints count in) may differ from its place in the caller's array, which
 * @index keeps: that one alone is reported (sel_out_try(), the CQE).
 */
struct sel_case {
	struct gochan_chan	*c;
	struct file		*file;
	void __user		*ubuf;
	void			*kbuf;		/* SEND: the value; RECV: shared */
	u32			index;		/* in the caller's array */
	bool			send;
	int			bad;		/* RECV: ubuf could not be pinned
						 * (sel_case_pin(), unlocked):
						 * -EFAULT or -ENOMEM */
	struct gochan_pin	pin;		/* RECV: ubuf, pinned before the
						 * case may run (pin.c) */
	struct gochan_waiter	w;
};

/*
 * The Out fields (index, ok) of a select call's struct gochan_select, as
 * select.c writes them: under the lock of the case that runs, before it
 * runs, or through pages pinned before the select waits.
 */
struct sel_out {
	struct gochan_select __user *u;		/* the user's struct */
	bool			written;	/* the outcome is there */
	unsigned int		npages;		/* pinned, 0..2 */
	unsigned int		offset;		/* of index in pages[0] */
	struct page		*pages[2];	/* they may straddle a page end */
};

/*
 * sel_try_case() and the passes: the Out fields would fault under the
 * lock, nothing moved; fault them in and try again.  Neither an index nor
 * an errno.
 */
#define SEL_RETRY	(-MAX_ERRNO - 1)

/*
 * One select call (or one queued io_uring SELECT).  Everything is the
 * call's own, except with @borrowed: then @lockorder and @nlocks are a
 * select set's (read-only once the set exists) and the cases hold no file
 * references.
 */
struct gochan_sel {
	struct sel_case		*cases;
	u32			ncases;		/* cases with a channel */
	u32			*pollorder;	/* case indices, shuffled */
	struct gochan_chan	**lockorder;	/* distinct channels, by address */
	u32			nlocks;
	bool			borrowed;
	void			*send_bufs;	/* every send case's value */
	void			*recv_buf;	/* room for the largest receive */
	size_t			send_bytes;	/* of send_bufs */
	size_t			recv_bytes;	/* of recv_buf */
	struct gochan_block	blk;
	struct sel_out		*out;		/* NULL: io_uring (a CQE) */
	u64			wait_ns;	/* for the trace */
};

/* select.c */
int sel_read_arg(void __user *argp, struct gochan_select *arg,
		 struct gochan_block *blk);
int sel_read_cases(struct gochan_sel *s, const void __user *ucases,
		   u32 ncases, u32 case_size);
int sel_alloc_bufs(struct gochan_sel *s);
int sel_chan_addr_cmp(const void *a, const void *b);
void sel_lockorder(struct gochan_sel *s);
void sel_free(struct gochan_sel *s);
long sel_run(struct gochan_sel *s, u32 *ok);
int sel_case_pin(struct sel_case *sc);
int sel_try_case(struct sel_case *sc, struct sel_out *out, u32 *ok,
		 struct gochan_unlock *u);
bool sel_case_looks_ready(const struct sel_case *sc);
int sel_out_init(struct sel_out *o, void __user *argp,
		 struct gochan_select *arg);
int sel_out_fault_in(struct sel_out *o);
void sel_out_release(struct sel_out *o);
long sel_write_outcome(struct sel_out *out, struct gochan_select *arg,
		       long ret, u32 ok, struct sel_case *sc,
		       const void *recv_buf);

/* selset.c */
long gochan_ioctl_selset(void __user *argp);

#endif /* _GOCHAN_SELECT_H */
