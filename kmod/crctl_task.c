// SPDX-License-Identifier: GPL-2.0
/* CRCTL_TASK_INFO: the per-thread fields a dump of a process without the runtime needs
 * and ptrace cannot read (doc/kmod-design.md section 3, step 5): the clear_child_tid
 * address, the rseq registration (no PTRACE_GET_RSEQ_CONFIGURATION before 5.13) and
 * the sigaltstack.  Only the caller's own ptrace-stopped tracee: the kernel checked
 * ptrace_may_access(PTRACE_MODE_ATTACH_REALCREDS) with the LSMs when the caller seized
 * it, which a module cannot call (not exported); and a stopped thread cannot change
 * these fields while we read them (only the thread itself sets them). */
#include <linux/pid.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/signal.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include "crctl_internal.h"

static void fill(struct crctl_task_info *ti, struct task_struct *t)
{
	ti->clear_child_tid = (__u64)(unsigned long)t->clear_child_tid;
#ifdef CONFIG_RSEQ
	ti->rseq = (__u64)(unsigned long)t->rseq;
	ti->rseq_sig = t->rseq_sig;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	ti->rseq_len = t->rseq_len;
#else
	ti->rseq_len = t->rseq ? 32 : 0; /* before extensible rseq: always the original 32 */
#endif
#endif
	if (t->sas_ss_size) {
		ti->sas_ss_sp = t->sas_ss_sp;
		ti->sas_ss_size = t->sas_ss_size;
		ti->sas_ss_flags = t->sas_ss_flags;
	} else {
		ti->sas_ss_flags = SS_DISABLE;
	}
}

long crctl_task_info(struct crctl_open *o, struct crctl_task_info __user *arg)
{
	struct crctl_task_info in, out;
	struct task_struct *t;
	struct pid *pid;
	long rc = 0;
	int i;

	if (copy_from_user(&in, arg, sizeof(in)))
		return crctl_say(o, -EFAULT, "CRCTL_TASK_INFO: bad argument address");
	if (in.tid <= 0 || in.flags || in.pad)
		return crctl_say(o, -EINVAL, "CRCTL_TASK_INFO: tid %d, flags %#x: a tid > 0 and no "
				 "flags", in.tid, in.flags);
	for (i = 0; i < ARRAY_SIZE(in.reserved); i++)
		if (in.reserved[i])
			return crctl_say(o, -EINVAL, "CRCTL_TASK_INFO: reserved fields not zero");
	pid = find_get_pid(in.tid); /* in the caller's pid namespace */
	if (!pid)
		return crctl_say(o, -ESRCH, "no thread %d", in.tid);
	t = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!t)
		return crctl_say(o, -ESRCH, "no thread %d", in.tid);
	/* the caller must be this thread's tracer (the thread that seized it) */
	if (!READ_ONCE(t->ptrace) || rcu_access_pointer(t->parent) != current) {
		rc = crctl_say(o, -EPERM, "thread %d is not traced by you: PTRACE_SEIZE it "
			       "first (from this thread)", in.tid);
		goto out;
	}
	if (!task_is_traced(t)) {
		rc = crctl_say(o, -EBUSY, "thread %d is running: PTRACE_INTERRUPT it and wait "
			       "for the stop", in.tid);
		goto out;
	}
	memset(&out, 0, sizeof(out)); /* padding and reserved go out as zero */
	out.tid = in.tid;
	fill(&out, t);
	if (copy_to_user(arg, &out, sizeof(out)))
		rc = crctl_say(o, -EFAULT, "CRCTL_TASK_INFO: bad argument address");
out:
	put_task_struct(t);
	return rc;
}
