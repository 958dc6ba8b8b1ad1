// SPDX-License-Identifier: GPL-2.0
/*
 * gochan-top's BPF side: programs on the gochan tracepoints (kmod/
 * gochan_trace.h), each adding to the channel's counts in the chans map and,
 * for calls that slept, to the op's wait histogram (see gochan_top.h).
 *
 * Two sets, one loaded (userspace picks with bpf_program__set_autoload):
 *   gt_btf_*  tp_btf/gochan_*: BTF-typed raw tracepoints, attached through
 *             the module's BTF (its btf_trace_gochan_* typedefs); they get
 *             the TP_PROTO arguments, with no event record built;
 *   gt_tp_*   tracepoint/gochan/gochan_*: the classic perf-event attach,
 *             reading the module's struct trace_event_raw_gochan_* records,
 *             declared here with preserve_access_index: libbpf relocates
 *             every field access against the module's BTF at load time, so
 *             a module whose records grow or move fields needs no rebuild.
 * Both call the same do_*() helpers.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "gochan_top.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by userspace before load: trace only this tgid (0 = every task). */
const volatile pid_t target_tgid = 0;

/* Events lost because the chans map was full. */
__u64 dropped = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GT_MAX_CHANS);
	__type(key, __u64);
	__type(value, struct gt_chan);
} chans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GT_NR_OPS);
	__type(key, __u32);
	__type(value, struct gt_hist);
} hists SEC(".maps");

/* The module's event records (TP_STRUCT__entry), relocated by CO-RE. */
struct trace_event_raw_gochan_make {
	struct trace_entry ent;
	u64 id;
	u32 elem_size;
	u32 capacity;
	pid_t pid;
} __attribute__((preserve_access_index));

struct trace_event_raw_gochan_xfer {
	struct trace_entry ent;
	u64 id;
	u32 elem_size;
	u32 nelem;
	long ret;
	u64 wait_ns;
	pid_t pid;
} __attribute__((preserve_access_index));

struct trace_event_raw_gochan_sleep {
	struct trace_entry ent;
	u64 id;
	int op;
	pid_t pid;
} __attribute__((preserve_access_index));

struct trace_event_raw_gochan_close {
	struct trace_entry ent;
	u64 id;
	int ret;
	pid_t pid;
} __attribute__((preserve_access_index));

struct trace_event_raw_gochan_select {
	struct trace_entry ent;
	u32 ncases;
	long ret;
	u64 id;
	u64 wait_ns;
	pid_t pid;
} __attribute__((preserve_access_index));

static __always_inline bool skip(pid_t pid)
{
	return target_tgid && pid != target_tgid;
}

/* The channel's entry, made on first sight; NULL (and counted) if full. */
static __always_inline struct gt_chan *chan_get(u64 id, pid_t pid)
{
	struct gt_chan *c = bpf_map_lookup_elem(&chans, &id);
	struct gt_chan zero = { .pid = pid };

	if (c)
		return c;
	/* Another CPU may have made it meanwhile: then NOEXIST fails and
	 * the lookup below finds theirs. */
	bpf_map_update_elem(&chans, &id, &zero, BPF_NOEXIST);
	c = bpf_map_lookup_elem(&chans, &id);
	if (!c)
		__sync_fetch_and_add(&dropped, 1);
	return c;
}

/* floor(log2(v)) for v > 0. */
static __always_inline u64 log2_u64(u64 v)
{
	u64 r = 0, shift;

	shift = (v > 0xffffffffULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffff) << 4; v >>= shift; r |= shift;
	shift = (v > 0xff) << 3; v >>= shift; r |= shift;
	shift = (v > 0xf) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline void hist_add(u32 op, u64 wait_ns)
{
	struct gt_hist *h;
	u64 slot;

	if (!wait_ns)
		return;
	h = bpf_map_lookup_elem(&hists, &op);
	if (!h)
		return;
	/* log2 of a u64 is at most 63 already; the check is for the
	 * verifier, which cannot see that through the shifts (and the
	 * barrier keeps clang from folding the check into them). */
	slot = log2_u64(wait_ns);
	barrier_var(slot);
	if (slot >= GT_HIST_SLOTS)
		return;
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum_ns, wait_ns);
	__sync_fetch_and_add(&h->slots[slot], 1);
}

/* gochan_make: a channel is born (pid: its creator's tgid). */
static __always_inline void do_make(u64 id, u32 elem_size, u32 capacity,
				    pid_t pid)
{
	struct gt_chan *c;

	if (skip(pid))
		return;
	c = chan_get(id, pid);
	if (!c)
		return;
	c->elem_size = elem_size;
	c->capacity = capacity;
	c->pid = pid;
	c->flags |= GT_CHAN_MADE;
	__sync_fetch_and_add(&c->make, 1);
}

/* A send or receive call: one more call, its elements, its wait. */
static __always_inline void do_xfer(u32 op, u64 id, u32 elem_size, long ret,
				    u64 wait_ns, pid_t pid)
{
	struct gt_chan *c;

	if (skip(pid))
		return;
	c = chan_get(id, pid);
	if (!c)
		return;
	if (!(c->flags & GT_CHAN_MADE))
		c->elem_size = elem_size;
	if (op == GT_OP_SEND) {
		__sync_fetch_and_add(&c->send, 1);
		if (ret > 0)
			__sync_fetch_and_add(&c->sent, ret);
	} else {
		__sync_fetch_and_add(&c->recv, 1);
		if (ret > 0)
			__sync_fetch_and_add(&c->received, ret);
	}
	if (ret < 0)
		__sync_fetch_and_add(&c->errors, 1);
	if (wait_ns)
		__sync_fetch_and_add(&c->wait_ns, wait_ns);
	hist_add(op, wait_ns);
}

/* gochan_block (a task goes to sleep) or gochan_wake (pid: the woken). */
static __always_inline void do_sleep(bool wake, u64 id, pid_t pid)
{
	struct gt_chan *c;

	if (skip(pid))
		return;
	c = chan_get(id, pid);
	if (!c)
		return;
	if (wake)
		__sync_fetch_and_add(&c->wake, 1);
	else
		__sync_fetch_and_add(&c->block, 1);
}

static __always_inline void do_close(u64 id, int ret, pid_t pid)
{
	struct gt_chan *c;

	if (skip(pid))
		return;
	c = chan_get(id, pid);
	if (!c)
		return;
	__sync_fetch_and_add(&c->close, 1);
	if (ret < 0)
		__sync_fetch_and_add(&c->errors, 1);
}

/* A select counts on the channel of the case that ran (id 0 if none). */
static __always_inline void do_select(long ret, u64 id, u64 wait_ns,
				      pid_t pid)
{
	struct gt_chan *c;

	if (skip(pid))
		return;
	c = chan_get(id, pid);
	if (!c)
		return;
	__sync_fetch_and_add(&c->select, 1);
	if (ret < 0)
		__sync_fetch_and_add(&c->errors, 1);
	if (wait_ns)
		__sync_fetch_and_add(&c->wait_ns, wait_ns);
	hist_add(GT_OP_SELECT, wait_ns);
}

/* tp_btf: the TP_PROTO arguments; the tgid is current's, as the events'
 * TP_fast_assign takes it, but for block and wake, which name a task (a
 * pointer newer verifiers (6.12) take as maybe-NULL: hence the checks). */

static __always_inline pid_t current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

SEC("tp_btf/gochan_make")
int BPF_PROG(gt_btf_make, u64 id, u32 elem_size, u32 capacity)
{
	do_make(id, elem_size, capacity, current_tgid());
	return 0;
}

SEC("tp_btf/gochan_send")
int BPF_PROG(gt_btf_send, u64 id, u32 elem_size, u32 nelem, long ret,
	     u64 wait_ns)
{
	do_xfer(GT_OP_SEND, id, elem_size, ret, wait_ns, current_tgid());
	return 0;
}

SEC("tp_btf/gochan_recv")
int BPF_PROG(gt_btf_recv, u64 id, u32 elem_size, u32 nelem, long ret,
	     u64 wait_ns)
{
	do_xfer(GT_OP_RECV, id, elem_size, ret, wait_ns, current_tgid());
	return 0;
}

SEC("tp_btf/gochan_block")
int BPF_PROG(gt_btf_block, u64 id, int op, struct task_struct *task)
{
	if (task)
		do_sleep(false, id, task->tgid);
	return 0;
}

SEC("tp_btf/gochan_wake")
int BPF_PROG(gt_btf_wake, u64 id, int op, struct task_struct *task)
{
	if (task)
		do_sleep(true, id, task->tgid);
	return 0;
}

SEC("tp_btf/gochan_close")
int BPF_PROG(gt_btf_close, u64 id, int ret)
{
	do_close(id, ret, current_tgid());
	return 0;
}

SEC("tp_btf/gochan_select")
int BPF_PROG(gt_btf_select, u32 ncases, long ret, u64 id, u64 wait_ns)
{
	do_select(ret, id, wait_ns, current_tgid());
	return 0;
}

/* tracepoint: the event records. */

SEC("tracepoint/gochan/gochan_make")
int gt_tp_make(struct trace_event_raw_gochan_make *ctx)
{
	do_make(ctx->id, ctx->elem_size, ctx->capacity, ctx->pid);
	return 0;
}

SEC("tracepoint/gochan/gochan_send")
int gt_tp_send(struct trace_event_raw_gochan_xfer *ctx)
{
	do_xfer(GT_OP_SEND, ctx->id, ctx->elem_size, ctx->ret, ctx->wait_ns,
		ctx->pid);
	return 0;
}

SEC("tracepoint/gochan/gochan_recv")
int gt_tp_recv(struct trace_event_raw_gochan_xfer *ctx)
{
	do_xfer(GT_OP_RECV, ctx->id, ctx->elem_size, ctx->ret, ctx->wait_ns,
		ctx->pid);
	return 0;
}

SEC("tracepoint/gochan/gochan_block")
int gt_tp_block(struct trace_event_raw_gochan_sleep *ctx)
{
	do_sleep(false, ctx->id, ctx->pid);
	return 0;
}

SEC("tracepoint/gochan/gochan_wake")
int gt_tp_wake(struct trace_event_raw_gochan_sleep *ctx)
{
	do_sleep(true, ctx->id, ctx->pid);
	return 0;
}

SEC("tracepoint/gochan/gochan_close")
int gt_tp_close(struct trace_event_raw_gochan_close *ctx)
{
	do_close(ctx->id, ctx->ret, ctx->pid);
	return 0;
}

SEC("tracepoint/gochan/gochan_select")
int gt_tp_select(struct trace_event_raw_gochan_select *ctx)
{
	do_select(ctx->ret, ctx->id, ctx->wait_ns, ctx->pid);
	return 0;
}
