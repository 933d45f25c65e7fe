/* A System V shared memory segment attached, with data: "rmid" removes it at once
 * (gone but for the attachment), otherwise only at the end.  Prints a running
 * checksum of it, LINES lines 50 ms apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>

int main(int argc, char **argv)
{
    int lines = argc > 1 ? atoi(argv[1]) : 30, rmid = argc > 2 && !strcmp(argv[2], "rmid");
    int id = shmget(IPC_PRIVATE, 65536, IPC_CREAT | 0600);
    unsigned char *p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
    if (p == (void *)-1) {
        perror("shmget/shmat");
        return 1;
    }
    if (rmid)
        shmctl(id, IPC_RMID, NULL);
    for (long i = 0; i < 65536; i++)
        p[i] = (unsigned char)(i * 13);
    unsigned long sum = 0;
    for (int i = 0; i < lines; i++) {
        for (long k = 0; k < 65536; k++)
            sum += p[k] * (unsigned long)(i + 1);
        printf("%d %lu\n", i, sum);
        fflush(stdout);
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    shmctl(id, IPC_RMID, NULL);
    return 0;
}
