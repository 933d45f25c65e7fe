/* Whose identity a restart runs with.
 *
 * The uids and gids inside an image are the file's contents, and whoever owns the
 * file can rewrite them (the format and its checksums are documented).  So the
 * identity comes from who asked and who owns the file, and the image may only agree:
 *   - a user restarts only files they own, holding only their own processes;
 *   - root restarting a file a user owns runs it as that user, and refuses the file
 *     if any process in it claims another uid, or a group the user is not in;
 *   - root restarting a file root owns (root wrote it, e.g. root checkpointed a
 *     user's job) trusts the identities it holds.
 * Root then becomes that user before anything of the image is acted upon (sockets
 * bound, FIFOs opened, processes made), keeping at most CAP_CHECKPOINT_RESTORE for
 * --restore-pid, which each restored process drops before it runs. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "restart.h"
#include "restart_child.h"

#define MAX_GROUPS 256

static int holds_kept_cap; /* root became the user, keeping one capability */

static int in_groups(gid_t g, const gid_t *groups, int n)
{
    for (int i = 0; i < n; i++)
        if (groups[i] == g)
            return 1;
    return 0;
}

/* Leaves only capability `cap` (effective and permitted), or none when cap < 0. */
static int set_caps(int cap)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    if (cap >= 0)
        d[cap / 32].effective = d[cap / 32].permitted = 1u << (cap % 32);
    return (int)syscall(SYS_capset, &h, d);
}

/* The one uid every process of the image has, or -1 if they differ. */
static long single_uid(const struct ctx_tree *t)
{
    long uid = -1;
    for (uint32_t i = 0; i < t->n; i++) {
        const struct ctx_proc *p = t->images[i].proc;
        if (!p)
            continue;
        if (p->uid != p->euid || (uid >= 0 && (long)p->uid != uid))
            return -1;
        uid = p->uid;
    }
    return uid;
}

int cr_restart_take_identity(const struct ctx_tree *t, const struct stat *st, const char *path,
                             int keep_cap, char *err, size_t len)
{
    uid_t me = getuid();
    if (me != 0 && st->st_uid != me)
        return cr_say(err, len, EPERM, "%s belongs to uid %u: only its owner or root may restart it",
                      path, (unsigned)st->st_uid);
    /* the file's owner decides, unless root wrote the file */
    if ((me != 0 || st->st_uid != 0) && t->hdr.uid != st->st_uid)
        return cr_say(err, len, EPERM, "%s belongs to uid %u but holds %s of uid %u: only that "
                      "user or root may restart it, and root only from a file of that user's",
                      path, (unsigned)st->st_uid, t->n > 1 ? "processes" : "a process",
                      (unsigned)t->hdr.uid);
    for (uint32_t i = 0; (me != 0 || st->st_uid != 0) && i < t->n; i++) {
        const struct ctx_proc *p = t->images[i].proc;
        if (p && (p->uid != st->st_uid || p->euid != st->st_uid))
            return cr_say(err, len, EPERM, "%s belongs to uid %u but holds a process (%d, %.16s) of "
                          "uid %u, euid %u: a restart runs with the identity of the file's owner, "
                          "and this file claims another (was it edited?); refusing it",
                          path, (unsigned)st->st_uid, t->procs[i].pid, t->procs[i].comm,
                          (unsigned)p->uid, (unsigned)p->euid);
    }
    if (me != 0)
        return 0; /* a user cannot take another identity anyway */
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return cr_say(err, len, EPERM, "%s is writable by other users (mode %03o): root restarts "
                      "only images nobody else can change (chmod go-w)", path,
                      (unsigned)(st->st_mode & 0777));
    long want = st->st_uid ? (long)st->st_uid : single_uid(t);
    if (want <= 0)
        return 0; /* root's own processes, or root's file of several users: per process */

    /* the groups the image may claim: the user's, and the file's (which only the
     * owner or root can have given it) */
    gid_t groups[MAX_GROUPS];
    int ngroups = 0;
    struct passwd *pw = getpwuid((uid_t)want);
    if (pw) {
        ngroups = MAX_GROUPS;
        if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &ngroups) < 0)
            ngroups = MAX_GROUPS; /* the first MAX_GROUPS */
    }
    if (st->st_uid && ngroups < MAX_GROUPS && !in_groups(st->st_gid, groups, ngroups))
        groups[ngroups++] = st->st_gid;
    const struct ctx_proc *root = NULL;
    for (uint32_t i = 0; i < t->n; i++) {
        const struct ctx_proc *p = t->images[i].proc;
        if (!p)
            continue;
        root = root ? root : p;
        if (st->st_uid && (!in_groups(p->gid, groups, ngroups) || !in_groups(p->egid, groups, ngroups)))
            return cr_say(err, len, EPERM, "%s holds a process (%d, %.16s) of gid %u, egid %u, groups "
                          "uid %u is not in: refusing it (was the file edited?)", path,
                          t->procs[i].pid, t->procs[i].comm, (unsigned)p->gid, (unsigned)p->egid,
                          (unsigned)want);
    }
    if (!root)
        return 0;
    if (!pw && st->st_uid == 0)
        groups[ngroups++] = root->gid;
    if (keep_cap >= 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return cr_say(err, len, errno, "cannot keep capability %d: %s", keep_cap, strerror(errno));
    if (setgroups((size_t)ngroups, groups) < 0 || setresgid(root->gid, root->egid, root->egid) < 0 ||
        setresuid((uid_t)want, (uid_t)want, (uid_t)want) < 0)
        return cr_say(err, len, errno, "cannot take the identity of uid %ld gid %u: %s", want,
                      (unsigned)root->gid, strerror(errno));
    if (keep_cap >= 0 && set_caps(keep_cap) < 0)
        return cr_say(err, len, errno, "cannot keep capability %d as uid %ld: %s", keep_cap, want,
                      strerror(errno));
    holds_kept_cap = keep_cap >= 0;
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0); /* as the user's own processes are */
    return 0;
}

int cr_restart_has_restore_cap(void)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) < 0)
        return 0;
    return (d[CAP_CHECKPOINT_RESTORE / 32].effective >> (CAP_CHECKPOINT_RESTORE % 32)) & 1;
}

void cr_restart_drop_caps(void)
{
    /* A user's tree comes back in a user namespace of its own, where its processes
     * would hold every capability (over that namespace): they had none */
    if (!holds_kept_cap && getuid() == 0)
        return;
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    set_caps(-1);
    /* the crctl module's grant raised our permitted set, which made us non-dumpable
     * (root's path sets it in become_owner): with no capability left, a user's process
     * is dumpable as the user's own are */
    if (getuid() != 0)
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}
