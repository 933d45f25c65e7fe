/* A System V shared memory segment attached, with data: still attached, the same
 * segment (a write through it is seen through a second attachment). */
#include "conf.h"
#include <sys/ipc.h>
#include <sys/shm.h>

int main(void)
{
    int id = shmget(IPC_PRIVATE, 65536, IPC_CREAT | 0600);
    cf_sys(id);
    char *m = shmat(id, NULL, 0);
    cf_check(m != (void *)-1, "shmat: %s", strerror(errno));
    shmctl(id, IPC_RMID, NULL); /* gone with its last attachment */
    cf_fill(m, 65536, 12);
    uint64_t want = cf_sum(m, 65536);
    cf_ready();
    cf_wait();
    cf_check(cf_sum(m, 65536) == want, "the segment's data differs");
    struct cf_map mp;
    cf_check(cf_map_of(m, &mp) && strstr(mp.name, "SYSV"), "the mapping is not a System V segment any more (%s)", mp.name);
    struct shmid_ds ds;
    cf_check(shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_nattch == 1, "segment %d: %s", id, strerror(errno));
    cf_pass();
}
