/* An ioctl fuzzer for /dev/crctl, run in the qemu guest by tests/kmod/boot.sh:
 *   crctl_fuzz SECONDS DIR
 * Two processes, root and uid 1000, each for SECONDS: random commands (the real ones,
 * and random numbers, directions and sizes of the module's type and of others) with
 * random arguments (NULL, small integers, addresses near an unmapped page, structs of
 * random bytes whose fd and tid fields are often real: our images in DIR, a directory, a
 * pipe, the device itself, a seized and stopped tracee, a running child, a dying one),
 * random closes and reopens, END from forked children.  The host then requires a clean
 * dmesg; DIR is a tmpfs the caller unmounts afterwards: a leaked file reference would
 * keep it busy.  Prints "KMOD-TEST: PASS|FAIL fuzz-WHO ..." lines. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../kmod/crctl.h"

static uint64_t rnd_state;
static uint64_t rnd(void) /* xorshift64*: reproducible from the printed seed */
{
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return rnd_state * 2685821657736338717ULL;
}

static int fds[8];
static pid_t tracee = -1, runner = -1;
static unsigned char *edge; /* a page whose next page is unmapped */

static pid_t spawn_sleeper(void)
{
    pid_t c = fork();
    if (c == 0) {
        for (;;)
            pause();
    }
    return c;
}

static void new_tracee(void)
{
    if (tracee > 0) {
        kill(tracee, SIGKILL);
        waitpid(tracee, NULL, __WALL);
    }
    tracee = spawn_sleeper();
    if (ptrace(PTRACE_SEIZE, tracee, 0, 0) == 0 && ptrace(PTRACE_INTERRUPT, tracee, 0, 0) == 0)
        waitpid(tracee, NULL, __WALL);
}

static int32_t some_fd(void)
{
    switch (rnd() % 6) {
    case 0: return (int32_t)rnd();
    case 1: return -1;
    default: return fds[rnd() % 8];
    }
}

static int32_t some_tid(void)
{
    switch (rnd() % 7) {
    case 0: return (int32_t)rnd();
    case 1: return 1;
    case 2: return getpid();
    case 3: return runner;
    default: return tracee;
    }
}

static unsigned long some_cmd(void)
{
    static const unsigned long real[] = { CRCTL_VERSION, CRCTL_RESTORE_GRANT, CRCTL_RESTORE_END,
                                          CRCTL_TASK_INFO, CRCTL_LAST_ERROR };
    switch (rnd() % 4) {
    case 0: return _IOC(rnd() % 4, CRCTL_IOC_TYPE, rnd() % 16, rnd() % 256);
    case 1: return (unsigned long)(uint32_t)rnd();
    default: return real[rnd() % 5];
    }
}

static void fuzz(const char *who, int seconds, const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s.img", dir, who);
    int img = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (img < 0 || write(img, CRCTL_CTX_MAGIC "fuzz", CRCTL_CTX_MAGIC_LEN + 4) < 0) {
        printf("KMOD-TEST: FAIL fuzz-%s - cannot write %s: %s\n", who, path, strerror(errno));
        return;
    }
    int p[2];
    if (pipe(p) < 0)
        return;
    fds[0] = open(path, O_RDONLY);
    fds[1] = img;
    fds[2] = open(dir, O_RDONLY | O_DIRECTORY);
    fds[3] = p[0];
    fds[4] = open(CRCTL_DEVICE, O_RDWR);
    fds[5] = open(path, O_PATH);
    fds[6] = open("/tmp/root.img", O_RDONLY);
    fds[7] = fds[0];
    edge = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(edge + 4096, 4096);
    runner = spawn_sleeper();
    new_tracee();

    int dev = open(CRCTL_DEVICE, O_RDWR);
    unsigned long calls = 0, ok = 0;
    time_t end = time(NULL) + seconds;
    unsigned char buf[512];
    while (time(NULL) < end) {
        for (int i = 0; i < 200; i++, calls++) {
            unsigned long cmd = some_cmd();
            for (size_t j = 0; j < sizeof buf; j++)
                buf[j] = (unsigned char)rnd();
            if (rnd() % 3 == 0)
                memset(buf, 0, sizeof buf); /* valid-looking: zero flags and reserved */
            /* the fields the real structs have at offset 0 */
            int32_t v = (cmd == CRCTL_TASK_INFO) ? some_tid() : some_fd();
            memcpy(buf, &v, sizeof v);
            /* a grant with a pid list (CRCTL_GRANT_PIDS): the list running into the
             * unmapped page, or anywhere, of any length */
            if (cmd == CRCTL_RESTORE_GRANT && rnd() % 2) {
                struct crctl_grant g = { .image_fd = v, .flags = CRCTL_GRANT_PIDS };
                int32_t *list = (int32_t *)(void *)(edge + 4096) - (rnd() % 300);
                g.pids = rnd() % 4 ? (uint64_t)(uintptr_t)list : (uint64_t)rnd();
                g.npids = rnd() % 8 ? (uint32_t)(rnd() % 400) : (uint32_t)rnd();
                memcpy(buf, &g, sizeof g);
            }
            void *arg;
            switch (rnd() % 8) {
            case 0: arg = NULL; break;
            case 1: arg = (void *)(uintptr_t)(rnd() % 4096); break;
            case 2: arg = edge + 4096 - (rnd() % 64); break; /* runs into the unmapped page */
            case 3: arg = (void *)(uintptr_t)rnd(); break;
            default:
                arg = edge + (rnd() % 2048);
                memcpy(arg, buf, 1024 < sizeof buf ? 1024 : sizeof buf);
            }
            if (ioctl(dev, cmd, arg) == 0)
                ok++;
            /* a grant made us non-dumpable: be traceable-by-ourselves again, so the
             * TASK_INFO paths past the permission check keep being exercised */
            if (prctl(PR_GET_DUMPABLE) == 0)
                prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
            switch (rnd() % 64) {
            case 0: /* a fresh open: a fresh grant slot */
                close(dev);
                dev = open(CRCTL_DEVICE, O_RDWR);
                break;
            case 1: { /* END or GRANT from another task sharing the open file */
                pid_t c = fork();
                if (c == 0) {
                    struct crctl_grant g = { .image_fd = fds[0] };
                    ioctl(dev, rnd() % 2 ? CRCTL_RESTORE_END : CRCTL_RESTORE_GRANT, &g);
                    _exit(0);
                }
                waitpid(c, NULL, 0);
                break;
            }
            case 2: /* the tracee dies under our feet, or runs again */
                if (rnd() % 2) {
                    kill(tracee, SIGKILL);
                } else {
                    ptrace(PTRACE_CONT, tracee, 0, 0);
                }
                break;
            case 3:
                new_tracee();
                break;
            }
        }
    }
    close(dev);
    kill(runner, SIGKILL);
    kill(tracee, SIGKILL);
    waitpid(runner, NULL, 0);
    waitpid(tracee, NULL, __WALL);
    for (int i = 0; i < 7; i++)
        close(fds[i]);
    close(p[1]);
    printf("KMOD-TEST: PASS fuzz-%s - %lu calls in %d s, %lu accepted (seed %#llx)\n", who, calls,
           seconds, ok, (unsigned long long)rnd_state);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int seconds = atoi(argv[1]);
    const char *dir = argv[2];
    chmod(dir, 01777);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            rnd_state = 0x9e3779b97f4a7c15ULL ^ (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
            printf("KMOD-FUZZ: %s seed %#llx\n", k ? "user" : "root", (unsigned long long)rnd_state);
            if (k == 1 && (setgroups(0, NULL) || setresgid(1000, 1000, 1000) ||
                           setresuid(1000, 1000, 1000) || prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))) {
                printf("KMOD-TEST: FAIL fuzz-user - cannot become uid 1000\n");
                _exit(1);
            }
            fuzz(k ? "user" : "root", seconds, dir);
            _exit(0);
        }
    }
    int bad = 0;
    for (int k = 0; k < 2; k++) {
        int st;
        waitpid(kids[k], &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st)) {
            printf("KMOD-TEST: FAIL fuzz-process-%d - status %#x\n", k, st);
            bad = 1;
        }
    }
    return bad;
}
