/* The crctl module's restore grant for a normal user's cr_restart (doc/kmod-design.md
 * section 4): CAP_CHECKPOINT_RESTORE, in this thread only, for one restore of a context
 * file the caller owns, so that clone3(set_tid) gives the restored processes (one alone,
 * or a tree: each made by its restored parent, which inherits the capability) their old
 * pids as it does for root.  The module checks that those pids are free, too.  Each restored process drops it before it runs the image
 * (cr_restart_drop_caps); cr_restart_grant_end() hands it back to the module once the
 * processes exist.  The module checks the file (owner, mode, magic) and the caller
 * itself: nothing here is trusted for the decision. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../kmod/crctl.h"
#include "restart.h"
#include "restart_child.h"

static int grant_fd = -1; /* the open of /dev/crctl that holds the grant */

int cr_restart_grant(int image_fd, const pid_t *pids, uint32_t npids, char *err, size_t len)
{
    int fd = open(CRCTL_DEVICE, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
            return 0; /* no module: nothing to ask */
        return cr_say(err, len, errno, "cannot open %s: %s", CRCTL_DEVICE, strerror(errno));
    }
    struct crctl_version v;
    memset(&v, 0, sizeof v);
    if (ioctl(fd, CRCTL_VERSION, &v) < 0 || v.abi != CRCTL_ABI) {
        int e = errno ? errno : EPROTO;
        close(fd);
        return cr_say(err, len, e, "%s does not answer CRCTL_VERSION with ABI %d: load the "
                      "crctl module of this slurm-cr version", CRCTL_DEVICE, CRCTL_ABI);
    }
    if (!(v.features & CRCTL_F_RESTORE_GRANT)) {
        close(fd);
        return cr_say(err, len, EPERM, "the crctl module does not grant restores here (the "
                      "administrator set allow_restore_grant=0)");
    }
    struct crctl_grant g;
    memset(&g, 0, sizeof g);
    g.image_fd = image_fd;
    /* the pids the restore makes, checked free by the module too (a module of the
     * first version does not take the list: it grants without) */
    if ((v.features & CRCTL_F_GRANT_PIDS) && npids > 0 && npids <= CRCTL_GRANT_MAX_PIDS &&
        sizeof(pid_t) == sizeof(__s32)) {
        g.flags = CRCTL_GRANT_PIDS;
        g.pids = (uint64_t)(uintptr_t)pids;
        g.npids = npids;
    }
    if (ioctl(fd, CRCTL_RESTORE_GRANT, &g) < 0) {
        int e = errno;
        struct crctl_message m;
        memset(&m, 0, sizeof m);
        if (!(v.features & CRCTL_F_LAST_ERROR) || ioctl(fd, CRCTL_LAST_ERROR, &m) < 0)
            m.text[0] = 0;
        m.text[sizeof m.text - 1] = 0;
        close(fd);
        return cr_say(err, len, e, "the crctl module refused the restore grant: %s",
                      m.text[0] ? m.text : strerror(e));
    }
    grant_fd = fd;
    return 1;
}

void cr_restart_grant_end(void)
{
    if (grant_fd < 0)
        return;
    ioctl(grant_fd, CRCTL_RESTORE_END); /* (it fails only without a grant) */
    close(grant_fd);
    grant_fd = -1;
}

int cr_restart_grant_possible(void)
{
    return access(CRCTL_DEVICE, F_OK) == 0;
}
