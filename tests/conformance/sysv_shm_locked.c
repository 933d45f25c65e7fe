/* A System V segment (removed but for its attachment) locked in memory with SHM_LOCK:
 * still locked, with its data.  Its id is looked up where it is mapped (the inode of
 * the mapping in /proc/self/maps), which a restart may change. */
#include "conf.h"
#include <sys/ipc.h>
#include <sys/shm.h>

#define LEN 65536

static int shmid_at(const void *addr)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    unsigned long lo, hi, ino;
    int id = -1;
    while (f && id < 0 && fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx %*s %*s %*s %lu", &lo, &hi, &ino) == 3 && lo == (unsigned long)addr)
            id = strstr(line, "/SYSV") ? (int)ino : -1;
    if (f)
        fclose(f);
    return id;
}

int main(void)
{
    int id = shmget(IPC_PRIVATE, LEN, IPC_CREAT | 0600);
    cf_sys(id);
    char *m = shmat(id, NULL, 0);
    cf_check(m != (void *)-1, "shmat: %s", strerror(errno));
    cf_sys(shmctl(id, IPC_RMID, NULL));
    cf_fill(m, LEN, 43);
    uint64_t want = cf_sum(m, LEN);
    cf_sys(shmctl(id, SHM_LOCK, NULL));
    cf_ready();
    cf_wait();
    cf_check(cf_sum(m, LEN) == want, "the segment's data differs");
    int now = shmid_at(m);
    cf_check(now >= 0, "no System V segment mapped at %p any more", (void *)m);
    struct shmid_ds ds;
    cf_check(shmctl(now, IPC_STAT, &ds) == 0, "IPC_STAT of segment %d: %s", now, strerror(errno));
    cf_check(ds.shm_perm.mode & SHM_LOCKED, "segment %d: expected SHM_LOCKED, mode 0%o", now, ds.shm_perm.mode);
    cf_check(ds.shm_perm.mode & SHM_DEST, "segment %d: expected removed (SHM_DEST), mode 0%o", now, ds.shm_perm.mode);
    cf_check((ds.shm_perm.mode & 0777) == 0600, "segment %d: expected permissions 0600, got 0%o", now, ds.shm_perm.mode & 0777);
    cf_pass();
}
