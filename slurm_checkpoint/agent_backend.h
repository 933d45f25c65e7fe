/* The node agent's backend: how a task of the step is checkpointed.  The site chooses
 * it with backend= in plugstack.conf (the plugin puts it in the step's environment as
 * CR_BACKEND, unless the job set CR_BACKEND itself); see spank_cr(8) and cr_agent(8).
 *   user  every task through the runtime preloaded into it (the default);
 *   kmod  a task without the runtime (plugstack preload=no, or a program that cleared
 *         LD_PRELOAD) held and written from outside by the ptrace dumper, with the
 *         crctl module (/dev/crctl) loaded on the node: what ptrace cannot read on
 *         older kernels, and the old pids at restart for the job's user; a task with
 *         the runtime still goes through it, so that its callbacks run;
 *   auto  as kmod, without requiring the module. */
#ifndef SLURM_CR_AGENT_BACKEND_H
#define SLURM_CR_AGENT_BACKEND_H

#include <stddef.h>
#include <sys/types.h>

enum agent_backend { AGENT_BACKEND_USER, AGENT_BACKEND_KMOD, AGENT_BACKEND_AUTO };

/* The backend named by CR_BACKEND (unset or empty: user); -EINVAL with err naming the
 * bad value. */
int agent_backend_get(char *err, size_t len);

/* 1 when task pid has no runtime (no control socket): it goes through ptrace. */
int agent_backend_needs_ptrace(pid_t pid);

/* With backend=kmod: 0 when the crctl module answers on this node, else -errno and
 * err saying that it is not loaded and how to fix it. */
int agent_backend_module_ready(const char *node, char *err, size_t len);

/* The ptrace dumper's functions, for the tree code (tree_request.h). */
struct crtree_ptrace;
extern const struct crtree_ptrace agent_backend_ptrace;

#endif
