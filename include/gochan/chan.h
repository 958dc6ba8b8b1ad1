/* SPDX-License-Identifier: MIT */
/*
 * gochan/chan.h - Go's channels and select for goroutines (see <gochan/sched.h>).
 *
 * A struct go_chan is either
 *   - an in-process channel (go_chan_make): Go's hchan, a lock, a ring of cap elements,
 *     a queue of blocked senders and one of blocked receivers, with Go's semantics exactly;
 *   - a kernel channel fd wrapped in the same API (go_chan_from_fd, <gochan/kchan.h>): it may
 *     be shared with other processes; its goroutines park on the scheduler's poller (queued
 *     io_uring commands), not on their threads.
 * Every call below takes either kind, and one select may mix both.
 *
 * Semantics (Go's, runtime/chan.go):
 *   - Unbuffered (cap 0): a send completes only when a receiver takes the value; a receiver
 *     already waiting is handed the value directly (copied onto its stack), and so is a
 *     sender already waiting when a receiver comes. The receive happens before the send
 *     completes.
 *   - Buffered: a ring of cap elements. Blocked senders and blocked receivers are each
 *     served in arrival order (FIFO); a receiver that frees a slot moves the oldest blocked
 *     sender's element into it, so a newcomer never overtakes a blocked sender.
 *   - Close: later and blocked sends fail (-EPIPE: where Go panics); receivers drain what is
 *     buffered, then get ok = false at once; every blocked party is woken.
 *   - The nil channel (NULL): sends and receives block forever (the deadlock detector sees
 *     them); in a select its cases are never chosen; closing it is an error (-EINVAL).
 *   - Elements are elem_size bytes copied in and out (0 bytes: a signal channel, Go's
 *     chan struct{}; element pointers may then be NULL).
 *
 * Blocking calls park the goroutine, not its thread. Outside a goroutine (a plain thread)
 * they block the thread, as sched.h's go_park does; deadlines hold there too, whether a
 * scheduler runs or not.
 *
 * Memory: a channel from go_chan_make() or go_chan_from_fd() lives until go_chan_free(); one
 * from go_chan_new() or go_chan_new_fd() is a collected object (<gochan/gc.h>), reclaimed by
 * the collector once unreachable. Values buffered in a go_chan_make() channel, or in a
 * kernel channel, are not seen by the collector: a channel that carries pointers to
 * collected objects must be a go_chan_new() one (its ring is scanned).
 *
 * Conventions: 0 (or a count, or an index) on success, a negative errno value on failure;
 * errno is never set. Deadlines are absolute CLOCK_MONOTONIC nanoseconds (go_now()); a
 * negative deadline is none (wait for good), for every call and form here, as -1 is in
 * <gochan/sched.h> and for kernel channels.
 */
#ifndef GOCHAN_CHAN_H
#define GOCHAN_CHAN_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gochan/sched.h>

#ifdef __cplusplus
extern "C" {
#endif

struct go_chan;

/* ---- Making and freeing ----------------------------------------------------------------- */

/*
 * go_chan_make - make an in-process channel, Go's make(chan T, cap).
 * @chp:       set to the new channel on success (left alone on failure)
 * @elem_size: bytes per element, 0 (signal channel) to GO_CHAN_ELEM_SIZE_MAX
 * @cap:       ring slots; 0 = unbuffered
 * Returns 0; -EINVAL (elem_size too big, or elem_size * cap overflows); -ENOMEM.
 */
#define GO_CHAN_ELEM_SIZE_MAX 65536u
int go_chan_make(struct go_chan **chp, size_t elem_size, size_t cap);

/*
 * go_chan_new - a collected in-process channel, Go's make(chan T, cap) under a collector:
 * the channel (its hchan and its ring, one object) comes from go_new() (<gochan/gc.h>) and
 * is reclaimed, with whatever it still buffers, once nothing reaches it. It is reachable
 * while a pointer to it sits where the collector looks: a goroutine's stack (a goroutine
 * blocked on it, in a send, a receive or a select, holds one there: it keeps the channel
 * alive, Go's sudog), a collected object, a global, a registered root. Not in malloc'd
 * memory (register it, go_gc_root_add) nor in another process. A blocked select holds its
 * in-process channels itself, wherever its case array is (Go's sudogs: on its stack for up
 * to 16 cases, beyond that in memory it registers as a root while it runs); a
 * go_chan_new_fd() handle only through the case array: keep that where the collector looks
 * (on the stack, as GO_SELECT does for up to 8 cases), or hold the handle elsewhere.
 * @flags: GO_CHAN_NOSCAN: the elements hold no pointer to a collected object (integers,
 *         pointers to malloc'd memory ...): the ring is never scanned, the copies in and
 *         out are plain memcpy. Without it the ring is scanned conservatively (a buffered
 *         value keeps its pointees alive; a received one no longer does, its slot is
 *         cleared) and every copy of an element in or out of a channel, a direct hand-off
 *         to a blocked goroutine's variable included, goes through the write barrier
 *         (go_wb_memmove): such a channel may be used by goroutines only (a plain thread's
 *         copy while the collector marks is a fatal error, <gochan/gc.h> Threads).
 * Everything else is go_chan_make()'s: the same operations, select, close. go_chan_free()
 * on it does nothing (the collector frees it), so code written for either kind works.
 * Call it from a goroutine (go_new()'s rule).
 * Returns 0; -EINVAL (elem_size too big, elem_size * cap overflows, an unknown flag);
 * -ENOMEM.
 */
#define GO_CHAN_NOSCAN 0x1u
int go_chan_new(struct go_chan **chp, size_t elem_size, size_t cap, unsigned flags);

/*
 * go_chan_from_fd - the channel API over a kernel channel fd (<gochan/kchan.h>).
 * @fd:    a channel fd (gochan_make, gochan_open, inherited, SCM_RIGHTS)
 * @flags: GO_CHAN_FD_OWN: go_chan_free() closes fd too
 *
 * Operations first try the kernel's non-blocking form; when it would block, the operation is
 * queued inside the kernel channel as an io_uring command (go_kchan_send/recv of
 * <gochan/kchan.h>) and the goroutine parks: its thread runs other goroutines, and it
 * waits in the channel as a blocked thread would, so it meets a sender, receiver or select
 * of any process, on unbuffered channels too.
 * Returns 0; -EBADF, -ENOTTY (not a channel), -ENOMEM.
 */
#define GO_CHAN_FD_OWN 0x1u
int go_chan_from_fd(struct go_chan **chp, int fd, unsigned flags);

/*
 * go_chan_new_fd - go_chan_from_fd() with a collected handle: the struct go_chan is a
 * collected object (go_new, noscan) and, with GO_CHAN_FD_OWN, a finalizer closes fd once
 * the handle is unreachable (Go's os.File: run by the finalizer goroutine after the cycle
 * that found it so, <gochan/gc.h>). Without GO_CHAN_FD_OWN the fd stays the caller's.
 * An operation in progress on the handle keeps it alive; a program that goes on using the
 * fd number alone (go_chan_fd()) must keep the handle reachable meanwhile (go_keep_alive).
 * go_chan_free() on it closes an owned fd at once and drops the finalizer (os.File.Close);
 * the handle then fails with -EBADF, and its memory is the collector's.
 * Call it from a goroutine. Returns 0; -EINVAL (an unknown flag); -EBADF, -ENOTTY (not a
 * channel); -ENOMEM.
 */
int go_chan_new_fd(struct go_chan **chp, int fd, unsigned flags);

/* go_chan_fd - the kernel fd of a channel made by go_chan_from_fd or go_chan_new_fd (-EBADF
 * once go_chan_free closed a collected one's); -EINVAL for an in-process channel (and for
 * NULL). */
int go_chan_fd(const struct go_chan *c);

/*
 * go_chan_free - free a channel (NULL: nothing). No goroutine may be blocked on it or use it
 * afterwards (the caller knows: typically after close and after every user has finished);
 * one blocked on it makes go_chan_free print a message and abort().
 * A kernel channel's fd is closed when GO_CHAN_FD_OWN was given; the kernel channel itself
 * lives while any fd refers to it.
 * Collected channels (go_chan_new, go_chan_new_fd): their memory is the collector's, never
 * freed here; a go_chan_new() one is left as it is (goroutines may go on using it), a
 * go_chan_new_fd() one has its owned fd closed now (see there).
 */
void go_chan_free(struct go_chan *c);

/* ---- Send, receive, close ------------------------------------------------------------------ */

/*
 * go_chan_send - Go's "c <- v": send elem_size bytes from @elem.
 * Blocks until a receiver has taken it (unbuffered) or it is in the ring.
 * Returns 0; -EPIPE: the channel is closed or was closed while this send waited, nothing was
 * sent (Go panics here; a select's send case follows the same rule, see go_select);
 * -EINVAL: @elem is NULL and the channel's elem_size is not 0, nothing was sent (C only:
 * Go cannot pass a missing value). Nil channel: never returns. Kernel channels: as
 * gochan_send().
 */
int go_chan_send(struct go_chan *c, const void *elem);

/*
 * go_chan_recv - Go's "v, ok := <-c": receive into @elem (elem_size bytes).
 * @ok: set true when a value was received, false when the channel is closed and drained
 *      (then @elem is zero-filled, as Go yields the zero value); may be NULL.
 * Returns 0. Nil channel: never returns. Kernel channels: as gochan_recv().
 */
int go_chan_recv(struct go_chan *c, void *elem, bool *ok);

/* go_chan_try_send / go_chan_try_recv - the same without blocking, Go's select with one
 * case and a default. Return -EAGAIN when the operation would block (always, on NULL);
 * otherwise the errors of go_chan_send / go_chan_recv (-EPIPE, -EINVAL). */
int go_chan_try_send(struct go_chan *c, const void *elem);
int go_chan_try_recv(struct go_chan *c, void *elem, bool *ok);

/* go_chan_send_until / go_chan_recv_until - the same, giving up at @deadline_ns with
 * -ETIMEDOUT (nothing moved). A ready operation completes even past the deadline. Errors
 * as go_chan_send / go_chan_recv (-EPIPE, -EINVAL). */
int go_chan_send_until(struct go_chan *c, const void *elem, int64_t deadline_ns);
int go_chan_recv_until(struct go_chan *c, void *elem, bool *ok, int64_t deadline_ns);

/*
 * go_chan_close - Go's close(c). Every blocked receiver gets ok = false (after the buffered
 * elements are drained by whoever receives first), every blocked sender -EPIPE.
 * Returns 0; -EPIPE: already closed (Go panics); -EINVAL: c is NULL (Go panics).
 */
int go_chan_close(struct go_chan *c);

/* go_chan_len - elements buffered now, Go's len(c); go_chan_cap - Go's cap(c);
 * go_chan_elem_size. All 0 for NULL. A snapshot: it may change at once. */
size_t go_chan_len(const struct go_chan *c);
size_t go_chan_cap(const struct go_chan *c);
size_t go_chan_elem_size(const struct go_chan *c);

/* ---- Select: the array form ----------------------------------------------------------------- */

/*
 * struct go_select_case - one case of a select.
 * @chan: the channel; NULL is the nil channel: the case is never chosen
 * @dir:  GO_SELECT_SEND or GO_SELECT_RECV
 * @elem: SEND: the element to send (NULL only for elem_size 0: else go_select fails with
 *        -EINVAL before looking at any channel); RECV: where to receive (elem_size bytes;
 *        NULL allowed for elem_size 0, or to discard the value)
 * @ok:   out, for the chosen case only: RECV: true = a value was received, false = the
 *        channel is closed and drained (elem zero-filled); SEND: true = sent, false = the
 *        channel is closed: nothing sent, and go_select returns -EPIPE, not the index
 */
enum go_select_dir { GO_SELECT_SEND = 1, GO_SELECT_RECV = 2 };

struct go_select_case {
	struct go_chan *chan;
	enum go_select_dir dir;
	void *elem;
	bool ok;
};

#define GO_SEND_CASE(c, elemp) ((struct go_select_case){ .chan = (c), .dir = GO_SELECT_SEND, \
		.elem = (void *)(elemp) })
#define GO_RECV_CASE(c, elemp) ((struct go_select_case){ .chan = (c), .dir = GO_SELECT_RECV, \
		.elem = (elemp) })

/*
 * go_select - Go's select: exactly one case proceeds; returns its index.
 *
 * If some cases are ready (a receive that would not block, including on a closed channel;
 * a send that would not block, including on a closed channel), one is chosen uniformly at
 * random among them. Else the goroutine waits on all of them
 * at once and the first that becomes ready proceeds. Duplicate channels are allowed; nil
 * cases are never chosen; n == 0 (or only nil cases) blocks forever, as "select {}".
 * Channels are locked in address order (no deadlock between selects in any order).
 *
 * go_try_select: the same with Go's "default:": -EAGAIN when no case is ready.
 * go_select_until: gives up with -ETIMEDOUT at deadline_ns (go_now() based; negative: never,
 * as go_select).
 *
 * Kernel channel cases: ready means the kernel's non-blocking operation succeeded. To wait,
 * the kernel cases are queued inside their channels as one kernel select (GOCHAN_IOC_SELECT
 * as an io_uring command, go_kchan_select): the goroutine parks, not its thread, and the
 * select can rendezvous with anything that waits in a kernel channel, including another
 * process's select, mixed or not. With in-process cases as well, the kernel select waits
 * beside them; an in-process partner cancels it before it proceeds, and proceeds only if
 * the kernel had not already completed it, so exactly one case runs. Without io_uring
 * commands (no io_uring, or a module without them) the kernel cases are polled instead:
 * such a select can then meet a partner only if that partner waits inside the channel.
 * Closing a kernel case's fd while the select waits makes it try again: it then fails
 * with that case's error (-EBADF), unless another case is ready; if the fd's number was
 * reused meanwhile, the case names whatever channel it names now.
 *
 * A send on a closed channel has one rule, a plain send's or a case's: -EPIPE, nothing sent
 * (Go panics on both). So when the chosen case is a send case whose channel is closed
 * (found closed, or closed while the select waited), go_select returns -EPIPE and that
 * case's ok is false; GO_SELECT then runs GO_SELECT_ERROR's body, or aborts without one, as
 * Go's panic would end the program. A select that must survive a closing peer checks
 * go_chan_try_send's -EPIPE first, or receives on a "done" channel instead of sending.
 *
 * Errors: -EPIPE (above); -EINVAL (bad dir; a send case's elem NULL with elem_size != 0);
 * -ENOMEM (more than 16 cases need memory, or a goroutine's deadline timer does); a kernel
 * case's errors (-EBADF ...), as <gochan/kchan.h> reports them.
 */
int go_select(struct go_select_case *cases, unsigned n);
int go_try_select(struct go_select_case *cases, unsigned n);
int go_select_until(struct go_select_case *cases, unsigned n, int64_t deadline_ns);

/* ---- Select: the readable form -------------------------------------------------------------- */

/*
 * GO_SELECT { cases } - Go's select statement for C:
 *
 *	int job; bool ok;
 *	GO_SELECT {
 *	GO_CASE_RECV(jobs, &job, &ok)
 *		if (!ok) return;        // jobs closed
 *		work(job);
 *	GO_CASE_SEND(results, &res)
 *		sent++;
 *	GO_CASE_RECV(go_ctx_done(ctx), NULL, NULL)
 *		return;                 // cancelled
 *	GO_TIMEOUT(50 * 1000000)        // or GO_DEADLINE(abs_ns), or GO_DEFAULT
 *		puts("idle");
 *	}
 *
 * Each GO_CASE_* (and GO_DEFAULT, GO_TIMEOUT, GO_DEADLINE) is followed by one statement
 * (use braces for more), run only when that case is chosen. The block runs twice: first to
 * collect the cases (no body runs), then, after the select, to run the chosen body; so the
 * case list must not depend on anything the bodies change, and case expressions are
 * evaluated twice (keep them free of side effects). "break" leaves the select; "continue"
 * is reserved (it restarts collection). Cases may come from loops (for (...) GO_CASE_RECV).
 * Select errors other than -EAGAIN/-ETIMEDOUT (a bad kernel fd ...) run GO_SELECT_ERROR's
 * body if there is one, with go_select_err holding the error; without one they abort().
 */
struct go_select_builder {
	int phase;              /* 0 collect, 1 run the chosen body, 2 done */
	int chosen;             /* case index, -EAGAIN (default), -ETIMEDOUT, or an error */
	unsigned n, cap, at;
	bool has_default, has_deadline, has_error, chosen_ok;
	int64_t deadline;
	struct go_select_case *cases;
	struct go_select_case inline_cases[8];
};

int go_select_builder_step_(struct go_select_builder *b);
bool go_select_builder_case_(struct go_select_builder *b, struct go_chan *c,
			     enum go_select_dir dir, void *elem, bool *ok);

#define GO_SELECT                                                                          \
	for (struct go_select_builder go_sel_ = { .phase = 0 }; go_sel_.phase < 2;           \
	     go_sel_.phase = go_select_builder_step_(&go_sel_))                             \
		if (0) {                                                                   \
		} else

#define GO_CASE_RECV(c, elemp, okp)                                                        \
	if (go_select_builder_case_(&go_sel_, (c), GO_SELECT_RECV, (elemp), (okp)))
#define GO_CASE_SEND(c, elemp)                                                             \
	if (go_select_builder_case_(&go_sel_, (c), GO_SELECT_SEND, (void *)(elemp), NULL))
#define GO_DEFAULT                                                                         \
	if ((go_sel_.phase == 0 && (go_sel_.has_default = true) && 0) ||                    \
	    (go_sel_.phase == 1 && go_sel_.chosen == -EAGAIN))
#define GO_DEADLINE(abs_ns)                                                                \
	if ((go_sel_.phase == 0 && (go_sel_.has_deadline = true) &&                         \
	     ((go_sel_.deadline = (abs_ns)), 0)) ||                                         \
	    (go_sel_.phase == 1 && go_sel_.chosen == -ETIMEDOUT))
#define GO_TIMEOUT(rel_ns) GO_DEADLINE(go_now() + (int64_t)(rel_ns))
#define GO_SELECT_ERROR                                                                    \
	if ((go_sel_.phase == 0 && (go_sel_.has_error = true) && 0) ||                      \
	    (go_sel_.phase == 1 && go_sel_.chosen < 0 && go_sel_.chosen != -EAGAIN &&         \
	     go_sel_.chosen != -ETIMEDOUT))
#define go_select_err (go_sel_.chosen)

#ifdef __cplusplus
}
#endif

#endif /* GOCHAN_CHAN_H */
