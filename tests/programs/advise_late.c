/* A region whose advice changes after the checkpoint began: its thread-context
 * callback (run before the threads are frozen, after the runtime read the regions'
 * VmFlags ahead of the freeze) advises MADV_NOHUGEPAGE on a region that had no
 * advice.  The image must show the advice (vmflags_watch.c: the call through libc
 * makes the dump read smaps again frozen).
 *   advise_late   prints "region ADDR" (hex), then waits for SIGTERM */
#include <libcr.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define LEN (8UL << 20)

static char *region;

static int late_advice(void *arg)
{
    (void)arg;
    if (madvise(region, LEN, MADV_NOHUGEPAGE) != 0)
        perror("advise_late: madvise");
    cr_checkpoint(CR_CHECKPOINT_READY);
    return 0;
}

int main(void)
{
    /* between two inaccessible pages: a mapping of its own, never merged */
    char *m = mmap(NULL, LEN + 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m + 4096, LEN, PROT_READ | PROT_WRITE) != 0) {
        perror("advise_late: mmap");
        return 1;
    }
    region = m + 4096;
    memset(region, 7, LEN);
    if (cr_init() < 0 || cr_register_callback(late_advice, NULL, CR_THREAD_CONTEXT) < 0) {
        perror("advise_late: cr_init");
        return 1;
    }
    printf("region %lx\n", (unsigned long)region);
    fflush(stdout);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sig;
    sigwait(&set, &sig);
    return 0;
}
