/* long cr_snapshot(struct ctx_jmp *j)
 * Saves the callee-saved registers, the stack pointer and the return address, like
 * setjmp without signal masks or pointer mangling.  Returns 0; a thread rebuilt by the
 * restorer from this record resumes here returning 1. */
    .text
    .globl cr_snapshot
    .hidden cr_snapshot
    .type cr_snapshot, @function
cr_snapshot:
    .cfi_startproc
    movq %rbx, 0(%rdi)
    movq %rbp, 8(%rdi)
    movq %r12, 16(%rdi)
    movq %r13, 24(%rdi)
    movq %r14, 32(%rdi)
    movq %r15, 40(%rdi)
    leaq 8(%rsp), %rax
    movq %rax, 48(%rdi)      /* rsp after our return */
    movq (%rsp), %rax
    movq %rax, 56(%rdi)      /* return address */
    xorl %eax, %eax
    ret
    .cfi_endproc
    .size cr_snapshot, .-cr_snapshot
    .section .note.GNU-stack,"",@progbits
