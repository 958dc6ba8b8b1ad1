/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The select machinery select.c shares with selset.c (select sets): a
 * select's cases, its passes, and the write-back of its outcome.
 */
#ifndef _GOCHAN_SELECT_H
#define _GOCHAN_SELECT_H

#include "gochan.h"

/*
 * One case of a select.  @file is referenced, except in a select that
 * borrows its cases from a select set (struct gochan_sel.borrowed), where
 * it is NULL: the set holds the reference.
 */
struct sel_case {
	struct gochan_chan	*c;
	struct file		*file;
	void __user		*ubuf;
	void			*kbuf;		/* SEND: the value; RECV: shared */
	bool			send;
	bool			bad;		/* RECV: ubuf faulted when probed
						 * (sel_case_probe(), unlocked) */
	struct gochan_waiter	w;
};

/*
 * One select call (or one queued io_uring SELECT).  Everything is the
 * call's own, except with @borrowed: then @lockorder and @nlocks are a
 * select set's (read-only once the set exists) and the cases hold no file
 * references.
 */
struct gochan_sel {
	struct sel_case		*cases;
	u32			ncases;
	u32			*pollorder;	/* case indices, shuffled */
	struct gochan_chan	**lockorder;	/* distinct channels, by address */
	u32			nlocks;
	bool			borrowed;
	void			*send_bufs;	/* every send case's value */
	void			*recv_buf;	/* room for the largest receive */
	size_t			send_bytes;	/* of send_bufs */
	size_t			recv_bytes;	/* of recv_buf */
	struct gochan_block	blk;
	u64			wait_ns;	/* for the trace */
};

int sel_read_arg(void __user *argp, struct gochan_select *arg,
		 struct gochan_block *blk);
int sel_read_cases(struct gochan_sel *s, const void __user *ucases,
		   u32 ncases, u32 case_size);
int sel_alloc_bufs(struct gochan_sel *s);
int sel_chan_addr_cmp(const void *a, const void *b);
void sel_lockorder(struct gochan_sel *s);
void sel_free(struct gochan_sel *s);
long sel_run(struct gochan_sel *s, u32 *ok);
int sel_case_probe(struct sel_case *sc);
int sel_try_case(struct sel_case *sc, u32 *ok, struct gochan_unlock *u);
bool sel_case_looks_ready(const struct sel_case *sc);
int sel_put_out(void __user *argp, struct gochan_select *arg, u32 index,
		u32 ok);
long sel_write_outcome(void __user *argp, struct gochan_select *arg,
		       long ret, u32 ok, const struct sel_case *sc,
		       const void *recv_buf);

/* selset.c */
long gochan_ioctl_selset(void __user *argp);

#endif /* _GOCHAN_SELECT_H */
