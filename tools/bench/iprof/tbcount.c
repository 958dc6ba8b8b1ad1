// SPDX-License-Identifier: GPL-2.0
/*
 * tbcount: a QEMU TCG plugin counting the guest instructions executed,
 * per translated block, for gochan-vm-iprof.
 *
 * Each block, when translated, gets a counter that an inline add (no
 * call) raises by the block's instruction count every time it runs.  At
 * exit the plugin writes one line per block start address that ran,
 * "<16 hex digits> <instructions>", to the file named by its out=
 * argument; a block translated twice (after a flush) has two lines, which
 * the reader adds up.  A block that an exception leaves half-way counts
 * whole: it happens once per interrupt or fault, noise next to loops.
 *
 * The counters are plain (not atomic): meant for one vCPU.
 *
 * Debian's QEMU is built with plugin support but ships no plugin header,
 * so the few functions of QEMU's plugin API version 1 used here are
 * declared below, as QEMU documents them (docs/devel/tcg-plugins.rst).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;	/* not looked at */
enum { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
					       struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
					      int op, void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
				    qemu_plugin_udata_cb_t cb, void *userdata);

#define EXPORT __attribute__((visibility("default")))

EXPORT int qemu_plugin_version = 1;

/* One translated block's counter; all of them on one list. */
struct block {
	uint64_t	vaddr;
	uint64_t	insns;		/* raised by the translated code */
	struct block	*next;
};

static struct block *blocks;		/* [lock] */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const char *out_path;

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	struct block *b = calloc(1, sizeof(*b));

	(void)id;
	if (!b) {
		fprintf(stderr, "tbcount: out of memory\n");
		abort();
	}
	b->vaddr = qemu_plugin_tb_vaddr(tb);
	pthread_mutex_lock(&lock);
	b->next = blocks;
	blocks = b;
	pthread_mutex_unlock(&lock);
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 &b->insns,
						 qemu_plugin_tb_n_insns(tb));
}

static void on_qemu_exit(qemu_plugin_id_t id, void *userdata)
{
	FILE *f = fopen(out_path, "w");

	(void)id;
	(void)userdata;
	if (!f) {
		perror(out_path);
		return;
	}
	pthread_mutex_lock(&lock);
	for (struct block *b = blocks; b; b = b->next)
		if (b->insns)
			fprintf(f, "%016" PRIx64 " %" PRIu64 "\n", b->vaddr, b->insns);
	pthread_mutex_unlock(&lock);
	if (fclose(f))
		perror(out_path);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
			       int argc, char **argv)
{
	(void)info;
	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], "out=", 4) == 0)
			out_path = argv[i] + 4;
	if (!out_path) {
		fprintf(stderr, "tbcount: needs out=FILE\n");
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
	return 0;
}
