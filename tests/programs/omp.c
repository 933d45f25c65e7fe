/* An OpenMP (libgomp) program: a parallel reduction per step. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <time.h>

int main(void)
{
    omp_set_num_threads(4);
    double x = 0.5;
    for (int step = 0; step < 40; step++) {
        /* per-thread partial sums added in a fixed order: reproducible, unlike a
         * reduction clause whose combining order varies */
        double partial[4] = { 0 };
#pragma omp parallel
        {
            double s = 0;
#pragma omp for schedule(static)
            for (int i = 0; i < 2000000; i++)
                s += sin(x + i * 1e-6) * cos(i * 1e-7);
            partial[omp_get_thread_num()] = s;
        }
        double sum = partial[0] + partial[1] + partial[2] + partial[3];
        x = fmod(x + sum * 1e-6, 3.0);
        printf("step %d %.12f\n", step, sum);
        fflush(stdout);
        struct timespec ts = { 0, 40 * 1000000L };
        nanosleep(&ts, NULL);
    }
    return 0;
}
