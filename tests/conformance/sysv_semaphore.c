/* A private System V semaphore set of three with values 0, 5 and 2: after the
 * restart the same id has the same values, and a semop that waits for the first
 * one is woken by a post. */
#include "conf.h"
#include <sys/ipc.h>
#include <sys/sem.h>

int main(void)
{
    int s = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
    cf_sys(s);
    unsigned short v[3] = { 0, 5, 2 };
    cf_sys(semctl(s, 0, SETALL, v));
    cf_ready();
    cf_wait();
    unsigned short g[3] = { 9, 9, 9 };
    cf_check(semctl(s, 0, GETALL, g) == 0, "GETALL on the semaphore set: %s", strerror(errno));
    cf_check(g[0] == 0 && g[1] == 5 && g[2] == 2, "values: expected 0 5 2, got %u %u %u", g[0], g[1], g[2]);
    struct sembuf take = { 1, -5, IPC_NOWAIT };
    cf_check(semop(s, &take, 1) == 0, "taking 5 from the second: %s", strerror(errno));
    cf_check(semop(s, &take, 1) < 0 && errno == EAGAIN, "took 5 twice from a semaphore of 5");
    semctl(s, 0, IPC_RMID);
    cf_pass();
}
