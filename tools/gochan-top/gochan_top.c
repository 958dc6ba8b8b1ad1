// SPDX-License-Identifier: GPL-2.0
/*
 * gochan-top: per-channel operation counts and blocking-time histograms of
 * gochan channels, from the module's tracepoints through BPF.
 *
 * Three modes, one report format:
 *   live       (no -d, no command) a table every -i seconds, like top(1),
 *              until SIGINT/SIGTERM or -n refreshes;
 *   duration   (-d SECS) trace for SECS seconds, then print the report;
 *   command    (-- CMD ...) trace while CMD runs, then print the report and
 *              exit with CMD's status.
 * The report (see print_report()) is one "chan" line per channel and
 * "hist" lines per op, key=value fields, for scripts and tests.
 *
 * Functions return 0 or -errno; main() turns that into the exit status.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gochan_top.h"
#include "gochan_top.skel.h"

/* sysexits.h's EX_UNAVAILABLE: BPF, the module or its tracepoints are
 * missing, which tests take as a reason to skip rather than fail. */
#define EXIT_UNAVAILABLE	69
#define EXIT_USAGE		2

#define MODULE_BTF	"/sys/kernel/btf/gochan"

static const char *const op_names[GT_NR_OPS] = {
	[GT_OP_SEND]	= "send",
	[GT_OP_RECV]	= "recv",
	[GT_OP_SELECT]	= "select",
};

/* Which of the two program sets to load (see gochan_top.bpf.c). */
enum attach_mode {
	MODE_AUTO,	/* BTF, falling back to tracepoints */
	MODE_BTF,	/* tp_btf/gochan_*: raw tracepoints typed by the module BTF */
	MODE_TP,	/* tracepoint/gochan/gochan_*: perf-event tracepoints */
};

static const char *const mode_names[] = {
	[MODE_AUTO]	= "auto",
	[MODE_BTF]	= "btf",
	[MODE_TP]	= "tp",
};

static volatile sig_atomic_t stop_sig;
static bool verbose;

struct chan_row {
	__u64 id;
	struct gt_chan c;
	__u64 dsend, drecv;	/* live: calls since the previous table */
};

struct snapshot {
	struct chan_row *rows;
	size_t n, cap;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: gochan-top [-i SECS] [-n COUNT] [-r ROWS] [-m MODE] [-p PID] [-Hv]\n"
"       gochan-top -d SECS [-m MODE] [-p PID] [-Hv]\n"
"       gochan-top [-m MODE] [-p PID] [-Hv] -- CMD [ARG...]\n"
"\n"
"Count the operations on every gochan channel (make, send, recv, block,\n"
"wake, close, select, elements moved, errors) and histogram how long\n"
"blocking send, recv and select calls waited, from the module's\n"
"tracepoints through BPF programs (CO-RE, against the kernel's and the\n"
"module's BTF).\n"
"\n"
"Without -d or CMD, show a table every SECS seconds, like top(1), until\n"
"interrupted.  With -d, trace for SECS seconds; with CMD, trace while CMD\n"
"runs; then print the final report:\n"
"  # gochan-top: N channels, SECS s, N dropped, MODE\n"
"  chan id=ID pid=PID elem_size=N capacity=N make=N send=N sent=N recv=N\n"
"       received=N block=N wake=N close=N select=N errors=N wait_ns=N\n"
"  hist op=OP count=N sum_ns=N\n"
"  hist op=OP lo_ns=N hi_ns=N count=N |***   |\n"
"(one chan line each, in id order; send/recv count calls, sent/received\n"
"elements; id 0 gathers select blocks, which span several channels.)\n"
"\n"
"options:\n"
"  -d SECS    trace for SECS seconds (decimals allowed), print the report\n"
"  -i SECS    live: seconds between tables (default 1)\n"
"  -n COUNT   live: stop after COUNT tables\n"
"  -r ROWS    live: show the ROWS busiest channels (default 20)\n"
"  -m MODE    btf: BTF-typed raw tracepoints (tp_btf/gochan_*, programs\n"
"             gt_btf_*); tp: tracepoints (tracepoint/gochan/gochan_*,\n"
"             programs gt_tp_*); auto (default): btf, else tp\n"
"  -p PID     only events of this process (tgid; for wake, the woken one)\n"
"  -H         leave out the histograms\n"
"  -v         libbpf's messages too\n"
"  -h         this text\n"
"\n"
"exit status: CMD's with CMD (128+N if killed by signal N), else 0;\n"
"1 on errors, 2 on bad usage, 69 if BPF, the gochan module, its BTF or\n"
"its tracepoints are unavailable.\n");
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG || (!verbose && level == LIBBPF_INFO))
		return 0;
	if (!verbose && level == LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void on_signal(int sig)
{
	stop_sig = sig;
}

static int parse_secs(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1e7)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleep for secs, or until a signal sets stop_sig. */
static void nap(double secs)
{
	double until = now_s() + secs;

	while (!stop_sig) {
		double left = until - now_s();
		struct timespec ts;

		if (left <= 0)
			break;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

static int cmp_id(const void *a, const void *b)
{
	const struct chan_row *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_busy(const void *a, const void *b)
{
	const struct chan_row *x = a, *y = b;
	__u64 bx = x->dsend + x->drecv, by = y->dsend + y->drecv;

	if (bx != by)
		return bx > by ? -1 : 1;
	return cmp_id(a, b);
}

/* Read the chans map into snap, sorted by id. */
static int snapshot_read(int map_fd, struct snapshot *snap)
{
	__u64 key, next;
	__u64 *prev = NULL;
	int err;

	snap->n = 0;
	while (!(err = bpf_map_get_next_key(map_fd, prev, &next))) {
		struct chan_row *r;

		key = next;
		prev = &key;
		if (snap->n == snap->cap) {
			size_t cap = snap->cap ? 2 * snap->cap : 64;
			struct chan_row *rows = realloc(snap->rows, cap * sizeof(*rows));

			if (!rows)
				return -ENOMEM;
			snap->rows = rows;
			snap->cap = cap;
		}
		r = &snap->rows[snap->n];
		memset(r, 0, sizeof(*r));
		r->id = key;
		err = bpf_map_lookup_elem(map_fd, &key, &r->c);
		if (err == -ENOENT)
			continue;	/* gone between the two calls */
		if (err)
			return err;
		snap->n++;
	}
	if (err != -ENOENT)
		return err;
	qsort(snap->rows, snap->n, sizeof(*snap->rows), cmp_id);
	return 0;
}

static const struct chan_row *snapshot_find(const struct snapshot *snap,
					    __u64 id)
{
	struct chan_row key = { .id = id };

	if (!snap->n)
		return NULL;
	return bsearch(&key, snap->rows, snap->n, sizeof(*snap->rows), cmp_id);
}

static int hists_read(int map_fd, struct gt_hist *h)
{
	for (__u32 op = 0; op < GT_NR_OPS; op++) {
		int err = bpf_map_lookup_elem(map_fd, &op, &h[op]);

		if (err)
			return err;
	}
	return 0;
}

/* One op's histogram, from its first to its last nonempty slot. */
static void print_hist(FILE *f, const char *op, const struct gt_hist *h)
{
	int lo = -1, hi = -1;
	__u64 max = 0;

	fprintf(f, "hist op=%s count=%" PRIu64 " sum_ns=%" PRIu64 "\n",
		op, (uint64_t)h->count, (uint64_t)h->sum_ns);
	for (int s = 0; s < GT_HIST_SLOTS; s++) {
		if (!h->slots[s])
			continue;
		if (lo < 0)
			lo = s;
		hi = s;
		if (h->slots[s] > max)
			max = h->slots[s];
	}
	for (int s = lo; lo >= 0 && s <= hi; s++) {
		enum { WIDTH = 32 };
		char bar[WIDTH + 1];
		int stars = (int)(h->slots[s] * WIDTH / max);
		__u64 lo_ns = 1ULL << s;
		__u64 hi_ns = s == 63 ? UINT64_MAX : (1ULL << (s + 1)) - 1;

		memset(bar, '*', stars);
		memset(bar + stars, ' ', WIDTH - stars);
		bar[WIDTH] = '\0';
		fprintf(f, "hist op=%s lo_ns=%" PRIu64 " hi_ns=%" PRIu64
			" count=%" PRIu64 " |%s|\n", op, (uint64_t)lo_ns,
			(uint64_t)hi_ns, (uint64_t)h->slots[s], bar);
	}
}

/* The final report: the format usage() documents; keep it stable. */
static void print_report(FILE *f, const struct snapshot *snap,
			 const struct gt_hist *hists, double secs,
			 __u64 dropped, enum attach_mode mode, bool with_hists)
{
	fprintf(f, "# gochan-top: %zu channels, %.3f s, %" PRIu64 " dropped, %s\n",
		snap->n, secs, (uint64_t)dropped, mode_names[mode]);
	for (size_t i = 0; i < snap->n; i++) {
		const struct chan_row *r = &snap->rows[i];
		const struct gt_chan *c = &r->c;

		fprintf(f, "chan id=%" PRIu64 " pid=%d elem_size=%u capacity=%u"
			" make=%llu send=%llu sent=%llu recv=%llu received=%llu"
			" block=%llu wake=%llu close=%llu select=%llu"
			" errors=%llu wait_ns=%llu\n",
			(uint64_t)r->id, c->pid, c->elem_size, c->capacity,
			c->make, c->send, c->sent, c->recv, c->received,
			c->block, c->wake, c->close, c->select, c->errors,
			c->wait_ns);
	}
	if (!with_hists)
		return;
	for (int op = 0; op < GT_NR_OPS; op++)
		print_hist(f, op_names[op], &hists[op]);
}

/* Live: the busiest channels of the last interval, then the histograms. */
static void print_table(const struct snapshot *snap,
			const struct snapshot *prev, const struct gt_hist *hists,
			double interval, unsigned long rows, __u64 dropped,
			enum attach_mode mode, bool with_hists)
{
	char clock[16];
	time_t t = time(NULL);
	struct tm tm;

	for (size_t i = 0; i < snap->n; i++) {
		struct chan_row *r = &snap->rows[i];
		const struct chan_row *p = snapshot_find(prev, r->id);

		r->dsend = r->c.send - (p ? p->c.send : 0);
		r->drecv = r->c.recv - (p ? p->c.recv : 0);
	}
	qsort(snap->rows, snap->n, sizeof(*snap->rows), cmp_busy);

	strftime(clock, sizeof(clock), "%H:%M:%S", localtime_r(&t, &tm));
	if (isatty(STDOUT_FILENO))
		fputs("\033[H\033[J", stdout);
	printf("gochan-top - %s  %zu channels  %" PRIu64 " dropped  (every %.1fs, %s)\n\n",
	       clock, snap->n, (uint64_t)dropped, interval, mode_names[mode]);
	printf("%8s %7s %5s %6s %8s %8s %10s %10s %8s %8s %5s %7s %6s\n",
	       "ID", "PID", "ESIZE", "CAP", "SEND/s", "RECV/s", "SENT",
	       "RECEIVED", "BLOCK", "WAKE", "CLOSE", "SELECT", "ERR");
	for (size_t i = 0; i < snap->n && i < rows; i++) {
		const struct chan_row *r = &snap->rows[i];
		const struct gt_chan *c = &r->c;
		char cap[16] = "?";	/* unknown unless make was traced */

		if (c->flags & GT_CHAN_MADE)
			snprintf(cap, sizeof(cap), "%u", c->capacity);
		printf("%8" PRIu64 " %7d %5u %6s %8.0f %8.0f %10llu %10llu %8llu %8llu %5llu %7llu %6llu\n",
		       (uint64_t)r->id, c->pid, c->elem_size, cap,
		       r->dsend / interval, r->drecv / interval, c->sent,
		       c->received, c->block, c->wake, c->close, c->select,
		       c->errors);
	}
	if (with_hists) {
		printf("\n");
		for (int op = 0; op < GT_NR_OPS; op++)
			if (hists[op].count)
				print_hist(stdout, op_names[op], &hists[op]);
	}
	qsort(snap->rows, snap->n, sizeof(*snap->rows), cmp_id);
	fflush(stdout);
}

/* Run argv in a child; its exit status as ours, 128+N for signal N. */
static int run_command(char **argv, int *status_out)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "gochan-top: %s: %s\n", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	for (int forwarded = 0;;) {
		if (waitpid(pid, &status, 0) == pid)
			break;
		if (errno != EINTR)
			return -errno;
		/* Pass SIGINT/SIGTERM on (each the first time it comes):
		 * the report follows whenever CMD ends. */
		if (stop_sig && stop_sig != forwarded) {
			forwarded = stop_sig;
			kill(pid, stop_sig);
		}
		stop_sig = 0;
	}
	if (WIFEXITED(status))
		*status_out = WEXITSTATUS(status);
	else
		*status_out = 128 + WTERMSIG(status);
	return 0;
}

/* Why the programs cannot run, if the system lacks something they need. */
static bool unavailable(int err)
{
	return err == -EPERM || err == -ENOSYS || err == -EOPNOTSUPP ||
	       err == -ENOENT || err == -ESRCH || err == -ENODEV;
}

/*
 * Open, load and attach the program set of mode (MODE_BTF or MODE_TP) into
 * *skelp.  Returns 0, or -errno with *what saying which step failed and
 * *skelp NULL.
 */
static int start_tracing(enum attach_mode mode, pid_t tgid,
			 struct gochan_top_bpf **skelp, const char **what)
{
	const char *want = mode == MODE_BTF ? "tp_btf/" : "tracepoint/";
	struct gochan_top_bpf *skel;
	struct bpf_program *prog;
	int err;

	*skelp = NULL;
	*what = "opening the BPF object";
	skel = gochan_top_bpf__open();
	if (!skel)
		return -errno;
	bpf_object__for_each_program(prog, skel->obj) {
		const char *sec = bpf_program__section_name(prog);

		bpf_program__set_autoload(prog, !strncmp(sec, want, strlen(want)));
	}
	skel->rodata->target_tgid = tgid;
	*what = "loading the BPF programs";
	err = gochan_top_bpf__load(skel);
	if (!err) {
		*what = "attaching to the gochan tracepoints";
		err = gochan_top_bpf__attach(skel);
	}
	if (err) {
		gochan_top_bpf__destroy(skel);
		return err;
	}
	*skelp = skel;
	return 0;
}

int main(int argc, char **argv)
{
	double interval = 1, duration = -1, start;
	unsigned long count = 0, rows = 20, tgid = 0;
	bool with_hists = true;
	enum attach_mode mode = MODE_AUTO;
	struct gochan_top_bpf *skel = NULL;
	struct snapshot snap = { 0 }, prev = { 0 };
	struct gt_hist hists[GT_NR_OPS];
	struct sigaction sa;
	int opt, err, ret = 1, cmd_status = 0;
	const char *what;

	while ((opt = getopt(argc, argv, "+d:i:n:r:m:p:Hvh")) != -1) {
		switch (opt) {
		case 'd':
			if (parse_secs(optarg, &duration))
				goto bad_usage;
			break;
		case 'i':
			if (parse_secs(optarg, &interval) || interval < 0.01)
				goto bad_usage;
			break;
		case 'n':
			if (parse_uint(optarg, ULONG_MAX, &count) || !count)
				goto bad_usage;
			break;
		case 'r':
			if (parse_uint(optarg, ULONG_MAX, &rows))
				goto bad_usage;
			break;
		case 'm':
			if (!strcmp(optarg, "auto"))
				mode = MODE_AUTO;
			else if (!strcmp(optarg, "btf"))
				mode = MODE_BTF;
			else if (!strcmp(optarg, "tp"))
				mode = MODE_TP;
			else
				goto bad_usage;
			break;
		case 'p':
			if (parse_uint(optarg, INT_MAX, &tgid) || !tgid)
				goto bad_usage;
			break;
		case 'H':
			with_hists = false;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc && duration >= 0) {
		fprintf(stderr, "gochan-top: -d and a command do not go together\n");
		return EXIT_USAGE;
	}

	libbpf_set_print(libbpf_print);
	if (access(MODULE_BTF, F_OK)) {
		fprintf(stderr, "gochan-top: %s: %s (is the gochan module loaded, with BTF?)\n",
			MODULE_BTF, strerror(errno));
		return EXIT_UNAVAILABLE;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: naps and waits end */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (mode == MODE_AUTO) {
		/* tp_btf on a module's tracepoints needs kernel support
		 * (5.11+) and the module's btf_trace_* types: else, the
		 * classic tracepoints. */
		err = start_tracing(MODE_BTF, (pid_t)tgid, &skel, &what);
		if (err && verbose)
			fprintf(stderr, "gochan-top: btf mode: %s: %s; trying tp\n",
				what, strerror(-err));
		mode = err ? MODE_TP : MODE_BTF;
	}
	if (!skel)
		err = start_tracing(mode, (pid_t)tgid, &skel, &what);
	if (err)
		goto fail;

	start = now_s();
	if (optind < argc) {
		what = "running the command";
		err = run_command(argv + optind, &cmd_status);
		if (err)
			goto fail;
	} else if (duration >= 0) {
		nap(duration);
	} else {
		for (unsigned long n = 0; !stop_sig && (!count || n < count); n++) {
			struct snapshot t;

			nap(interval);
			what = "reading the maps";
			err = snapshot_read(bpf_map__fd(skel->maps.chans), &snap);
			if (!err)
				err = hists_read(bpf_map__fd(skel->maps.hists), hists);
			if (err)
				goto fail;
			print_table(&snap, &prev, hists, interval, rows,
				    skel->bss->dropped, mode, with_hists);
			t = prev;
			prev = snap;
			snap = t;
		}
		ret = 0;
		goto out;
	}

	what = "reading the maps";
	err = snapshot_read(bpf_map__fd(skel->maps.chans), &snap);
	if (!err)
		err = hists_read(bpf_map__fd(skel->maps.hists), hists);
	if (err)
		goto fail;
	print_report(stdout, &snap, hists, now_s() - start, skel->bss->dropped,
		     mode, with_hists);
	fflush(stdout);
	ret = optind < argc ? cmd_status : 0;
	goto out;

fail:
	fprintf(stderr, "gochan-top: %s: %s%s\n", what, strerror(-err),
		verbose ? "" : " (-v shows libbpf's log)");
	ret = unavailable(err) ? EXIT_UNAVAILABLE : 1;
out:
	gochan_top_bpf__destroy(skel);
	free(snap.rows);
	free(prev.rows);
	return ret;

bad_usage:
	fprintf(stderr, "gochan-top: bad value for -%c: '%s'\n", opt, optarg);
	usage(stderr);
	return EXIT_USAGE;
}
