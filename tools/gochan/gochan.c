// SPDX-License-Identifier: MIT
/*
 * gochan: kernel channels for shell scripts, built on libgochan.
 *
 * Each command is one library call on a channel fd the script inherited
 * from "gochan make".  Exit statuses are the interface (see usage()): a
 * loop like
 *
 *	while line=$(gochan recv "$GOCHAN_FD"); do ...; done
 *
 * ends when the channel is closed and drained, and
 *
 *	case $(gochan select recv:"$A" recv:"$B") in "0 "*) ...
 *
 * waits on two channels at once.  Commands are a table, one entry each.
 * Named channels let unrelated scripts meet:
 *
 *	gochan open -c -s 64 orders -- sh -c 'gochan recv "$GOCHAN_FD"' &
 *	gochan open -w orders -- sh -c 'gochan send "$GOCHAN_FD" hello'
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gochan/kchan.h>

enum {
	EXIT_DONE	= 0,
	EXIT_CLOSED	= 1,	/* the channel is closed (recv: and drained) */
	EXIT_USAGE	= 2,
	EXIT_TIMEOUT	= 3,	/* -t passed (-t 0: the call would block) */
	EXIT_ERROR	= 4,
};

static const char *cmd_name = "gochan";

static void usage(FILE *f)
{
	fprintf(f,
"usage: gochan COMMAND [ARGS]\n"
"\n"
"Kernel channels (" GOCHAN_DEVICE_PATH ") for shell scripts.  FD is the number\n"
"of a channel fd the script holds, e.g. \"$GOCHAN_FD\" from gochan make.\n"
"\n"
"commands:\n"
"  make [-s SIZE] [-c CAP] [-e VAR] -- CMD [ARG...]\n"
"        make a channel of SIZE-byte elements (default 0: a signal channel)\n"
"        and capacity CAP (default 0: unbuffered), then run CMD in place of\n"
"        gochan with the channel fd open (inherited by CMD's children) and\n"
"        its number in $VAR (default GOCHAN_FD).  Nest makes, each with its\n"
"        own -e, for several channels.\n"
"  send [-t MS] FD [DATA]\n"
"        send one element: the bytes of DATA, zero-padded to the element\n"
"        size (no DATA: an all-zero element, or the signal of a size-0\n"
"        channel).  DATA longer than an element is a usage error.\n"
"  recv [-t MS] [-r] FD\n"
"        receive one element and print it up to its first NUL byte, with a\n"
"        newline (-r: print all its bytes as they are, no newline).\n"
"  select [-t MS] CASE...\n"
"        Go's select: exactly one case runs, chosen at random among those\n"
"        ready, else the first to become ready.  A CASE is send:FD[:DATA]\n"
"        (DATA as for send) or recv:FD.  Prints the index of the case that\n"
"        ran (0 = the first CASE) and, for a receive that got a value, a\n"
"        space and the value as recv prints it, on one line.  When the case\n"
"        that ran found its channel closed, prints its index and exits 1.\n"
"  open [-c [-x] [-m MODE] [-s SIZE] [-k CAP]] [-r|-w] [-e VAR] NAME -- CMD [ARG...]\n"
"        open the channel named NAME and run CMD with it, as make does.\n"
"        -c makes it first if NAME is not there (mode MODE, octal, default\n"
"        600; SIZE and CAP as make's -s and -c, default 0), and opens it if\n"
"        it is, provided SIZE and CAP are its own; -x with -c: fail if NAME\n"
"        is there.  -r: the fd only receives, -w: it only sends and closes\n"
"        (neither or both: it does both); the channel's mode must allow it\n"
"        (read to receive, write to send).  Names are 1..63 printable\n"
"        ASCII bytes without spaces, one set per IPC namespace.  A named\n"
"        channel lives until it is unlinked and its last fd closed.\n"
"  unlink NAME\n"
"        remove the name; fds open on the channel keep working.\n"
"  list\n"
"        print the named channels, a '#' header line, then one line each:\n"
"        NAME ID ELEM_SIZE CAPACITY LEN CLOSED MODE UID GID (MODE octal).\n"
"  close FD\n"
"        close the channel: later sends fail, receivers drain it and end.\n"
"  stat FD\n"
"        print the channel's state, one \"name: value\" line per field.\n"
"  help\n"
"        print this text.\n"
"\n"
"  -t MS  give up after MS milliseconds (0: do not wait at all); without\n"
"         -t, send, recv and select wait as long as it takes.\n"
"\n"
"exit status:\n"
"  0  done\n"
"  1  the channel is closed (recv: closed and drained, nothing received;\n"
"     send: nothing sent; close: it was already closed; select: the case\n"
"     that ran, whose index is printed, is one of these)\n"
"  2  usage error\n"
"  3  timed out (-t)\n"
"  4  any other error (explained on stderr), e.g. open: no such name,\n"
"     -x and the name exists, the mode forbids the access\n"
"  make, open: CMD's status; 126 CMD could not be run, 127 CMD not found\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "gochan %s: ", cmd_name);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(see 'gochan help')\n");
	return EXIT_USAGE;
}

/* A library or system error: map it to an exit status, explaining it. */
static int fail(int err, const char *what)
{
	switch (err) {
	case -EPIPE:
		fprintf(stderr, "gochan %s: %s: channel is closed\n", cmd_name, what);
		return EXIT_CLOSED;
	case -ETIMEDOUT:
	case -EAGAIN:
		return EXIT_TIMEOUT;	/* the status says it all */
	case -ENOTTY:
		fprintf(stderr, "gochan %s: %s is not a channel fd\n", cmd_name, what);
		return EXIT_ERROR;
	case -ENOENT:
		fprintf(stderr, "gochan %s: %s: %s (is the gochan module loaded?)\n",
			cmd_name, what, GOCHAN_DEVICE_PATH);
		return EXIT_ERROR;
	default:
		fprintf(stderr, "gochan %s: %s: %s\n", cmd_name, what, strerror(-err));
		return EXIT_ERROR;
	}
}

/* A decimal number in [0, max], the whole string; false if not. */
static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && !*end && *out <= max;
}

/* Options common to send and recv. */
struct wait_opts {
	int64_t	deadline_ns;	/* GOCHAN_NO_DEADLINE without -t */
	bool	try;		/* -t 0 */
};

static int parse_timeout(const char *arg, struct wait_opts *w)
{
	unsigned long ms;

	/* At most ~31 years: now + ms stays far from INT64_MAX ns. */
	if (!parse_uint(arg, 1000000000000UL, &ms))
		return usage_error("-t wants milliseconds, not '%s'", arg);
	w->try = ms == 0;
	w->deadline_ns = gochan_now_ns() + (int64_t)ms * 1000000;
	return EXIT_DONE;
}

/* The FD operand: the number of an open channel fd, and its stat. */
static int parse_fd(const char *arg, int *fd, struct gochan_stat *st)
{
	unsigned long n;
	int err;

	if (!parse_uint(arg, INT_MAX, &n))
		return usage_error("FD must be an fd number, not '%s'", arg);
	*fd = (int)n;
	err = gochan_stat(*fd, st);
	return err ? fail(err, arg) : EXIT_DONE;
}

/* Run CMD (argv) in place of gochan with channel fd @fd in $VAR. */
static int exec_with_fd(int fd, const char *var, char **argv)
{
	char num[16];

	snprintf(num, sizeof(num), "%d", fd);
	if (setenv(var, num, 1))
		return fail(-errno, var);
	execvp(argv[0], argv);
	fprintf(stderr, "gochan %s: %s: %s\n", cmd_name, argv[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

static int cmd_make(int argc, char **argv)
{
	const char *var = "GOCHAN_FD";
	unsigned long size = 0, cap = 0;
	int opt, fd;

	while ((opt = getopt(argc, argv, "+s:c:e:")) != -1) {
		switch (opt) {
		case 's':
			if (!parse_uint(optarg, GOCHAN_ELEM_SIZE_MAX, &size))
				return usage_error("-s wants an element size of 0..65536 bytes, not '%s'", optarg);
			break;
		case 'c':
			if (!parse_uint(optarg, UINT32_MAX, &cap))
				return usage_error("-c wants a capacity, not '%s'", optarg);
			break;
		case 'e':
			if (!*optarg || strchr(optarg, '='))
				return usage_error("-e wants a variable name, not '%s'", optarg);
			var = optarg;
			break;
		default:
			return usage_error("%s", "bad option");
		}
	}
	if (optind >= argc)
		return usage_error("%s", "missing the command to run: make [OPTIONS] -- CMD...");

	/* No CLOEXEC: the point is that CMD inherits the fd. */
	fd = gochan_make(size, (unsigned)cap, 0);
	if (fd < 0)
		return fail(fd, "make");
	return exec_with_fd(fd, var, argv + optind);
}

/* An error of gochan_open or gochan_unlink on NAME: status 4, explained. */
static int name_fail(int err, const char *name)
{
	switch (err) {
	case -ENOENT:
		if (access(GOCHAN_DEVICE_PATH, F_OK))
			return fail(err, name);	/* the module is not loaded */
		fprintf(stderr, "gochan %s: no channel is named '%s'\n", cmd_name, name);
		return EXIT_ERROR;
	case -EEXIST:
		fprintf(stderr, "gochan %s: a channel is already named '%s'\n", cmd_name, name);
		return EXIT_ERROR;
	case -EINVAL:
		fprintf(stderr, "gochan %s: %s: invalid argument (a bad name, or -s/-k other than the channel's)\n",
			cmd_name, name);
		return EXIT_ERROR;
	case -EACCES:
		fprintf(stderr, "gochan %s: %s: permission denied by the channel's mode\n",
			cmd_name, name);
		return EXIT_ERROR;
	case -EPERM:
		fprintf(stderr, "gochan %s: %s: not the channel's owner or creator\n",
			cmd_name, name);
		return EXIT_ERROR;
	default:
		return fail(err, name);
	}
}

static int cmd_open(int argc, char **argv)
{
	const char *var = "GOCHAN_FD", *name;
	unsigned long size = 0, cap = 0, mode = 0600;
	char **cmd;
	unsigned flags = 0;
	bool shape = false;	/* -s, -k or -m given */
	int opt, fd;

	while ((opt = getopt(argc, argv, "+cxm:s:k:rwe:")) != -1) {
		char *end;

		switch (opt) {
		case 'c':
			flags |= GOCHAN_OPEN_CREATE;
			break;
		case 'x':
			flags |= GOCHAN_OPEN_EXCL;
			break;
		case 'm':
			errno = 0;
			mode = strtoul(optarg, &end, 8);
			if (*optarg < '0' || *optarg > '7' || *end || errno || mode > 0777)
				return usage_error("-m wants an octal mode of 0..777, not '%s'", optarg);
			shape = true;
			break;
		case 's':
			if (!parse_uint(optarg, GOCHAN_ELEM_SIZE_MAX, &size))
				return usage_error("-s wants an element size of 0..65536 bytes, not '%s'", optarg);
			shape = true;
			break;
		case 'k':
			if (!parse_uint(optarg, UINT32_MAX, &cap))
				return usage_error("-k wants a capacity, not '%s'", optarg);
			shape = true;
			break;
		case 'r':
			flags |= GOCHAN_OPEN_RECV;
			break;
		case 'w':
			flags |= GOCHAN_OPEN_SEND;
			break;
		case 'e':
			if (!*optarg || strchr(optarg, '='))
				return usage_error("-e wants a variable name, not '%s'", optarg);
			var = optarg;
			break;
		default:
			return usage_error("%s", "bad option");
		}
	}
	if (!(flags & GOCHAN_OPEN_CREATE)) {
		if (flags & GOCHAN_OPEN_EXCL)
			return usage_error("%s", "-x goes with -c");
		if (shape)
			return usage_error("%s", "-m, -s and -k go with -c");
		mode = 0;
	}
	if (optind >= argc)
		return usage_error("%s", "missing NAME: open [OPTIONS] NAME -- CMD...");
	name = argv[optind];
	cmd = argv + optind + 1;
	if (*cmd && !strcmp(*cmd, "--"))
		cmd++;
	if (!*cmd)
		return usage_error("%s", "missing the command to run: open [OPTIONS] NAME -- CMD...");

	/* No CLOEXEC: the point is that CMD inherits the fd.  A channel this
	 * made stays named if CMD cannot be run, as a file would. */
	fd = gochan_open(name, flags, (mode_t)mode, size, (unsigned)cap);
	if (fd < 0)
		return name_fail(fd, name);
	return exec_with_fd(fd, var, cmd);
}

static int cmd_unlink(int argc, char **argv)
{
	int ret;

	if (argc != 2)
		return usage_error("%s", "usage: unlink NAME");
	ret = gochan_unlink(argv[1]);
	return ret ? name_fail(ret, argv[1]) : EXIT_DONE;
}

static const char list_header[] =
	"# NAME ID ELEM_SIZE CAPACITY LEN CLOSED MODE UID GID\n";

/* Print one name as the kernel's listing has it; the header comes first,
 * once, so that a failure before any name prints nothing. */
static int print_name(const struct gochan_name_info *n, void *arg)
{
	bool *header = arg;

	if (!*header)
		fputs(list_header, stdout);
	*header = true;
	printf("%s %" PRIu64 " %u %u %u %u %03o %u %u\n", n->name, n->id,
	       n->elem_size, n->capacity, n->len, n->closed ? 1 : 0,
	       (unsigned)n->mode, (unsigned)n->uid, (unsigned)n->gid);
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	bool header = false;
	int ret;

	(void)argv;
	if (argc != 1)
		return usage_error("%s", "usage: list");
	ret = gochan_list(print_name, &header);
	if (ret) {
		fflush(stdout);
		return fail(ret, "list");
	}
	if (!header)
		fputs(list_header, stdout);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "gochan list: %s\n", strerror(errno));
		return EXIT_ERROR;
	}
	return EXIT_DONE;
}

static unsigned char elem[GOCHAN_ELEM_SIZE_MAX];

static int cmd_send(int argc, char **argv)
{
	struct wait_opts w = { .deadline_ns = GOCHAN_NO_DEADLINE };
	struct gochan_stat st;
	size_t len = 0;
	int opt, fd, ret;

	while ((opt = getopt(argc, argv, "+t:")) != -1) {
		if (opt != 't')
			return usage_error("%s", "bad option");
		if ((ret = parse_timeout(optarg, &w)))
			return ret;
	}
	if (optind >= argc || argc - optind > 2)
		return usage_error("%s", "usage: send [-t MS] FD [DATA]");
	if ((ret = parse_fd(argv[optind], &fd, &st)))
		return ret;
	if (argc - optind == 2) {
		len = strlen(argv[optind + 1]);
		if (len > st.elem_size) {
			fprintf(stderr, "gochan send: DATA is %zu bytes, the element size %u\n",
				len, st.elem_size);
			return EXIT_USAGE;
		}
		memcpy(elem, argv[optind + 1], len);
	}
	memset(elem + len, 0, st.elem_size - len);

	if (w.try)
		ret = gochan_try_send(fd, elem);
	else
		ret = gochan_send(fd, elem, w.deadline_ns);
	return ret ? fail(ret, argv[optind]) : EXIT_DONE;
}

static int cmd_recv(int argc, char **argv)
{
	struct wait_opts w = { .deadline_ns = GOCHAN_NO_DEADLINE };
	struct gochan_stat st;
	bool raw = false, ok;
	size_t len;
	int opt, fd, ret;

	while ((opt = getopt(argc, argv, "+t:r")) != -1) {
		if (opt == 'r') {
			raw = true;
		} else if (opt == 't') {
			if ((ret = parse_timeout(optarg, &w)))
				return ret;
		} else {
			return usage_error("%s", "bad option");
		}
	}
	if (argc - optind != 1)
		return usage_error("%s", "usage: recv [-t MS] [-r] FD");
	if ((ret = parse_fd(argv[optind], &fd, &st)))
		return ret;

	if (w.try)
		ret = gochan_try_recv(fd, elem, &ok);
	else
		ret = gochan_recv(fd, elem, &ok, w.deadline_ns);
	if (ret)
		return fail(ret, argv[optind]);
	if (!ok)
		return EXIT_CLOSED;

	len = raw ? st.elem_size : strnlen((char *)elem, st.elem_size);
	if (fwrite(elem, 1, len, stdout) != len ||
	    (!raw && st.elem_size && putchar('\n') == EOF) || fflush(stdout)) {
		/* The element was taken: say so, since it is now lost. */
		fprintf(stderr, "gochan recv: writing the received element: %s\n",
			strerror(errno));
		return EXIT_ERROR;
	}
	return EXIT_DONE;
}

/*
 * select: each CASE becomes a struct gochan_select_case.  Send values get
 * their own zero-padded element each; receive cases share one buffer,
 * since only the case that runs is written.
 */
static int cmd_select(int argc, char **argv)
{
	struct gochan_select_result res;
	struct gochan_select_case *cases;
	struct wait_opts w = { .deadline_ns = GOCHAN_NO_DEADLINE };
	unsigned char **sendbuf;
	struct gochan_stat *st;
	unsigned n, i;
	int opt, ret;

	while ((opt = getopt(argc, argv, "+t:")) != -1) {
		if (opt != 't')
			return usage_error("%s", "bad option");
		if ((ret = parse_timeout(optarg, &w)))
			return ret;
	}
	if (optind >= argc)
		return usage_error("%s", "usage: select [-t MS] CASE... (send:FD[:DATA] or recv:FD)");
	n = (unsigned)(argc - optind);
	cases = calloc(n, sizeof(*cases));
	sendbuf = calloc(n, sizeof(*sendbuf));
	st = calloc(n, sizeof(*st));
	if (!cases || !sendbuf || !st)
		return fail(-ENOMEM, "select");

	for (i = 0; i < n; i++) {
		char *arg = argv[optind + i], *fdarg, *data = NULL, *colon;
		bool send;
		int fd;

		if (!strncmp(arg, "send:", 5))
			send = true;
		else if (!strncmp(arg, "recv:", 5))
			send = false;
		else
			return usage_error("a case is send:FD[:DATA] or recv:FD, not '%s'", arg);
		fdarg = strndup(arg + 5, strcspn(arg + 5, ":"));
		if (!fdarg)
			return fail(-ENOMEM, "select");
		colon = strchr(arg + 5, ':');
		if (colon) {
			if (!send)
				return usage_error("recv:FD takes no DATA: '%s'", arg);
			data = colon + 1;
		}
		ret = parse_fd(fdarg, &fd, &st[i]);
		free(fdarg);
		if (ret)
			return ret;
		if (!send) {
			cases[i] = GOCHAN_RECV(fd, elem);
			continue;
		}
		/* One byte at least, so calloc never returns NULL for 0. */
		sendbuf[i] = calloc(1, st[i].elem_size + 1);
		if (!sendbuf[i])
			return fail(-ENOMEM, "select");
		if (data) {
			size_t len = strlen(data);

			if (len > st[i].elem_size) {
				fprintf(stderr, "gochan select: case %u: DATA is %zu bytes, the element size %u\n",
					i, len, st[i].elem_size);
				return EXIT_USAGE;
			}
			memcpy(sendbuf[i], data, len);
		}
		cases[i] = GOCHAN_SEND(fd, sendbuf[i]);
	}

	if (w.try)
		ret = gochan_try_select(cases, n, &res);
	else
		ret = gochan_select(cases, n, &res, w.deadline_ns);
	if (ret == -EPIPE) {
		printf("%u\n", res.index);
		fflush(stdout);
		fprintf(stderr, "gochan select: case %u (%s): channel is closed\n",
			res.index, argv[optind + res.index]);
		return EXIT_CLOSED;
	}
	if (ret < 0)
		return fail(ret, "select");

	/* The case ran: say which, and what a receive got. */
	printf("%d", ret);
	if (cases[ret].op == GOCHAN_OP_RECV && res.ok && st[ret].elem_size) {
		putchar(' ');
		/* Up to the first NUL byte, as recv prints it. */
		fwrite(elem, 1, strnlen((char *)elem, st[ret].elem_size), stdout);
	}
	putchar('\n');
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "gochan select: writing the result: %s\n",
			strerror(errno));
		return EXIT_ERROR;
	}
	if (cases[ret].op == GOCHAN_OP_RECV && !res.ok)
		return EXIT_CLOSED;
	return EXIT_DONE;
}

static int cmd_close(int argc, char **argv)
{
	struct gochan_stat st;
	int fd, ret;

	if (argc != 2)
		return usage_error("%s", "usage: close FD");
	if ((ret = parse_fd(argv[1], &fd, &st)))
		return ret;
	ret = gochan_close(fd);
	return ret ? fail(ret, argv[1]) : EXIT_DONE;
}

static int cmd_stat(int argc, char **argv)
{
	struct gochan_stat st;
	int fd, ret;

	if (argc != 2)
		return usage_error("%s", "usage: stat FD");
	if ((ret = parse_fd(argv[1], &fd, &st)))
		return ret;
	printf("id: %" PRIu64 "\n"
	       "elem_size: %u\n"
	       "capacity: %u\n"
	       "len: %u\n"
	       "closed: %u\n"
	       "send_waiters: %u\n"
	       "recv_waiters: %u\n"
	       "sent: %" PRIu64 "\n"
	       "received: %" PRIu64 "\n"
	       "creator_pid: %d\n",
	       (uint64_t)st.id, st.elem_size, st.capacity, st.len,
	       !!(st.flags & GOCHAN_STAT_CLOSED), st.send_waiters,
	       st.recv_waiters, (uint64_t)st.sent, (uint64_t)st.received,
	       st.creator_pid);
	if (fflush(stdout)) {
		fprintf(stderr, "gochan stat: %s\n", strerror(errno));
		return EXIT_ERROR;
	}
	return EXIT_DONE;
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return EXIT_DONE;
}

static const struct command {
	const char	*name;
	int		(*run)(int argc, char **argv);	/* argv[0] is the name */
} commands[] = {
	{ "make",	cmd_make },
	{ "send",	cmd_send },
	{ "recv",	cmd_recv },
	{ "select",	cmd_select },
	{ "open",	cmd_open },
	{ "unlink",	cmd_unlink },
	{ "list",	cmd_list },
	{ "close",	cmd_close },
	{ "stat",	cmd_stat },
	{ "help",	cmd_help },
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return cmd_help(0, NULL);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			cmd_name = commands[i].name;
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "gochan: unknown command '%s' (see 'gochan help')\n", argv[1]);
	return EXIT_USAGE;
}
