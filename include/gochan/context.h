/* SPDX-License-Identifier: MIT */
/*
 * gochan/context.h - Go's context package for C goroutines (context/context.go).
 *
 * A context carries a cancellation signal, a deadline and values down a tree of calls and
 * goroutines. Cancelling a context cancels its whole subtree; a cancelled child leaves its
 * parent (so long-lived parents do not accumulate dead children); a deadline cancels on time
 * (go_timer). go_ctx_done() is a channel closed on cancellation, usable in any select.
 *
 * Errors and causes are ints:
 *   go_ctx_err():   0 while not cancelled, then -ECANCELED (Go's context.Canceled) or
 *                   -ETIMEDOUT (Go's context.DeadlineExceeded).
 *   go_ctx_cause(): 0 while not cancelled, then the cause given to go_ctx_cancel_cause() or
 *                   to a *_cause constructor (any nonzero int, e.g. a -errno of your own), by
 *                   the first cancellation of this context or of an ancestor; without one,
 *                   the same as go_ctx_err().
 *
 * Lifetime: reference counts, explicit. Each go_ctx_with_*() gives the caller one reference;
 * go_ctx_ref() takes another (e.g. for a goroutine you hand the context to), go_ctx_release()
 * drops one. A child holds a reference to its parent. When the last reference goes, the
 * context is detached from its parent, its timer stopped, its pending AfterFuncs dropped
 * (they will not run), and its memory freed once no timer, AfterFunc or watcher still uses
 * it; this does not close its Done channel nor cancel anything observable (nobody holds it).
 * So the Go idiom "ctx, cancel := WithCancel(p); defer cancel()" is
 *	go_ctx_with_cancel(&ctx, p); ... go_ctx_cancel(ctx); go_ctx_release(ctx);
 * and forgetting the cancel no longer leaks. Background and TODO are static: ref and release
 * do nothing on them. A context is never NULL; passing NULL is a bug.
 *
 * Collected contexts (<gochan/gc.h>): every context made from go_ctx_background_gc(), or
 * from a context made so, is a collected object, and so is its Done channel (go_chan_new),
 * its kernel Done handle (go_chan_new_fd, whose finalizer closes the fd) and its AfterFunc
 * handles. go_ctx_ref and go_ctx_release do nothing on them: a collected context lives
 * while it is reachable, as in Go, and what reaches it is what reaches any object (a
 * goroutine's stack, a collected object, a global, a registered root; not malloc'd memory)
 * plus what the context package holds itself:
 *   - its cancel parent's children list, until it is cancelled (or its parent is): a child
 *     that is never cancelled lives as long as its parent, exactly Go's rule (go vet's
 *     lostcancel). Children of go_ctx_background_gc() itself are in no list (it is never
 *     cancelled); nor are value and without-cancel contexts;
 *   - an armed deadline timer, until it fires or the context is cancelled;
 *   - the watcher goroutine of a go_ctx_with_kchan context, until it is cancelled;
 *   - an AfterFunc handle (struct go_ctx_stop) that is reachable, and a running AfterFunc.
 * A cancelled context nothing reaches is reclaimed with its Done channel. What a value
 * context carries (go_ctx_with_value's value) is kept alive by it, as a Go context's is.
 * Collected contexts are for goroutines only: making one allocates (go_new), and cancel,
 * Done and AfterFunc store pointers through the write barrier (<gochan/gc.h> Threads).
 *
 * Who owns what, call by call, for contexts that are not collected ("a reference" is a
 * user reference, as above):
 *   go_ctx_with_*(&out, parent)  out: one reference, the caller's. parent: borrowed for the
 *                           call (the caller keeps its own); the child takes a reference of
 *                           its own on parent, dropped by the child's last release, so a
 *                           parent lives while any child is referenced.
 *   go_ctx_ref / release    take / drop one reference; release may free the context (and
 *                           then its chain of parents, as their last child goes).
 *   go_ctx_cancel*          borrows ctx; takes nothing, frees nothing: a cancelled context
 *                           lives until its last release (its error and Done stay readable).
 *                           It leaves its cancel parent's children list before returning.
 *   go_ctx_done             the channel belongs to ctx: valid while you hold a reference,
 *                           freed with ctx; never go_chan_free() or close it yourself.
 *   go_ctx_value            the value is the caller's as given to go_ctx_with_value: the
 *                           context stores the pointer, never frees it.
 *   go_ctx_after_func       arg stays the caller's; fn runs at most once. The stop handle
 *                           belongs to the context (see go_ctx_after_func).
 *   go_ctx_with_kchan       fd >= 0 is dup'ed: the caller keeps and closes its own; the
 *                           context's fd (go_ctx_fd) is the context's, closed when it is freed.
 * Internal references (a pending deadline timer, a running AfterFunc, a kchan watcher) keep a
 * context's memory, never its parent's, and never make it observable again.
 * go_ctx_debug_live() and go_ctx_debug_children() (end of this header) let a test see these
 * counts: a cancelled or released child leaves its parent, and a released tree is freed
 * (go_ctx_debug_live counts only contexts that are not collected).
 *
 * Thread safety: every call may be made from any goroutine or thread, concurrently.
 * AfterFunc functions run in their own goroutine. Deadline contexts need the scheduler
 * running (go_timer).
 *
 * Conventions: 0 on success or a negative errno value; errno is never set.
 */
#ifndef GOCHAN_CONTEXT_H
#define GOCHAN_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include <gochan/chan.h>

#ifdef __cplusplus
extern "C" {
#endif

struct go_ctx;

/* go_ctx_background - the root: never cancelled, no deadline, no values (Done is NULL,
 * the nil channel, never chosen in a select). go_ctx_todo - the same, to mark code that
 * has yet to be given a context. */
struct go_ctx *go_ctx_background(void);
struct go_ctx *go_ctx_todo(void);

/* go_ctx_background_gc - the root of collected contexts (see Lifetime): as
 * go_ctx_background, static and never cancelled; every context made from it is collected. */
struct go_ctx *go_ctx_background_gc(void);

/*
 * go_ctx_with_cancel - a child of @parent that go_ctx_cancel() cancels, as does the
 * cancellation of @parent. If @parent is already cancelled, so is the child, at once,
 * with the parent's error and cause.
 * go_ctx_with_cancel_cause - the same (any cancelable context takes go_ctx_cancel_cause();
 * this name exists for Go's WithCancelCause).
 * Returns 0 with *out set; -ENOMEM.
 */
int go_ctx_with_cancel(struct go_ctx **out, struct go_ctx *parent);
int go_ctx_with_cancel_cause(struct go_ctx **out, struct go_ctx *parent);

/*
 * go_ctx_with_deadline - as go_ctx_with_cancel, and cancelled with -ETIMEDOUT at @deadline_ns
 * (CLOCK_MONOTONIC, go_now()). If @parent's deadline is earlier, the child simply inherits it
 * (Go's rule); a deadline already past cancels at once.
 * go_ctx_with_timeout - deadline go_now() + @timeout_ns.
 * The *_cause forms set the cause the deadline cancellation reports (go_ctx_cause()).
 * Returns 0; -ENOMEM; -EPERM (the scheduler is not running: no timers).
 */
int go_ctx_with_deadline(struct go_ctx **out, struct go_ctx *parent, int64_t deadline_ns);
int go_ctx_with_deadline_cause(struct go_ctx **out, struct go_ctx *parent, int64_t deadline_ns,
			       int cause);
int go_ctx_with_timeout(struct go_ctx **out, struct go_ctx *parent, int64_t timeout_ns);
int go_ctx_with_timeout_cause(struct go_ctx **out, struct go_ctx *parent, int64_t timeout_ns,
			      int cause);

/* go_ctx_with_value - a child carrying (key, value): go_ctx_value(child, key) finds it;
 * keys compare as pointers (use the address of a static of your own). Done, Err, Cause and
 * Deadline are the parent's. Returns 0; -ENOMEM. */
int go_ctx_with_value(struct go_ctx **out, struct go_ctx *parent, const void *key, void *value);

/* go_ctx_without_cancel - a child with the parent's values but never cancelled (no
 * deadline, Done NULL), whatever happens to the parent. Returns 0; -ENOMEM. */
int go_ctx_without_cancel(struct go_ctx **out, struct go_ctx *parent);

/*
 * go_ctx_with_kchan - as go_ctx_with_cancel, with a Done channel that is a kernel channel
 * (a signal channel: element size 0), so that other processes can wait for the cancel:
 * cancelling closes the kernel channel (GOCHAN_IOC_CLOSE), which wakes its waiters in every
 * process (a select, poll, read ... on their fd); and a close by another process cancels
 * this context (a watcher goroutine parks on the fd). Never send on that channel.
 * @fd: -1 to make a new kernel channel; else a channel fd received from elsewhere (it is
 *      dup'ed: the caller keeps its own fd).
 * go_ctx_fd() gives the fd to pass on (fork, SCM_RIGHTS, or a named channel).
 * Returns 0; -ENOMEM; gochan_make()'s errors (-ENOENT: module not loaded ...); -EBADF.
 */
int go_ctx_with_kchan(struct go_ctx **out, struct go_ctx *parent, int fd);
int go_ctx_fd(struct go_ctx *ctx);  /* the kernel channel fd, or -EINVAL */

/*
 * go_ctx_cancel - Go's CancelFunc: cancel @ctx and its subtree with -ECANCELED, close Done,
 * run AfterFuncs, detach from the parent. Later calls do nothing: a call that finds @ctx
 * already cancelled, or being cancelled by another thread (or by an ancestor's cancel), returns
 * at once, possibly before that other cancel has reached the whole subtree. Go's cancelCtx
 * does the same. When any call returns, go_ctx_err(@ctx) is set; Done is closed by the call
 * that did the cancelling, at most a moment later for a racing call.
 * go_ctx_cancel_cause - the same, recording @cause (0 means "no cause": Cause = Err).
 * Returns 0; -EINVAL if @ctx is not cancelable (background, value, without-cancel).
 */
int go_ctx_cancel(struct go_ctx *ctx);
int go_ctx_cancel_cause(struct go_ctx *ctx, int cause);

/* go_ctx_err - 0, -ECANCELED or -ETIMEDOUT (see above). go_ctx_cause - see above. */
int go_ctx_err(struct go_ctx *ctx);
int go_ctx_cause(struct go_ctx *ctx);

/* go_ctx_done - a signal channel closed when @ctx is cancelled (receive on it: ok = false),
 * or NULL if @ctx can never be cancelled. The same channel every call, owned by the context
 * (valid while you hold a reference); made on first use. */
struct go_chan *go_ctx_done(struct go_ctx *ctx);

/* go_ctx_deadline - true and *deadline_ns set if @ctx has a deadline. */
bool go_ctx_deadline(struct go_ctx *ctx, int64_t *deadline_ns);

/* go_ctx_value - the value of the nearest ancestor (or ctx itself) made with @key, or NULL. */
void *go_ctx_value(struct go_ctx *ctx, const void *key);

/* go_ctx_ref - take a reference; returns ctx. go_ctx_release - drop one (see Lifetime).
 * Both do nothing on the roots and on collected contexts. */
struct go_ctx *go_ctx_ref(struct go_ctx *ctx);
void go_ctx_release(struct go_ctx *ctx);

/*
 * go_ctx_after_func - Go's AfterFunc: run fn(arg) in its own goroutine once @ctx is
 * cancelled (at once if it already is). At most once.
 * @stop: if not NULL, set to a handle for go_ctx_stop(). The handle belongs to @ctx (to
 *        its nearest cancelable ancestor): it stays valid while the caller holds a
 *        reference to @ctx, and is freed by the last go_ctx_release(), called or not (a
 *        long-lived context keeps the handles taken on it until then). On a collected
 *        context the handle is a collected object: valid while reachable, freed after.
 * go_ctx_stop - Go's stop function: prevent fn from running; may be called any number of
 * times, by any goroutine, while @ctx is referenced. Returns true if this call stopped it
 * (fn will never run); false if fn has already been started, or an earlier call stopped it.
 * On a context that can never be cancelled the handle is a shared static one and every call
 * returns true (Go: the first one only; fn never runs either way).
 * Returns 0; -ENOMEM.
 */
struct go_ctx_stop;
int go_ctx_after_func(struct go_ctx *ctx, void (*fn)(void *arg), void *arg,
		      struct go_ctx_stop **stop);
bool go_ctx_stop(struct go_ctx_stop *stop);

/* ---- Debugging: the reference counts made checkable ------------------------------------ */

/* go_ctx_debug_live - contexts of this process allocated and not yet freed (the roots are
 * static and not counted). A snapshot: cancels and releases on other threads change it.
 * Always counted (one relaxed atomic add per make and per free). */
long go_ctx_debug_live(void);

/* go_ctx_debug_children - cancelable contexts linked under @ctx now (its children list: the
 * cancel contexts made below it, through value contexts too, that are neither cancelled nor
 * released; Go's cancelCtx.children). -EINVAL if @ctx is not cancelable (background, value,
 * without-cancel: they keep no list). */
long go_ctx_debug_children(struct go_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif /* GOCHAN_CONTEXT_H */
