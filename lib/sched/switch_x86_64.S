/* SPDX-License-Identifier: MIT */
/*
 * The goroutine context switch, x86-64 System V.
 *
 * void _go_switch(struct go_regs *from, struct go_regs *to)
 *	Push the callee-saved registers (rbx, rbp, r12-r15), mxcsr and the x87 control word on
 *	the current stack, store the stack pointer in from->sp, load to->sp and pop the same
 *	from there. Everything else is caller-saved, so the C caller has already saved it.
 *
 * A new context (_go_regs_init, in switch.c) is a stack holding such a frame whose return
 * address is _go_switch_trampoline, with the entry function in rbx and its argument in r12.
 */
	.text
	.globl	_go_switch
	.hidden	_go_switch
	.type	_go_switch, @function
	.p2align 4
_go_switch:
	.cfi_startproc
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$8, %rsp
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%rsp, (%rdi)
	movq	(%rsi), %rsp
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.cfi_endproc
	.size	_go_switch, .-_go_switch

/* First instruction of a new goroutine: entry(arg), which never returns. */
	.globl	_go_switch_trampoline
	.hidden	_go_switch_trampoline
	.type	_go_switch_trampoline, @function
	.p2align 4
_go_switch_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	movq	%r12, %rdi
	callq	*%rbx
	ud2
	.cfi_endproc
	.size	_go_switch_trampoline, .-_go_switch_trampoline

/*
 * void go_syscall_enter(void) (<gochan/sched.h>): the callee-saved registers as the caller has
 * them, and the caller's stack pointer, to _go_syscall_enter_c(regs, sp), before any code of
 * ours can change them. The goroutine goes on into its system call, keeping values of its
 * callers in those registers: the garbage collector scans the copies (proc.c).
 */
	.globl	go_syscall_enter
	.type	go_syscall_enter, @function
	.p2align 4
go_syscall_enter:
	.cfi_startproc
	subq	$56, %rsp
	.cfi_adjust_cfa_offset 56
	movq	%rbx, 0(%rsp)
	movq	%rbp, 8(%rsp)
	movq	%r12, 16(%rsp)
	movq	%r13, 24(%rsp)
	movq	%r14, 32(%rsp)
	movq	%r15, 40(%rsp)
	movq	%rsp, %rdi
	leaq	56(%rsp), %rsi
	call	_go_syscall_enter_c
	addq	$56, %rsp
	.cfi_adjust_cfa_offset -56
	ret
	.cfi_endproc
	.size	go_syscall_enter, .-go_syscall_enter

	.section .note.GNU-stack,"",@progbits
