/* SPDX-License-Identifier: MIT */
/*
 * switch.c - a new goroutine's first frame, laid out for switch_<arch>.S.
 */
#include <stdint.h>
#include <string.h>

#include "internal.h"

#if !defined(__x86_64__)
#error "gochan's scheduler has a context switch for x86-64 only (lib/sched/switch_x86_64.S)"
#endif

void _go_switch_trampoline(void);

/*
 * The frame _go_switch pops, from the lowest address: mxcsr + x87 control word (8 bytes),
 * r15, r14, r13, r12 (= arg), rbx (= entry), rbp, then the return address (the trampoline).
 * After its ret the stack pointer is 16-byte aligned, as the trampoline's call needs.
 */
void _go_regs_init(struct go_regs *r, void *stack_top, void (*entry)(void *), void *arg)
{
	uintptr_t top = (uintptr_t)stack_top & ~(uintptr_t)15;
	uint64_t *sp = (uint64_t *)top;

	*--sp = (uint64_t)(uintptr_t)_go_switch_trampoline;
	*--sp = 0;				/* rbp: ends frame-pointer walks */
	*--sp = (uint64_t)(uintptr_t)entry;	/* rbx */
	*--sp = (uint64_t)(uintptr_t)arg;	/* r12 */
	*--sp = 0;				/* r13 */
	*--sp = 0;				/* r14 */
	*--sp = 0;				/* r15 */
	*--sp = 0x037f00001f80ull;		/* mxcsr 0x1f80 (low), x87 cw 0x037f (high) */
	r->sp = sp;
}
