/* SPDX-License-Identifier: MIT */
/*
 * workers - a worker pool under a context deadline.
 *
 * main hands jobs to a pool of workers over a channel; each worker "works" (sleeps) and
 * sends back a result. The whole thing runs under a context with a timeout: when it
 * expires, the workers see ctx Done in their select and stop, main stops handing out
 * jobs, and reports how many results came back in time.
 *
 *   workers [workers] [jobs] [timeout_ms]      (default 4 workers, 100 jobs, 150 ms)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <gochan/chan.h>
#include <gochan/context.h>
#include <gochan/sched.h>

struct pool {
	struct go_ctx *ctx;
	struct go_chan *jobs;       /* long: job number */
	struct go_chan *results;    /* long: job number * job number */
	struct go_waitgroup wg;
};

static void worker(void *arg)
{
	struct pool *p = arg;
	long job, result;
	bool ok;

	for (;;) {
		/* select { case job, ok := <-jobs: ... case <-ctx.Done(): return } */
		GO_SELECT {
		GO_CASE_RECV(p->jobs, &job, &ok)
			if (!ok)
				goto out;             /* no more jobs */
		GO_CASE_RECV(go_ctx_done(p->ctx), NULL, NULL)
			goto out;                 /* deadline */
		}
		go_sleep(5 * 1000 * 1000);            /* 5 ms of "work" */
		result = job * job;
		GO_SELECT {
		GO_CASE_SEND(p->results, &result) {
			/* delivered */
		}
		GO_CASE_RECV(go_ctx_done(p->ctx), NULL, NULL)
			goto out;
		}
	}
out:
	go_wg_done(&p->wg);
}

static long nworkers = 4, njobs = 100, timeout_ms = 150;

static void workers_main(void *arg)
{
	struct pool p = { 0 };
	long sent = 0, got = 0, sum = 0, r;

	(void)arg;
	go_ctx_with_timeout(&p.ctx, go_ctx_background(), timeout_ms * 1000 * 1000);
	go_chan_make(&p.jobs, sizeof(long), 0);
	go_chan_make(&p.results, sizeof(long), (size_t)njobs);
	for (long i = 0; i < nworkers; i++) {
		go_wg_add(&p.wg, 1);
		go_spawn(worker, &p);
	}
	/* Hand out jobs until all are out or the deadline passes. */
	while (sent < njobs) {
		bool expired = false;

		GO_SELECT {
		GO_CASE_SEND(p.jobs, &sent)
			sent++;
		GO_CASE_RECV(go_ctx_done(p.ctx), NULL, NULL)
			expired = true;
		}
		if (expired)
			break;
	}
	go_chan_close(p.jobs);      /* workers drain, then see ok = false */
	go_wg_wait(&p.wg);          /* every worker has returned */
	while (go_chan_try_recv(p.results, &r, NULL) == 0) {
		got++;
		sum += r;
	}
	printf("%ld workers, deadline %ld ms: %ld of %ld jobs handed out, %ld results, "
	       "sum of squares %ld, context: %s\n", nworkers, timeout_ms, sent, njobs, got, sum,
	       go_ctx_err(p.ctx) == -ETIMEDOUT ? "deadline exceeded" : "still live");
	go_ctx_cancel(p.ctx);
	go_ctx_release(p.ctx);
	go_chan_free(p.jobs);
	go_chan_free(p.results);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		nworkers = atol(argv[1]);
	if (argc > 2)
		njobs = atol(argv[2]);
	if (argc > 3)
		timeout_ms = atol(argv[3]);
	return go_run(workers_main, NULL) == 0 ? 0 : 1;
}
