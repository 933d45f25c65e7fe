/* Two System V segments (removed but for their attachments): one attached read-only
 * (SHM_RDONLY: it cannot be made writable), one attached read-write and mprotected
 * read-only since (it can).  Both keep their data and their protection. */
#include "conf.h"
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

#define LEN 65536

static char *segment(unsigned seed, int flags, uint64_t *sum)
{
    int id = shmget(IPC_PRIVATE, LEN, IPC_CREAT | 0600);
    cf_sys(id);
    char *w = shmat(id, NULL, 0);
    cf_check(w != (void *)-1, "shmat: %s", strerror(errno));
    cf_fill(w, LEN, seed);
    *sum = cf_sum(w, LEN);
    char *m = w;
    if (flags & SHM_RDONLY) {
        m = shmat(id, NULL, SHM_RDONLY);
        cf_check(m != (void *)-1, "shmat SHM_RDONLY: %s", strerror(errno));
        cf_sys(shmdt(w));
    }
    cf_sys(shmctl(id, IPC_RMID, NULL));
    return m;
}

int main(void)
{
    uint64_t want_ro, want_rw;
    char *ro = segment(41, SHM_RDONLY, &want_ro), *rw = segment(42, 0, &want_rw);
    cf_sys(mprotect(rw, LEN, PROT_READ));
    cf_ready();
    cf_wait();
    cf_check(cf_sum(ro, LEN) == want_ro && cf_sum(rw, LEN) == want_rw, "a segment's data differs");
    cf_check(!cf_has_vmflag(ro, "wr") && !cf_has_vmflag(rw, "wr"), "a segment is writable (VmFlags:%s /%s)",
             cf_vmflags(ro), cf_vmflags(rw));
    cf_check(mprotect(ro, LEN, PROT_READ | PROT_WRITE) < 0 && errno == EACCES,
             "mprotect writable of the SHM_RDONLY segment: expected EACCES, got %s",
             errno == EACCES ? "success" : strerror(errno));
    cf_check(mprotect(rw, LEN, PROT_READ | PROT_WRITE) == 0, "mprotect writable of the read-write segment: %s",
             strerror(errno));
    rw[5] = 7;
    cf_pass();
}
