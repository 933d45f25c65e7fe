/* Finding the directory a file is to be written in, without being led elsewhere by
 * another user's symbolic links.  Root writing a context file into a place a user
 * can change (the user's directory, a shared checkpoint dir) must not follow a link
 * the user planted to /etc or into another user's files: every later operation is
 * made relative to the directory found here (openat, renameat, unlinkat). */
#ifndef SLURM_CR_SAFE_PATH_H
#define SLURM_CR_SAFE_PATH_H

#include <stddef.h>

/* Opens the directory that holds `path` (O_PATH) and copies the last component to
 * base.  With strict set, a symbolic link on the way is followed only if root owns
 * it (the system's own links, /var/run -> /run); one owned by anybody else is refused
 * with ELOOP.  Without strict, links are followed as open() would.  Returns the
 * directory fd, or -errno with a message naming the path and the component. */
int cr_open_parent(const char *path, int strict, char *base, size_t baselen, char *err,
                   size_t errlen);

#endif
