/* Threads everywhere a checkpoint can find them: computing with FPU/vector state in
 * their registers and thread-local storage, holding a mutex, waiting on a condition
 * variable, in pthread_join, nanosleep, poll and a raw futex wait.  The output depends
 * on all of it, so it only matches an uninterrupted run if every thread survived. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NW 4
#define ROUNDS 40

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int round_no, done_count;
static uint64_t results[NW];
static __thread uint64_t tls_acc;
static __thread double tls_fp;
static uint32_t futex_word;
static volatile int usr1_hits;

static void on_usr1(int sig) { (void)sig; usr1_hits++; }

extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

/* This thread's kernel-side state, as the restorer must have put it back: its rseq
 * area registered (registering again gives EBUSY), its robust list where glibc put it,
 * its alternate signal stack.  Returns a string for the output. */
static const char *kernel_state(void *robust_before, const stack_t *alt_before)
{
    static __thread char buf[64];
    const char *rseq = "ok";
    if (&__rseq_size && __rseq_size > 0) {
        char *tp;
        __asm__("mov %%fs:0, %0" : "=r"(tp));
        long r = syscall(SYS_rseq, tp + __rseq_offset, __rseq_size < 32 ? 32 : __rseq_size, 0, 0x53053053);
        rseq = r < 0 && errno == EBUSY ? "ok" : "LOST";
    }
    void *head = NULL;
    size_t len = 0;
    syscall(SYS_get_robust_list, 0, &head, &len);
    stack_t alt;
    sigaltstack(NULL, &alt);
    snprintf(buf, sizeof buf, "rseq %s robust %s altstack %s", rseq,
             head == robust_before ? "ok" : "LOST",
             alt.ss_sp == alt_before->ss_sp && alt.ss_size == alt_before->ss_size ? "ok" : "LOST");
    return buf;
}

static char *states[NW];

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    void *robust;
    size_t rlen;
    syscall(SYS_get_robust_list, 0, &robust, &rlen);
    stack_t alt = { .ss_sp = malloc(SIGSTKSZ), .ss_size = SIGSTKSZ, .ss_flags = 0 };
    sigaltstack(&alt, NULL);
    tls_fp = id + 1.5;
    for (int r = 0; r < ROUNDS; r++) {
        pthread_mutex_lock(&mu);
        while (round_no < r)
            pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
        double v[4] = { tls_fp, tls_fp * 2, tls_fp * 3, tls_fp * 4 }; /* vector registers */
        for (int i = 0; i < 200000; i++) {
            tls_acc = tls_acc * 2862933555777941757ULL + (uint64_t)i + (uint64_t)id;
            for (int k = 0; k < 4; k++)
                v[k] = v[k] * 1.0000001 + sin(v[k]) * 1e-9;
        }
        tls_fp = v[0] + v[1] + v[2] + v[3];
        pthread_mutex_lock(&mu);
        results[id] ^= tls_acc + (uint64_t)(tls_fp * 1000);
        done_count++;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
    }
    states[id] = strdup(kernel_state(robust, &alt));
    return (void *)(intptr_t)(tls_acc & 0xff);
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (int i = 0; i < 30; i++) {
        struct timespec ts = { 0, 40 * 1000000L };
        nanosleep(&ts, NULL);
        poll(NULL, 0, 10);
    }
    return (void *)7;
}

static void *futex_waiter(void *arg)
{
    (void)arg;
    while (__atomic_load_n(&futex_word, __ATOMIC_ACQUIRE) == 0)
        syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    return (void *)(intptr_t)futex_word;
}

static void *joiner(void *arg)
{
    void *rv;
    pthread_join(*(pthread_t *)arg, &rv); /* sits in pthread_join for a long time */
    return rv;
}

int main(void)
{
    pthread_t w[NW], s, f, j;
    signal(SIGUSR1, on_usr1);
    pthread_create(&s, NULL, sleeper, NULL);
    pthread_create(&f, NULL, futex_waiter, NULL);
    pthread_create(&j, NULL, joiner, &s);
    for (int i = 0; i < NW; i++)
        pthread_create(&w[i], NULL, worker, (void *)(intptr_t)i);
    for (int r = 0; r < ROUNDS; r++) {
        pthread_mutex_lock(&mu);
        while (done_count < (r + 1) * NW)
            pthread_cond_wait(&cv, &mu);
        uint64_t sum = 0;
        for (int i = 0; i < NW; i++)
            sum ^= results[i];
        printf("round %d %016llx\n", r, (unsigned long long)sum);
        fflush(stdout);
        round_no = r + 1;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
        struct timespec ts = { 0, 30 * 1000000L };
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < NW; i++) {
        void *rv;
        pthread_join(w[i], &rv);
        printf("joined worker %d: %ld %s\n", i, (long)(intptr_t)rv, states[i]);
    }
    __atomic_store_n(&futex_word, 42, __ATOMIC_RELEASE);
    syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    void *rv;
    pthread_join(f, &rv);
    printf("futex waiter: %ld\n", (long)(intptr_t)rv);
    pthread_join(j, &rv);
    printf("joiner: %ld\n", (long)(intptr_t)rv);
    /* pthread_kill reaches the right thread: the tids glibc keeps were updated */
    pthread_kill(pthread_self(), SIGUSR1);
    printf("signal delivered: %d\n", usr1_hits);
    return 0;
}
