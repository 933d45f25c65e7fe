/* A restored thread has a new tid, but the robust mutexes it held still name the old
 * one as their owner: the futex word's TID bits (the kernel's robust-futex ABI) and,
 * in glibc's pthread_mutex_t, __owner.  Unlocking such a mutex gave EPERM and locking
 * it again hung.  These mutexes can be found reliably: each thread lists the robust
 * mutexes it holds in its robust list (set_robust_list), which the kernel itself walks
 * when a thread dies.  Each restored thread walks its own list and writes its new tid
 * where the old one was.  (A mutex that is not robust is on no list: nothing tells its
 * owner field from any other number in memory, so it is left as it is; the README
 * says so.)  Runs in the restored process while every thread is parked; for a
 * restored process without the runtime, in cr_restart while it holds every thread
 * (restart_hole.c). */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "robust_owner.h"

#define TID_MASK 0x3fffffffu      /* FUTEX_TID_MASK */
#define LIST_LIMIT 2048           /* ROBUST_LIST_LIMIT: the kernel walks no further */
#define GLIBC_LIST_NEXT 32        /* glibc x86_64: __list.__next (a list entry) after __lock */
#define GLIBC_ROBUST_KIND 16      /* PTHREAD_MUTEX_ROBUST_NORMAL_NP in __kind */

/* Read or write the process's memory without faulting: the list is the program's. */
static int proc_vm(pid_t pid, int write, uintptr_t addr, void *buf, size_t len)
{
    struct iovec here = { buf, len }, there = { (void *)addr, len };
    long n = syscall(write ? SYS_process_vm_writev : SYS_process_vm_readv, pid, &here, 1,
                     &there, 1, 0);
    return n == (long)len;
}
#define self_vm(...) proc_vm(pid, __VA_ARGS__)

static void new_owner(pid_t pid, uintptr_t futex, uintptr_t entry, pid_t old, pid_t now)
{
    uint32_t w;
    if (!self_vm(0, futex, &w, sizeof w) || (w & TID_MASK) != (uint32_t)old)
        return;
    w = (w & ~TID_MASK) | (uint32_t)now;
    if (!self_vm(1, futex, &w, sizeof w))
        return;
    /* glibc's mutex: { int __lock, __count, __owner; unsigned __nusers; int __kind;
     * short __spins, __elision; { __prev, __next } __list }, its entry &__list.__next:
     * the owner field too, once that layout and the robust kind are seen */
    int32_t m[5];
    if (entry == futex + GLIBC_LIST_NEXT && self_vm(0, futex, m, sizeof m) &&
        (m[4] & GLIBC_ROBUST_KIND) && m[2] == old) {
        int32_t o = now;
        self_vm(1, futex + 8, &o, sizeof o);
    }
}

void cr_robust_new_tid(uint64_t head_addr, pid_t old, pid_t now)
{
    cr_robust_new_tid_in(getpid(), head_addr, old, now);
}

void cr_robust_new_tid_in(pid_t pid, uint64_t head_addr, pid_t old, pid_t now)
{
    struct {
        uint64_t next;
        int64_t futex_offset;
        uint64_t pending;
    } head;
    if (!head_addr || old <= 0 || old == now || !self_vm(0, head_addr, &head, sizeof head))
        return;
    uint64_t entry = head.next & ~1ull; /* bit 0: a PI mutex */
    for (int n = 0; entry && entry != head_addr && n < LIST_LIMIT; n++) {
        new_owner(pid, (uintptr_t)(entry + (uint64_t)head.futex_offset), (uintptr_t)entry, old, now);
        uint64_t next;
        if (!self_vm(0, entry, &next, sizeof next))
            break;
        entry = next & ~1ull;
    }
    uint64_t pending = head.pending & ~1ull; /* a lock or unlock under way */
    if (pending)
        new_owner(pid, (uintptr_t)(pending + (uint64_t)head.futex_offset), (uintptr_t)pending, old, now);
}
