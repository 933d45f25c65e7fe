/* A signal handler's siginfo, its sender as the program knows it (pid_signals.c). */
#ifndef SLURM_CR_PID_SIGNALS_H
#define SLURM_CR_PID_SIGNALS_H

#include <signal.h>

/* sigaction() for the program's signals (quiesce_signal.c's, for all but the
 * runtime's own; from: the program's caller). */
int cr_pid_sigaction(int sig, const struct sigaction *act, struct sigaction *old, const void *from);

#endif
