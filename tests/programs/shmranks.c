/* Two tasks of one step counting together in memory they share, as MPI ranks on a
 * node do: rank 0 makes a System V segment and a POSIX shared memory file
 * (/dev/shm), rank 1 attaches both (the segment's id and the file's name through DIR),
 * then rank 0 removes both (IPC_RMID, shm_unlink): from there they live only while
 * mapped.  The ranks take turns (the turn in the segment): each adds to a counter in
 * the segment and mixes the iteration into one in the file, and writes both to
 * DIR/rank.R, one line an iteration.  At the end: "rank R final SYSV FILE".
 * A private copy of either memory after a restart makes a rank wait for a turn that
 * never comes: it gives up after some 60 s of its own waiting (exit 3).
 * With SHMRANKS_NAMED set, the file keeps its name until rank 0 removes it at the end
 * (as Open MPI's vader segments do; exit 5 if it is not there then).
 * With SHMRANKS_KEEP_FD set, rank 0 keeps its fd of the file (as UCX's POSIX memory
 * does) and checks each turn that reading it gives what the mapping holds (exit 4).
 * usage: shmranks DIR ITERS DELAY_MS   (SLURM_PROCID 0 or 1; SLURM_JOB_ID) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct seg {               /* the System V segment */
    volatile int attached; /* how many ranks have both */
    volatile int ready;    /* rank 0 removed both names */
    volatile int turn;
    volatile uint64_t count;
};
struct page {              /* the /dev/shm file */
    volatile uint64_t mix;
};

static void pause_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* until *v == want, or some 60 s of our own waiting (a frozen or restarting process
 * does not count it) */
static int await(volatile int *v, int want, const char *what)
{
    for (long i = 0; *v != want; i++) {
        if (i == 60000) {
            fprintf(stderr, "shmranks: %s never came (a private copy of the shared memory?)\n", what);
            exit(3);
        }
        pause_ms(1);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return fprintf(stderr, "usage: shmranks DIR ITERS DELAY_MS\n"), 2;
    const char *dir = argv[1];
    int iters = atoi(argv[2]), delay = atoi(argv[3]);
    int rank = atoi(getenv("SLURM_PROCID") ? getenv("SLURM_PROCID") : "0");
    const char *job = getenv("SLURM_JOB_ID") ? getenv("SLURM_JOB_ID") : "0";
    char idfile[4200], tmp[4300], name[200], out[4200];
    snprintf(idfile, sizeof idfile, "%s/shmid", dir);
    snprintf(name, sizeof name, "/shmranks.%s.%d", job, (int)getuid());
    snprintf(out, sizeof out, "%s/rank.%d", dir, rank);
    FILE *o = fopen(out, "w");
    if (!o)
        return perror(out), 1;
    int id = -1, fd = -1;
    if (rank == 0) {
        id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
        fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (id < 0 || fd < 0 || ftruncate(fd, 4096) < 0)
            return perror("shmget/shm_open"), 1;
        snprintf(tmp, sizeof tmp, "%s.tmp", idfile);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%d\n", id) < 0 || fclose(f) || rename(tmp, idfile))
            return perror(idfile), 1;
    } else {
        for (int i = 0; i < 6000; i++) {
            FILE *f = fopen(idfile, "r");
            if (f && fscanf(f, "%d", &id) == 1) {
                fclose(f);
                break;
            }
            if (f)
                fclose(f);
            pause_ms(10);
        }
        fd = shm_open(name, O_RDWR, 0);
        if (id < 0 || fd < 0)
            return fprintf(stderr, "shmranks: rank 0 made no shared memory in %s\n", dir), 1;
    }
    struct seg *s = shmat(id, NULL, 0);
    struct page *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (s == (void *)-1 || p == MAP_FAILED)
        return perror("shmat/mmap"), 1;
    int keep = rank == 0 && getenv("SHMRANKS_KEEP_FD");
    if (!keep)
        close(fd); /* only the mappings hold them */
    __atomic_add_fetch(&s->attached, 1, __ATOMIC_SEQ_CST);
    if (rank == 0) {
        await(&s->attached, 2, "rank 1's attachment");
        if (shmctl(id, IPC_RMID, NULL) < 0 || (!getenv("SHMRANKS_NAMED") && shm_unlink(name) < 0))
            return perror("IPC_RMID/shm_unlink"), 1;
        unlink(idfile);
        s->ready = 1;
    }
    await(&s->ready, 1, "rank 0's word");
    for (int i = 0; i < iters; i++) {
        await(&s->turn, rank, "the other rank's turn");
        uint64_t seen;
        if (keep && (pread(fd, &seen, sizeof seen, 0) != sizeof seen || seen != p->mix)) {
            fprintf(stderr, "shmranks: its fd and its mapping of the file differ\n");
            return 4;
        }
        s->count += (uint64_t)(rank + 1) * (uint64_t)(i + 1);
        p->mix = p->mix * 1000003u + (uint64_t)(i * 2 + rank);
        fprintf(o, "%d %llu %llu\n", i, (unsigned long long)s->count, (unsigned long long)p->mix);
        fflush(o);
        __atomic_store_n(&s->turn, 1 - rank, __ATOMIC_SEQ_CST);
        pause_ms(delay);
    }
    if (rank == 0) /* rank 1's last turn too: both say the same end */
        await(&s->turn, 0, "rank 1's last turn");
    if (rank == 0 && getenv("SHMRANKS_NAMED") && shm_unlink(name) < 0)
        return perror(name), 5;
    printf("rank %d final %llu %llu\n", rank, (unsigned long long)s->count, (unsigned long long)p->mix);
    return 0;
}
