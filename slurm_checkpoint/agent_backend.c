/* The node agent's backend (user, kmod, auto): see agent_backend.h. */
#define _GNU_SOURCE
#include "agent_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/un.h>
#include <unistd.h>

#include "../kmod/crctl.h"
#include "control.h"
#include "ptrace_dump.h"
#include "tree_request.h"

const struct crtree_ptrace agent_backend_ptrace = { cr_ptrace_seize, cr_ptrace_dump,
                                                    cr_ptrace_release };

int agent_backend_get(char *err, size_t len)
{
    const char *b = getenv("CR_BACKEND");
    if (!b || !*b || !strcmp(b, "user"))
        return AGENT_BACKEND_USER;
    if (!strcmp(b, "kmod"))
        return AGENT_BACKEND_KMOD;
    if (!strcmp(b, "auto"))
        return AGENT_BACKEND_AUTO;
    snprintf(err, len, "CR_BACKEND=%.100s (backend= in plugstack.conf, or the job's CR_BACKEND): "
             "want user, kmod or auto", b);
    return -EINVAL;
}

int agent_backend_needs_ptrace(pid_t pid)
{
    struct sockaddr_un addr;
    return cr_ctl_find_address(pid, &addr, 0) < 0;
}

int agent_backend_module_ready(const char *node, char *err, size_t len)
{
    int fd = open(CRCTL_DEVICE, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENODEV || e == ENXIO)
            snprintf(err, len, "backend=kmod, but the crctl module is not loaded on %s (%s: %s): "
                     "load it there (modprobe crctl; built by the slurm-cr DKMS package), or "
                     "start the step's tasks with the runtime (preload=yes, backend=user in "
                     "plugstack.conf)", node, CRCTL_DEVICE, strerror(e));
        else
            snprintf(err, len, "backend=kmod, but %s cannot be opened on %s: %s (it should be "
                     "mode 0666: see etc/udev/60-crctl.rules)", CRCTL_DEVICE, node, strerror(e));
        return -e;
    }
    struct crctl_version v;
    memset(&v, 0, sizeof v);
    int rc = ioctl(fd, CRCTL_VERSION, &v);
    int e = rc < 0 ? errno : EPROTO;
    close(fd);
    if (rc < 0 || v.abi != CRCTL_ABI) {
        snprintf(err, len, "backend=kmod, but %s on %s does not answer CRCTL_VERSION with ABI %d "
                 "(%s): load the crctl module of this slurm-cr version there", CRCTL_DEVICE, node,
                 CRCTL_ABI, rc < 0 ? strerror(e) : "another ABI");
        return -e;
    }
    return 0;
}
