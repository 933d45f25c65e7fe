// SPDX-License-Identifier: GPL-2.0
/* CRCTL_RESTORE_GRANT / CRCTL_RESTORE_END: CAP_CHECKPOINT_RESTORE for one restore of an
 * image the caller owns (a process alone or a tree, its pids checked free), so that
 * cr_restart --restore-pid (clone3 set_tid) works for a normal user.  The checks, their order and errno, and why this is safe enough are in
 * doc/kmod-design.md section 4; keep the two in step. */
#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/pid.h>
#include <linux/string.h>
#include <linux/threads.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>
#include "crctl_internal.h"

/* Check 4: a caller in the middle of an identity change (a setuid program, or one
 * that kept a saved uid) is not asking for itself alone. */
static bool creds_settled(const struct cred *c)
{
	return uid_eq(c->uid, c->euid) && uid_eq(c->uid, c->suid) && uid_eq(c->uid, c->fsuid) &&
	       gid_eq(c->gid, c->egid) && gid_eq(c->gid, c->sgid) && gid_eq(c->gid, c->fsgid);
}

/* Checks 6 and 7: the fd is the caller's own context file (a guard against mistakes,
 * not a boundary: anyone can write the magic into a file of their own). */
static int check_image(struct crctl_open *o, int fd)
{
	char magic[CRCTL_CTX_MAGIC_LEN];
	struct inode *inode;
	struct file *f;
	loff_t pos = 0;
	ssize_t n;
	int rc = 0;

	f = fget(fd); /* no O_PATH file: fget refuses them */
	if (!f)
		return crctl_say(o, -EBADF, "image fd %d is not an open file (O_PATH fds are not)", fd);
	inode = file_inode(f);
	if (!(f->f_mode & FMODE_READ))
		rc = crctl_say(o, -EBADF, "image fd %d is not open for reading", fd);
	else if (!S_ISREG(inode->i_mode))
		rc = crctl_say(o, -EINVAL, "image fd %d is not a regular file", fd);
	else if (!uid_eq(inode->i_uid, current_uid()))
		rc = crctl_say(o, -EPERM, "image fd %d belongs to uid %u, not to you (uid %u)", fd,
			       from_kuid(&init_user_ns, inode->i_uid),
			       from_kuid(&init_user_ns, current_uid()));
	else if (inode->i_mode & (S_IWGRP | S_IWOTH))
		rc = crctl_say(o, -EPERM, "image fd %d is writable by group or others: chmod go-w it",
			       fd);
	if (rc)
		goto out;
	n = kernel_read(f, magic, sizeof(magic), &pos); /* into our buffer, at offset 0 */
	if (n < 0)
		rc = crctl_say(o, n, "image fd %d cannot be read: error %zd", fd, -n);
	else if (n != sizeof(magic) || memcmp(magic, CRCTL_CTX_MAGIC, sizeof(magic)))
		rc = crctl_say(o, -ENOEXEC, "image fd %d is not a slurm-cr context file (no magic)",
			       fd);
out:
	fput(f);
	return rc;
}

/* Check 7b (CRCTL_GRANT_PIDS): every pid the restore will make (a process alone, or
 * each process of a tree) is a pid and free now in the caller's pid namespace, so that
 * a restore that cannot have its pids is refused, naming one, before anything is
 * granted.  A guard against mistakes and races seen early, not a boundary: nothing
 * binds clone3(set_tid) to this list (no hook a module may use).  Read from user
 * memory in chunks on the stack: no allocation sized by the caller. */
#define PIDS_CHUNK 64
static int check_pids(struct crctl_open *o, const struct crctl_grant *g)
{
	const __s32 __user *up = u64_to_user_ptr(g->pids);
	__s32 chunk[PIDS_CHUNK];
	u32 i, j, n;

	for (i = 0; i < g->npids; i += n) {
		n = min_t(u32, g->npids - i, PIDS_CHUNK);
		if (copy_from_user(chunk, up + i, n * sizeof(chunk[0])))
			return crctl_say(o, -EFAULT, "CRCTL_RESTORE_GRANT: bad address of the pid list "
					 "(entry %u)", i);
		for (j = 0; j < n; j++) {
			struct pid *p;

			if (chunk[j] <= 0 || chunk[j] > PID_MAX_LIMIT)
				return crctl_say(o, -EINVAL, "CRCTL_RESTORE_GRANT: entry %u of the pid "
						 "list, %d, is not a pid", i + j, chunk[j]);
			p = find_get_pid(chunk[j]);
			if (p) {
				put_pid(p);
				return crctl_say(o, -EBUSY, "pid %d is in use: the restore cannot give "
						 "it back (nothing was granted)", chunk[j]);
			}
		}
	}
	return 0;
}

/* Grant: CAP_CHECKPOINT_RESTORE in the calling thread's permitted and effective sets,
 * and out of its bounding, inheritable and ambient sets.  Without it in the bounding
 * set the thread cannot make it inheritable (capset) hence not ambient, and no execve,
 * not even of a file with capabilities or a setuid-root one, gives it back: the
 * capability lives in this thread and what it forks, until END or an exec.
 * End: the reverse, the bounding set as it was (check 5 saw it there). */
static int set_restore_cap(bool on)
{
	struct cred *c = prepare_creds();

	if (!c)
		return -ENOMEM;
	if (on) {
		cap_raise(c->cap_permitted, CAP_CHECKPOINT_RESTORE);
		cap_raise(c->cap_effective, CAP_CHECKPOINT_RESTORE);
		cap_lower(c->cap_bset, CAP_CHECKPOINT_RESTORE);
	} else {
		cap_lower(c->cap_permitted, CAP_CHECKPOINT_RESTORE);
		cap_lower(c->cap_effective, CAP_CHECKPOINT_RESTORE);
		cap_raise(c->cap_bset, CAP_CHECKPOINT_RESTORE);
	}
	cap_lower(c->cap_inheritable, CAP_CHECKPOINT_RESTORE);
	cap_lower(c->cap_ambient, CAP_CHECKPOINT_RESTORE);
	return commit_creds(c);
}

long crctl_restore_grant(struct crctl_open *o, const struct crctl_grant __user *arg)
{
	unsigned long *state = &o->state;
	const struct cred *cur = current_cred();
	struct crctl_grant g;
	unsigned long done;
	bool had;
	int rc, gid;

	if (copy_from_user(&g, arg, sizeof(g)))
		return crctl_say(o, -EFAULT, "CRCTL_RESTORE_GRANT: bad argument address");
	/* check 1 */
	if ((g.flags & ~CRCTL_GRANT_PIDS) || g.pad)
		return crctl_say(o, -EINVAL, "CRCTL_RESTORE_GRANT: unknown flags %#x or padding "
				 "not zero", g.flags);
	if (!(g.flags & CRCTL_GRANT_PIDS) && (g.pids || g.npids))
		return crctl_say(o, -EINVAL, "CRCTL_RESTORE_GRANT: a pid list without "
				 "CRCTL_GRANT_PIDS");
	if ((g.flags & CRCTL_GRANT_PIDS) && (!g.npids || g.npids > CRCTL_GRANT_MAX_PIDS))
		return crctl_say(o, -EINVAL, "CRCTL_RESTORE_GRANT: %u pids: want 1 to %d",
				 g.npids, CRCTL_GRANT_MAX_PIDS);
	if (!allow_restore_grant)
		return crctl_say(o, -EPERM, "the administrator turned the restore grant off "
				 "(crctl allow_restore_grant=0)");
	gid = READ_ONCE(restore_grant_gid);
	if (gid >= 0 && !in_group_p(make_kgid(&init_user_ns, (gid_t)gid)))
		return crctl_say(o, -EPERM, "the restore grant is for members of group %d only "
				 "(crctl restore_grant_gid)", gid);
	/* check 2, before the others, so that a second grant through this open says
	 * EBUSY (not the EPERM of check 5: the first grant took the capability out of
	 * the bounding set), and claimed at once so that two threads cannot both pass */
	if (cmpxchg(state, 0UL, CRCTL_ST_BUSY) != 0UL)
		return crctl_say(o, -EBUSY, "this open of /dev/crctl has granted once already: "
				 "open it again");
	/* check 3 */
	if (current_user_ns() != &init_user_ns) {
		rc = crctl_say(o, -EPERM, "the restore grant is for the initial user namespace "
			       "only (a container restores pids in its own)");
		goto fail;
	}
	/* check 4 */
	if (!creds_settled(cur)) {
		rc = crctl_say(o, -EPERM, "real, effective, saved and fs ids differ (a setuid "
			       "program?): refused");
		goto fail;
	}
	/* check 5: the admin's bounding set wins; so does a grant this thread already
	 * holds through another open (it took the capability out of the bounding set) */
	if (!cap_raised(cur->cap_bset, CAP_CHECKPOINT_RESTORE)) {
		rc = crctl_say(o, -EPERM, "CAP_CHECKPOINT_RESTORE is not in your bounding set "
			       "(removed by the administrator, or a grant is already held)");
		goto fail;
	}
	/* checks 6 and 7 */
	rc = check_image(o, g.image_fd);
	if (rc)
		goto fail;
	/* check 7b */
	if (g.flags & CRCTL_GRANT_PIDS) {
		rc = check_pids(o, &g);
		if (rc)
			goto fail;
	}
	/* check 8: a capability the caller already holds (root, or given by the admin)
	 * is left alone, and END will not take it away */
	had = cap_raised(current_cred()->cap_permitted, CAP_CHECKPOINT_RESTORE);
	if (!had) {
		rc = set_restore_cap(true);
		if (rc) {
			crctl_say(o, rc, "cannot change credentials: error %d", -rc);
			goto fail;
		}
	}
	done = ((unsigned long)current->pid << 2) | CRCTL_ST_ACTIVE | (had ? 0 : CRCTL_ST_OURS);
	WRITE_ONCE(*state, done);
	pr_info_ratelimited("crctl: CAP_CHECKPOINT_RESTORE %s for pid %d (uid %u) for one restore "
			    "(%u pids checked free)\n", had ? "already held" : "granted", current->pid,
			    from_kuid(&init_user_ns, current_uid()), g.npids);
	return 0;
fail:
	WRITE_ONCE(*state, 0UL);
	return rc;
}

long crctl_restore_end(struct crctl_open *o)
{
	unsigned long *state = &o->state;
	unsigned long s = READ_ONCE(*state);
	int rc = 0;

	if (s == 0UL || s == CRCTL_ST_BUSY || !(s & CRCTL_ST_ACTIVE))
		return crctl_say(o, -EINVAL, "no restore grant is held through this open");
	if ((pid_t)(s >> 2) != current->pid)
		return crctl_say(o, -EPERM, "the grant belongs to thread %lu, not to you",
				 s >> 2);
	/* the open is spent: a second GRANT through it is EBUSY */
	if (cmpxchg(state, s, s & ~(CRCTL_ST_ACTIVE | CRCTL_ST_OURS)) != s)
		return crctl_say(o, -EBUSY, "the grant is being ended by another call");
	if (s & CRCTL_ST_OURS)
		rc = set_restore_cap(false);
	return rc;
}
