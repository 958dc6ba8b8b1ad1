/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gochan tracepoints: events/gochan/ in tracefs, and the "gochan" system for
 * bpftool and libbpf programs (tp/gochan/<event>, tp_btf with module BTF).
 *
 * Every event carries the channel id (0 for a select, which spans several)
 * and the tgid of the task concerned.  wait_ns is how long the operation
 * slept: 0 if it never blocked.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM gochan

#if !defined(_GOCHAN_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _GOCHAN_TRACE_H

#include <linux/sched.h>
#include <linux/tracepoint.h>

TRACE_EVENT(gochan_make,
	TP_PROTO(u64 id, u32 elem_size, u32 capacity),
	TP_ARGS(id, elem_size, capacity),
	TP_STRUCT__entry(
		__field(u64,	id)
		__field(u32,	elem_size)
		__field(u32,	capacity)
		__field(pid_t,	pid)
	),
	TP_fast_assign(
		__entry->id		= id;
		__entry->elem_size	= elem_size;
		__entry->capacity	= capacity;
		__entry->pid		= task_tgid_nr(current);
	),
	TP_printk("id=%llu elem_size=%u capacity=%u pid=%d",
		  __entry->id, __entry->elem_size, __entry->capacity,
		  __entry->pid)
);

/* A send or a receive call: what it asked for, what moved, how it ended. */
DECLARE_EVENT_CLASS(gochan_xfer,
	TP_PROTO(u64 id, u32 elem_size, u32 nelem, long ret, u64 wait_ns),
	TP_ARGS(id, elem_size, nelem, ret, wait_ns),
	TP_STRUCT__entry(
		__field(u64,	id)
		__field(u32,	elem_size)
		__field(u32,	nelem)		/* elements asked for */
		__field(long,	ret)		/* elements moved, or -errno */
		__field(u64,	wait_ns)
		__field(pid_t,	pid)
	),
	TP_fast_assign(
		__entry->id		= id;
		__entry->elem_size	= elem_size;
		__entry->nelem		= nelem;
		__entry->ret		= ret;
		__entry->wait_ns	= wait_ns;
		__entry->pid		= task_tgid_nr(current);
	),
	TP_printk("id=%llu elem_size=%u nelem=%u ret=%ld wait_ns=%llu pid=%d",
		  __entry->id, __entry->elem_size, __entry->nelem, __entry->ret,
		  __entry->wait_ns, __entry->pid)
);

DEFINE_EVENT(gochan_xfer, gochan_send,
	TP_PROTO(u64 id, u32 elem_size, u32 nelem, long ret, u64 wait_ns),
	TP_ARGS(id, elem_size, nelem, ret, wait_ns));

DEFINE_EVENT(gochan_xfer, gochan_recv,
	TP_PROTO(u64 id, u32 elem_size, u32 nelem, long ret, u64 wait_ns),
	TP_ARGS(id, elem_size, nelem, ret, wait_ns));

#define GOCHAN_TRACE_OP_SEND	1
#define GOCHAN_TRACE_OP_RECV	2
#define GOCHAN_TRACE_OP_SELECT	3

#define show_gochan_op(op)						\
	__print_symbolic(op, { GOCHAN_TRACE_OP_SEND, "send" },		\
			     { GOCHAN_TRACE_OP_RECV, "recv" },		\
			     { GOCHAN_TRACE_OP_SELECT, "select" })

/* A task is about to sleep in an operation (block), or a partner completed
 * a sleeping task's operation (wake; pid is the woken task's tgid). */
DECLARE_EVENT_CLASS(gochan_sleep,
	TP_PROTO(u64 id, int op, struct task_struct *task),
	TP_ARGS(id, op, task),
	TP_STRUCT__entry(
		__field(u64,	id)
		__field(int,	op)
		__field(pid_t,	pid)
	),
	TP_fast_assign(
		__entry->id	= id;
		__entry->op	= op;
		__entry->pid	= task_tgid_nr(task);
	),
	TP_printk("id=%llu op=%s pid=%d", __entry->id,
		  show_gochan_op(__entry->op), __entry->pid)
);

DEFINE_EVENT(gochan_sleep, gochan_block,
	TP_PROTO(u64 id, int op, struct task_struct *task),
	TP_ARGS(id, op, task));

DEFINE_EVENT(gochan_sleep, gochan_wake,
	TP_PROTO(u64 id, int op, struct task_struct *task),
	TP_ARGS(id, op, task));

TRACE_EVENT(gochan_close,
	TP_PROTO(u64 id, int ret),
	TP_ARGS(id, ret),
	TP_STRUCT__entry(
		__field(u64,	id)
		__field(int,	ret)
		__field(pid_t,	pid)
	),
	TP_fast_assign(
		__entry->id	= id;
		__entry->ret	= ret;
		__entry->pid	= task_tgid_nr(current);
	),
	TP_printk("id=%llu ret=%d pid=%d", __entry->id, __entry->ret,
		  __entry->pid)
);

/* A select call: which case ran (on which channel), or -errno. */
TRACE_EVENT(gochan_select,
	TP_PROTO(u32 ncases, long ret, u64 id, u64 wait_ns),
	TP_ARGS(ncases, ret, id, wait_ns),
	TP_STRUCT__entry(
		__field(u32,	ncases)
		__field(long,	ret)		/* case index, or -errno */
		__field(u64,	id)		/* the case's channel, or 0 */
		__field(u64,	wait_ns)
		__field(pid_t,	pid)
	),
	TP_fast_assign(
		__entry->ncases		= ncases;
		__entry->ret		= ret;
		__entry->id		= id;
		__entry->wait_ns	= wait_ns;
		__entry->pid		= task_tgid_nr(current);
	),
	TP_printk("ncases=%u ret=%ld id=%llu wait_ns=%llu pid=%d",
		  __entry->ncases, __entry->ret, __entry->id,
		  __entry->wait_ns, __entry->pid)
);

#endif /* _GOCHAN_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE gochan_trace
#include <trace/define_trace.h>
