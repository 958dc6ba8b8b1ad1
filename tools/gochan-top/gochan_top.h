/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gochan-top: what the BPF side (gochan_top.bpf.c) and the userspace side
 * (gochan_top.c) share: the layout of the two maps.
 *
 *   chans  hash, channel id -> struct gt_chan: counts of the channel's
 *          events since tracing began.  Select blocks carry no channel
 *          (one select waits on several), so they count under id 0, as do
 *          selects that failed before choosing a case.
 *   hists  array, enum gt_op -> struct gt_hist: log2 histogram of how long
 *          the send, receive and select calls that slept waited.
 *
 * Every counter only grows (atomic adds on the BPF side); userspace reads
 * them as they stand, so a live reading may be a few events behind itself
 * across fields, never ahead.
 */
#ifndef GOCHAN_TOP_H
#define GOCHAN_TOP_H

#define GT_MAX_CHANS	16384
#define GT_HIST_SLOTS	64	/* slot s: wait_ns in [2^s, 2^(s+1)) */

enum gt_op {
	GT_OP_SEND,
	GT_OP_RECV,
	GT_OP_SELECT,
	GT_NR_OPS,
};

struct gt_chan {
	__u64 make;		/* gochan_make: 1 if traced from its creation */
	__u64 send;		/* gochan_send calls */
	__u64 sent;		/* elements they moved (ret > 0 summed) */
	__u64 recv;		/* gochan_recv calls */
	__u64 received;		/* elements they moved */
	__u64 block;		/* gochan_block: a task went to sleep */
	__u64 wake;		/* gochan_wake: a partner completed a sleeper */
	__u64 close;		/* gochan_close calls (ret 0 or -EPIPE) */
	__u64 select;		/* gochan_select calls that chose this channel */
	__u64 errors;		/* send/recv/close/select calls that failed */
	__u64 wait_ns;		/* time the send/recv/select calls slept */
	__u32 elem_size;	/* from make, else from the first send/recv */
	__u32 capacity;		/* from make; 0 if make was not traced */
	__s32 pid;		/* tgid of the creator, else of the first caller */
	__u32 flags;		/* GT_CHAN_* */
};

#define GT_CHAN_MADE	(1u << 0)	/* elem_size and capacity are known */

struct gt_hist {
	__u64 count;		/* calls that slept */
	__u64 sum_ns;		/* their total wait */
	__u64 slots[GT_HIST_SLOTS];
};

#endif /* GOCHAN_TOP_H */
