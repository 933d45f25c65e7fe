/* POSIX timers (timer_create): listed by /proc/self/timers, read with timer_gettime
 * while the threads are parked, and kept in the runtime's own memory, which the image
 * carries.  The restored copy makes them again with the same ids (the kernel hands
 * ids out in order: ids in between are taken and given back), the same clock, signal
 * and target thread, and the time that was left.
 *
 * A SIGEV_THREAD timer is glibc's: the kernel signals SIGTIMER to glibc's helper
 * thread, which starts a thread for the function.  The helper is restored like any
 * thread (quiesce_signal.c reaches it); glibc keeps its tid in a hidden variable for
 * the timers made later, found by its value in glibc's writable data and set to the
 * new tid after a restore. */
#define _GNU_SOURCE
#include "runtime.h"

#include <errno.h>
#include <link.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif

#define SIGTIMER 32  /* glibc's SIGCANCEL, which its SIGEV_THREAD timers signal */

/* the writable data of libc and librt (glibc before 2.34 keeps timers in librt) */
static struct { char *start; size_t len; } glibc_data[4];
static int nglibc_data;
static pid_t *helper_tid_var; /* glibc's record of its helper's tid */
static int helper_slot;

static int find_glibc_data(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size, (void)arg;
    const char *base = strrchr(info->dlpi_name, '/');
    base = base ? base + 1 : info->dlpi_name;
    if (strncmp(base, "libc.so", 7) && strncmp(base, "librt.so", 8))
        return 0;
    for (int i = 0; i < info->dlpi_phnum && nglibc_data < 4; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W))
            glibc_data[nglibc_data++] = (typeof(glibc_data[0])){ (char *)(info->dlpi_addr + ph->p_vaddr),
                                                                 ph->p_memsz };
    }
    return 0;
}

void cr_posix_timers_init(void)
{
    dl_iterate_phdr(find_glibc_data, NULL);
}

/* Whether p looks like the owner field of a locked pthread mutex (lock word 1 or 2
 * two ints before, a user count after): the helper holds glibc's lock of its timer
 * list while it starts a thread, and that lock names it too. */
static int held_mutex_owner(const pid_t *p, const char *start)
{
    return (const char *)(p - 2) >= start && (p[-2] == 1 || p[-2] == 2) && p[1] >= 1;
}

/* The one int of glibc's data holding tid, or NULL (none, or several). */
static pid_t *glibc_tid_var(pid_t tid)
{
    pid_t *found = NULL;
    int n = 0;
    for (int i = 0; i < nglibc_data; i++)
        for (size_t off = 0; off + 2 * sizeof(pid_t) <= glibc_data[i].len; off += sizeof(pid_t)) {
            pid_t *p = (pid_t *)(glibc_data[i].start + off);
            if (*p == tid && !held_mutex_owner(p, glibc_data[i].start) && n++ == 0)
                found = p;
        }
    return n == 1 ? found : NULL;
}

static int slot_of(pid_t tid)
{
    for (uint32_t i = 0; i < crt.nslots; i++)
        if (crt.slots[i].tid == tid)
            return (int)i;
    return -1;
}

int cr_save_posix_timers(char *msg, size_t msglen)
{
    crt.ntimers = 0;
    char buf[16384];
    int fd = open("/proc/self/timers", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0; /* a kernel without it has no timers to tell */
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    struct cr_posix_timer *t = NULL;
    char *save = NULL; /* strtok_r: a frozen thread of the program may be in a strtok() */
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "ID: ", 4)) {
            if (crt.ntimers == CR_MAX_POSIX_TIMERS) {
                snprintf(msg, msglen, "more than %d POSIX timers", CR_MAX_POSIX_TIMERS);
                return -E2BIG;
            }
            t = &crt.timers[crt.ntimers++];
            memset(t, 0, sizeof *t);
            t->id = atoi(line + 4);
            t->slot = -1;
        } else if (t && !strncmp(line, "signal: ", 8)) {
            char *slash = strchr(line, '/');
            t->signo = atoi(line + 8);
            t->value = slash ? strtoull(slash + 1, NULL, 16) : 0;
        } else if (t && !strncmp(line, "notify: ", 8)) {
            char *dot = strrchr(line, '.');
            t->notify = !strncmp(line + 8, "none", 4) ? SIGEV_NONE : SIGEV_SIGNAL;
            if (strstr(line, "/tid.") && dot) {
                pid_t tid = (pid_t)atoi(dot + 1);
                t->notify |= SIGEV_THREAD_ID;
                t->slot = tid == crt.manager_tid ? -1 : slot_of(tid);
                if (t->slot < 0 && tid != crt.manager_tid) {
                    snprintf(msg, msglen, "POSIX timer %d signals thread %d, which is not one of "
                             "the process's", t->id, (int)tid);
                    return -ENOTSUP;
                }
            }
        } else if (t && !strncmp(line, "ClockID: ", 9)) {
            t->clockid = atoi(line + 9);
        }
    }
    helper_tid_var = NULL;
    for (uint32_t i = 0; i < crt.ntimers; i++) {
        struct cr_posix_timer *h = &crt.timers[i];
        if (h->signo != SIGTIMER || !(h->notify & SIGEV_THREAD_ID) || h->slot < 0 ||
            (helper_tid_var && helper_slot == h->slot))
            continue;
        helper_slot = h->slot;
        helper_tid_var = glibc_tid_var(crt.slots[h->slot].tid);
        if (!helper_tid_var) {
            snprintf(msg, msglen, "POSIX timer %d notifies by thread (SIGEV_THREAD) through thread "
                     "%d, whose tid was not found in glibc's data to be renewed at restart; "
                     "this glibc is not supported for SIGEV_THREAD timers: use SIGEV_SIGNAL "
                     "or a timerfd", h->id, crt.slots[h->slot].tid);
            return -ENOTSUP;
        }
    }
    for (uint32_t i = 1; i < crt.ntimers; i++) /* by id: they are made again in order */
        for (uint32_t k = i; k > 0 && crt.timers[k - 1].id > crt.timers[k].id; k--) {
            struct cr_posix_timer tmp = crt.timers[k];
            crt.timers[k] = crt.timers[k - 1];
            crt.timers[k - 1] = tmp;
        }
    for (uint32_t i = 0; i < crt.ntimers; i++)
        if (syscall(SYS_timer_gettime, crt.timers[i].id, &crt.timers[i].spec) < 0) {
            snprintf(msg, msglen, "reading POSIX timer %d", crt.timers[i].id);
            return -errno;
        }
    return 0;
}

void cr_restore_posix_timers(void)
{
    if (helper_tid_var) /* the timers glibc makes from now on go to its new helper */
        *helper_tid_var = crt.slots[helper_slot].tid;
    for (uint32_t i = 0; i < crt.ntimers; i++) {
        struct cr_posix_timer *t = &crt.timers[i];
        struct sigevent ev;
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = t->notify;
        ev.sigev_signo = t->signo;
        ev.sigev_value.sival_ptr = (void *)(uintptr_t)t->value;
        if (t->notify & SIGEV_THREAD_ID)
            ev._sigev_un._tid = t->slot < 0 ? crt.manager_tid : crt.slots[t->slot].tid;
        int id = -1, tries = 0;
        /* ids come in order: take and give back those below the one wanted */
        while (tries++ < 100000) {
            if (syscall(SYS_timer_create, t->clockid, &ev, &id) < 0)
                break;
            if (id >= t->id)
                break;
            syscall(SYS_timer_delete, id);
        }
        if (id != t->id) {
            if (id >= 0)
                syscall(SYS_timer_delete, id);
            char msg[96]; /* no stdio: a stopped thread may hold stderr's lock */
            int n = snprintf(msg, sizeof msg, "slurm-cr: POSIX timer %d could not be made "
                             "again with its id\n", t->id);
            (void)!write(2, msg, (size_t)n);
            continue;
        }
        if (t->spec.it_value.tv_sec || t->spec.it_value.tv_nsec)
            syscall(SYS_timer_settime, id, 0, &t->spec, NULL);
    }
}
