/* Reads lines from an input file and writes to two output files, one at its offset
 * and one in append mode, step by step. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: filewriter INPUT OUT APPENDOUT STEPS [DELAY_MS]\n");
        return 2;
    }
    int steps = atoi(argv[4]);
    long delay_ms = argc > 5 ? atol(argv[5]) : 50;
    FILE *in = fopen(argv[1], "r");
    int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int app = open(argv[3], O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (!in || out < 0 || app < 0) {
        perror("open");
        return 1;
    }
    char line[256];
    unsigned long acc = 7;
    for (int s = 0; s < steps; s++) {
        if (!fgets(line, sizeof line, in))
            strcpy(line, "(eof)\n");
        for (char *p = line; *p; p++)
            acc = acc * 31 + (unsigned char)*p;
        char buf[512];
        int n = snprintf(buf, sizeof buf, "%d %lu %s", s, acc, line);
        if (write(out, buf, (size_t)n) != n || write(app, buf, (size_t)n) != n) {
            perror("write");
            return 1;
        }
        struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    printf("done %lu\n", acc);
    return 0;
}
