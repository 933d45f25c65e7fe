/* Where a checkpoint's stop goes (stop_times.h).  The marks are taken while every
 * other thread is frozen, so they only read the clock into a static table; the line
 * is written by the manager once the program runs again:
 *   stop_us total=T at=F frozen=A state=B ... manager_cpu=C
 * each figure in microseconds from the step marked before it, total from the freeze
 * to the release, F the freeze's time on CLOCK_MONOTONIC in microseconds, C the
 * manager thread's CPU time between the two (the rest of total: waiting for a core, or
 * blocked).  bench/checkpoint.sh reads total (the runtime's own measure of the
 * stop, free of the program's own scheduling delays). */
#define _GNU_SOURCE
#include "stop_times.h"
#include "runtime.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *const step_name[CR_STOP_NSTEPS] = {
    "freeze", "frozen", "state", "regions", "scan", "collect", "blocks", "records", "fork", "ended", "settled", "release",
};
static uint64_t marks[CR_STOP_NSTEPS];
static uint64_t cpu[2]; /* the manager's CPU clock at the freeze and at the release */
static unsigned walkers;

static unsigned long long rewalked_kib;
static int rewalked;

void cr_stop_walkers(unsigned n)
{
    walkers = n;
}

void cr_stop_rewalked(unsigned long long kib)
{
    rewalked_kib = kib;
    rewalked = 1;
}
static char path[256];

void cr_stop_times_init(void)
{
    const char *p = getenv("CR_STOP_TIMES");
    if (p && *p && strlen(p) < sizeof path)
        strcpy(path, p);
}

void cr_stop_mark(enum cr_stop_step step)
{
    /* the system call, not the vDSO's clock_gettime: a program may have unmapped the
     * vDSO (conformance/vdso_unmapped) */
    struct timespec ts;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    marks[step] = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
    if (step == CR_STOP_FREEZE || step == CR_STOP_RELEASE) {
        /* the manager's own CPU time in the stop: the rest is waiting for a core */
        syscall(SYS_clock_gettime, CLOCK_THREAD_CPUTIME_ID, &ts);
        cpu[step == CR_STOP_RELEASE] = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
    }
}

void cr_stop_report(void)
{
    if (path[0] && marks[CR_STOP_FREEZE] && marks[CR_STOP_RELEASE]) {
        char line[512];
        int n = snprintf(line, sizeof line, "stop_us total=%llu at=%llu",
                         (unsigned long long)((marks[CR_STOP_RELEASE] - marks[CR_STOP_FREEZE]) / 1000),
                         (unsigned long long)(marks[CR_STOP_FREEZE] / 1000));
        uint64_t prev = marks[CR_STOP_FREEZE];
        for (int i = CR_STOP_FROZEN; i < CR_STOP_NSTEPS && n < (int)sizeof line - 40; i++)
            if (marks[i]) {
                n += snprintf(line + n, sizeof line - (size_t)n, " %s=%llu", step_name[i],
                              (unsigned long long)((marks[i] - prev) / 1000));
                prev = marks[i];
            }
        if (cpu[1] > cpu[0] && n < (int)sizeof line - 40)
            n += snprintf(line + n, sizeof line - (size_t)n, " manager_cpu=%llu",
                          (unsigned long long)((cpu[1] - cpu[0]) / 1000));
        if (walkers && n < (int)sizeof line - 40)
            n += snprintf(line + n, sizeof line - (size_t)n, " walkers=%u", walkers);
        if (rewalked && n < (int)sizeof line - 40)
            n += snprintf(line + n, sizeof line - (size_t)n, " rewalked_kib=%llu", rewalked_kib);
        line[n++] = '\n';
        cr_fd_section_begin(); /* the program runs: its close of "all" fds waits */
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
            ssize_t w = write(fd, line, (size_t)n);
            (void)w;
            close(fd);
        }
        cr_fd_section_end();
    }
    memset(marks, 0, sizeof marks);
    memset(cpu, 0, sizeof cpu);
    walkers = 0;
    rewalked = 0;
    rewalked_kib = 0;
}
