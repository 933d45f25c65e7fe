/* A System V segment (removed but for its attachments) shared with a child: both
 * still see each other's writes afterwards, and the data written before is there. */
#include "conf.h"
#include <sys/ipc.h>
#include <sys/shm.h>

#define LEN (4 * 4096)

int main(void)
{
    int id = shmget(IPC_PRIVATE, LEN, IPC_CREAT | 0600);
    cf_sys(id);
    volatile uint32_t *m = shmat(id, NULL, 0);
    cf_check(m != (void *)-1, "shmat: %s", strerror(errno));
    cf_sys(shmctl(id, IPC_RMID, NULL));
    cf_fill((char *)m + 4096, LEN - 4096, 22);
    uint64_t want = cf_sum((char *)m + 4096, LEN - 4096);
    int ask[2], ans[2];
    cf_sys(pipe(ask));
    cf_sys(pipe(ans));
    pid_t c = fork();
    cf_sys(c);
    if (c == 0) { /* on each byte: m[1] = m[0] + 1, and the checksum it sees into m[2..3] */
        char b;
        close(ask[1]);
        close(ans[0]);
        while (read(ask[0], &b, 1) == 1) {
            m[1] = m[0] + 1;
            uint64_t s = cf_sum((char *)m + 4096, LEN - 4096);
            memcpy((void *)(m + 2), &s, 8);
            if (write(ans[1], "k", 1) != 1)
                _exit(1);
        }
        _exit(0);
    }
    m[0] = 10;
    cf_write_all(ask[1], "?", 1);
    char b;
    cf_check(cf_readable(ans[0], 10) && read(ans[0], &b, 1) == 1 && m[1] == 11, "setup: the child does not share the segment");
    cf_ready();
    cf_wait();
    cf_check(cf_sum((char *)m + 4096, LEN - 4096) == want, "the shared data differs (parent's view)");
    struct cf_map mp;
    cf_check(cf_map_of((void *)m, &mp) && strstr(mp.name, "SYSV"), "the mapping is not a System V segment any more (%s)", mp.name);
    m[0] = 1234;
    cf_write_all(ask[1], "?", 1);
    cf_check(cf_readable(ans[0], 10) && read(ans[0], &b, 1) == 1, "the child does not answer");
    cf_check(m[1] == 1235, "the child's write: expected 1235 in the segment, got %u (not shared any more)", m[1]);
    uint64_t s;
    memcpy(&s, (void *)(m + 2), 8);
    cf_check(s == want, "the shared data differs in the child's view");
    close(ask[1]);
    cf_waitpid(c, 10, "the child");
    cf_pass();
}
