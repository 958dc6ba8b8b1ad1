/* SPDX-License-Identifier: MIT */
/*
 * fanin - one select over in-process and kernel channels, across two processes.
 *
 *   parent process                                 child process (fork)
 *   +-----------------------------------------+    +--------------------------------+
 *   | producer goroutines --> local (in-proc) |    | ticker goroutine --> kernel    |
 *   | main: select { <-local, <-kernel }      |<---|   channel (buffered, fd shared) |
 *   | cancel(ctx) -- kernel Done channel ---->|--->| select { kernel <- msg,        |
 *   +-----------------------------------------+    |          <-ctx.Done() }        |
 *                                                  +--------------------------------+
 * The context's Done is a kernel channel too: the parent's cancel closes it, which wakes
 * the child's select in the other process; the child then closes its data channel, and
 * the parent's fan-in sees that channel end. Needs the gochan module (/dev/gochan).
 *
 *   fanin [messages]       (default 20 from the local producers)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/kchan.h>
#include <gochan/sched.h>

struct msg {
	int pid;
	int producer;
	long seq;
};

static int kfd = -1;             /* the data channel, shared by fork */
static int ctxfd = -1;           /* the context's Done channel, shared by fork */
static long nlocal = 20;

/* ---- the child: sends on the kernel channel until the parent cancels ------------------- */

static void child_main(void *arg)
{
	struct go_chan *out;
	struct go_ctx *ctx;
	struct msg m = { .pid = getpid(), .producer = 0 };

	(void)arg;
	go_chan_from_fd(&out, kfd, 0);
	/* Our view of the parent's context: cancelled when anyone closes its channel. */
	if (go_ctx_with_kchan(&ctx, go_ctx_background(), ctxfd) < 0)
		return;
	for (m.seq = 0;; m.seq++) {
		bool cancelled = false;

		go_sleep(7 * 1000 * 1000);
		/* After the cancel both cases may be ready (room in the buffer, Done closed):
		 * select picks one at random, as Go's does, so a few more messages may go. */
		GO_SELECT {
		GO_CASE_SEND(out, &m) {
			/* sent */
		}
		GO_CASE_RECV(go_ctx_done(ctx), NULL, NULL)
			cancelled = true;
		}
		if (cancelled)
			break;
	}
	printf("child %d: cancelled by the parent after %ld messages; closing the channel\n",
	       m.pid, m.seq);
	fflush(stdout);
	go_chan_close(out);              /* the parent's fan-in sees this case end */
	go_ctx_release(ctx);
	go_chan_free(out);
}

/* ---- the parent: local producers and the fan-in ----------------------------------------- */

struct producer {
	struct go_chan *out;
	int id;
	struct go_waitgroup *wg;
};

static void producer(void *arg)
{
	struct producer *p = arg;
	struct msg m = { .pid = getpid(), .producer = p->id };

	for (m.seq = 0; m.seq < nlocal / 2; m.seq++) {
		go_sleep(3 * 1000 * 1000);
		go_chan_send(p->out, &m);
	}
	go_wg_done(p->wg);
}

static void closer(void *arg)
{
	struct producer *p = arg;

	go_wg_wait(p->wg);
	go_chan_close(p->out);
}

static void parent_main(void *arg)
{
	struct go_waitgroup wg = { 0 };
	struct producer prods[2], cl;
	struct go_chan *local, *remote, *local_c, *remote_c;
	struct go_ctx *ctx = arg;
	long from_local = 0, from_remote = 0;
	struct msg m;
	bool ok;

	go_chan_make(&local, sizeof(struct msg), 0);
	go_chan_from_fd(&remote, kfd, 0);
	local_c = local;
	remote_c = remote;
	for (int i = 0; i < 2; i++) {
		prods[i] = (struct producer){ .out = local, .id = i + 1, .wg = &wg };
		go_wg_add(&wg, 1);
		go_spawn(producer, &prods[i]);
	}
	cl = (struct producer){ .out = local, .wg = &wg };
	go_spawn(closer, &cl);

	/* Fan in from both until both have ended; a closed case becomes nil (never chosen). */
	while (local || remote) {
		struct go_select_case cs[] = { GO_RECV_CASE(local, &m), GO_RECV_CASE(remote, &m) };
		int i = go_select(cs, 2);

		if (i < 0) {
			fprintf(stderr, "select: %s\n", strerror(-i));
			break;
		}
		ok = cs[i].ok;
		if (!ok) {
			printf("parent: %s channel closed\n", i == 0 ? "local" : "kernel");
			if (i == 0) {
				/* local producers are done: tell the other process to stop */
				printf("parent: cancelling the shared context\n");
				go_ctx_cancel(ctx);
				local = NULL;
			} else {
				remote = NULL;
			}
			continue;
		}
		if (i == 0)
			from_local++;
		else
			from_remote++;
		printf("parent: %-6s pid %d producer %d seq %ld\n", i == 0 ? "local" : "kernel",
		       m.pid, m.producer, m.seq);
	}
	printf("parent: %ld messages from local goroutines, %ld from the other process\n",
	       from_local, from_remote);
	go_chan_free(local_c);
	go_chan_free(remote_c);
}

static void parent_start(void *arg)
{
	struct go_ctx **ctx = arg;

	if (go_ctx_with_kchan(ctx, go_ctx_background(), ctxfd) < 0) {
		fprintf(stderr, "fanin: go_ctx_with_kchan failed\n");
		return;
	}
	parent_main(*ctx);
	go_ctx_release(*ctx);
}

int main(int argc, char **argv)
{
	struct go_ctx *ctx;
	pid_t pid;
	int status, ret;

	if (argc > 1)
		nlocal = atol(argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	kfd = gochan_make(sizeof(struct msg), 8, GOCHAN_CREATE_CLOEXEC);
	if (kfd < 0) {
		fprintf(stderr, "fanin: gochan_make: %s (is the gochan module loaded?)\n",
			strerror(-kfd));
		return 1;
	}
	/* The context's kernel channel is made before the fork so both processes hold it;
	 * each side wraps it in a context of its own (go_ctx_with_kchan) inside go_run. */
	ctxfd = gochan_make(0, 0, 0);
	if (ctxfd < 0) {
		fprintf(stderr, "fanin: gochan_make: %s\n", strerror(-ctxfd));
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0)
		return go_run(child_main, NULL) == 0 ? 0 : 1;
	ret = go_run(parent_start, &ctx);
	waitpid(pid, &status, 0);
	return ret == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
