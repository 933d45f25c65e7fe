/* Threads blocked on the process's own pipes, eventfd and epoll: one reads a pipe line
 * by line (and falls behind, so data is waiting in the pipe at any checkpoint), one
 * waits in epoll_wait on an eventfd (semaphore mode) and a second pipe. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define STEPS 40

static int p1[2], p2[2], efd, ep;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int lines_read, epoll_events, permits;
static unsigned long hash = 5381;

static void *line_reader(void *arg)
{
    (void)arg;
    char c;
    for (;;) {
        pthread_mutex_lock(&mu);
        while (!permits)
            pthread_cond_wait(&cv, &mu);
        permits--;
        pthread_mutex_unlock(&mu);
        int got = 0;
        while (read(p1[0], &c, 1) == 1) { /* blocks in read() on the pipe */
            got = 1;
            hash = hash * 33 + (unsigned char)c;
            if (c == '\n')
                break;
        }
        if (!got)
            return NULL;
        pthread_mutex_lock(&mu);
        lines_read++;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
    }
}

static void *poller(void *arg)
{
    (void)arg;
    struct epoll_event evs[4];
    for (;;) {
        int n = epoll_wait(ep, evs, 4, -1);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u32 == 1) {
                uint64_t v;
                if (read(efd, &v, 8) != 8)
                    continue;
            } else {
                char c;
                if (read(p2[0], &c, 1) != 1)
                    return NULL;
                if (c == 'q')
                    return NULL;
            }
            pthread_mutex_lock(&mu);
            epoll_events++;
            pthread_cond_broadcast(&cv);
            pthread_mutex_unlock(&mu);
        }
    }
}

int main(void)
{
    if (pipe(p1) || pipe(p2))
        return 1;
    efd = eventfd(0, EFD_SEMAPHORE);
    ep = epoll_create1(0);
    struct epoll_event e1 = { .events = EPOLLIN, .data.u32 = 1 }, e2 = { .events = EPOLLIN, .data.u32 = 2 };
    epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e1);
    epoll_ctl(ep, EPOLL_CTL_ADD, p2[0], &e2);
    pthread_t a, b;
    pthread_create(&a, NULL, line_reader, NULL);
    pthread_create(&b, NULL, poller, NULL);
    for (int s = 0; s < STEPS; s++) {
        char line[64];
        /* two lines in, one read: the pipe fills up with what is not read yet */
        int n = snprintf(line, sizeof line, "line %d of step %d\nextra %d\n", 2 * s, s, s);
        if (write(p1[1], line, (size_t)n) != n)
            return 1;
        uint64_t one = 1;
        if (write(efd, &one, 8) != 8 || write(p2[1], "x", 1) != 1)
            return 1;
        pthread_mutex_lock(&mu);
        permits++;
        pthread_cond_broadcast(&cv);
        while (lines_read < s + 1 || epoll_events < 2 * (s + 1))
            pthread_cond_wait(&cv, &mu);
        printf("step %d: lines %d hash %lu events %d\n", s, lines_read, hash, epoll_events);
        fflush(stdout);
        pthread_mutex_unlock(&mu);
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep(&ts, NULL);
    }
    close(p1[1]);
    pthread_mutex_lock(&mu);
    permits += 1000;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(a, NULL);
    if (write(p2[1], "q", 1) != 1)
        return 1;
    pthread_join(b, NULL);
    printf("end: lines %d hash %lu events %d\n", lines_read, hash, epoll_events);
    return 0;
}
