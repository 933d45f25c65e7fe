/* A program that knows nothing of slurm-cr, for the ptrace backend's tests
 * (tests/engine/ptrace_dump.sh): writes LINES numbered lines, each after some floating
 * point work and a short sleep.  With THREADS > 0, that many threads take turns to
 * write the lines (mutex, condition variable) while one more thread computes a long
 * chain of floating point operations in its registers, without any system call, and
 * prints the result at the end: a thread interrupted outside a system call, whose
 * vector registers must come back exactly.  MB: megabytes of memory filled with data
 * that is summed at the end (a longer dump).
 * Usage: ptrace_work LINES [THREADS [MB]] */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int lines, nthreads, turn;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile double spin_result;

static void nap(long ms)
{
    struct timespec ts = { 0, ms * 1000000L };
    nanosleep(&ts, NULL);
}

static double work(double x, long salt)
{
    for (int k = 0; k < 20000; k++)
        x = x * 1.0000001 + 0.25 / (double)(k + 1 + salt);
    return x;
}

static void *writer(void *arg)
{
    long id = (long)arg;
    double x = (double)id;
    for (;;) {
        x = work(x, id);
        pthread_mutex_lock(&mu);
        while (turn % nthreads != id && turn < lines)
            pthread_cond_wait(&cv, &mu);
        if (turn >= lines) {
            pthread_mutex_unlock(&mu);
            return NULL;
        }
        printf("%d thread %ld %.6f\n", turn, id, x);
        fflush(stdout);
        turn++;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
        nap(2);
    }
}

/* No system call from start to end: stopped, it is stopped in its own code. */
static void *spinner(void *arg)
{
    (void)arg;
    double x = 1.0, y = 0.5;
    for (long i = 0; i < 600000000L; i++) {
        x = x * 0.9999999 + 1e-7;
        y = y * 0.99999995 + 1e-8;
    }
    spin_result = x + y;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ptrace_work LINES [THREADS [MB]]\n");
        return 2;
    }
    lines = atoi(argv[1]);
    nthreads = argc > 2 ? atoi(argv[2]) : 0;
    size_t mb = argc > 3 ? (size_t)atol(argv[3]) : 0;
    unsigned char *mem = mb ? malloc(mb << 20) : NULL;
    for (size_t i = 0; mem && i < mb << 20; i++)
        mem[i] = (unsigned char)(i * 2654435761u >> 13);
    if (nthreads <= 0) {
        double x = 1.0;
        for (int i = 0; i < lines; i++) {
            x = work(x, 0);
            printf("%d %.6f\n", i, x);
            fflush(stdout);
            nap(10);
        }
    } else {
        pthread_t t[64], s;
        if (nthreads > 64)
            nthreads = 64;
        pthread_create(&s, NULL, spinner, NULL);
        for (long i = 0; i < nthreads; i++)
            pthread_create(&t[i], NULL, writer, (void *)i);
        for (int i = 0; i < nthreads; i++)
            pthread_join(t[i], NULL);
        pthread_join(s, NULL);
        printf("spin %.12f\n", spin_result);
    }
    uint64_t sum = 0;
    for (size_t i = 0; mem && i < mb << 20; i++)
        sum += mem[i];
    printf("done %llu\n", (unsigned long long)sum);
    return 0;
}
