// SPDX-License-Identifier: GPL-2.0
/* /dev/crctl: the kernel side of slurm-cr's kmod backend (doc/kmod-design.md).
 * A misc device anyone may open (mode 0666); each ioctl checks its caller itself. */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/uaccess.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "crctl_internal.h"

bool allow_restore_grant = true;
module_param(allow_restore_grant, bool, 0644);
MODULE_PARM_DESC(allow_restore_grant,
		 "serve CRCTL_RESTORE_GRANT (CAP_CHECKPOINT_RESTORE for one restore of an own image)");

int restore_grant_gid = -1;
module_param(restore_grant_gid, int, 0644);
MODULE_PARM_DESC(restore_grant_gid,
		 "serve CRCTL_RESTORE_GRANT only to members of this group (-1: every user)");

static long crctl_version(void __user *arg)
{
	struct crctl_version v;

	memset(&v, 0, sizeof(v)); /* no stack byte reaches user space */
	v.abi = CRCTL_ABI;
	v.size = sizeof(v);
	v.features = CRCTL_F_TASK_INFO | CRCTL_F_LAST_ERROR |
		     (allow_restore_grant ? CRCTL_F_RESTORE_GRANT | CRCTL_F_GRANT_PIDS : 0);
	strscpy(v.module_version, CRCTL_MOD_VERSION, sizeof(v.module_version));
	return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

long crctl_say(struct crctl_open *o, long err, const char *fmt, ...)
{
	char line[CRCTL_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	spin_lock(&o->lock);
	strscpy(o->msg, line, sizeof(o->msg));
	spin_unlock(&o->lock);
	return err;
}

static long crctl_last_error(struct crctl_open *o, void __user *arg)
{
	struct crctl_message m;

	memset(&m, 0, sizeof(m)); /* the whole struct goes out: no stale byte */
	spin_lock(&o->lock);
	strscpy(m.text, o->msg, sizeof(m.text));
	spin_unlock(&o->lock);
	return copy_to_user(arg, &m, sizeof(m)) ? -EFAULT : 0;
}

static long crctl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct crctl_open *o = file->private_data;

	if (cmd == CRCTL_LAST_ERROR)
		return crctl_last_error(o, (void __user *)arg);
	crctl_say(o, 0, "%s", ""); /* a call that succeeds leaves no reason behind */
	switch (cmd) {
	case CRCTL_VERSION:
		return crctl_version((void __user *)arg);
	case CRCTL_RESTORE_GRANT:
		return crctl_restore_grant(o, (const struct crctl_grant __user *)arg);
	case CRCTL_RESTORE_END:
		if (arg)
			return crctl_say(o, -EINVAL, "CRCTL_RESTORE_END takes no argument");
		return crctl_restore_end(o);
	case CRCTL_TASK_INFO:
		return crctl_task_info(o, (struct crctl_task_info __user *)arg);
	default:
		return crctl_say(o, -ENOTTY, "unknown ioctl %#x for /dev/crctl (abi %d)", cmd,
				 CRCTL_ABI);
	}
}

static int crctl_open(struct inode *inode, struct file *file)
{
	struct crctl_open *o = kzalloc(sizeof(*o), GFP_KERNEL);

	if (!o)
		return -ENOMEM;
	spin_lock_init(&o->lock);
	file->private_data = o; /* replaces the miscdevice misc_open put there */
	return 0;
}

static int crctl_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static const struct file_operations crctl_fops = {
	.owner = THIS_MODULE,
	.open = crctl_open,
	.release = crctl_release,
	.unlocked_ioctl = crctl_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice crctl_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "crctl",
	.fops = &crctl_fops,
	.mode = 0666, /* open to all: no operation trusts the opener (design, section 2) */
};

static int __init crctl_init(void)
{
	int rc = misc_register(&crctl_dev);

	if (rc) {
		pr_err("crctl: cannot register /dev/crctl: %d\n", rc);
		return rc;
	}
	pr_info("crctl: slurm-cr kmod %s, abi %d, /dev/crctl ready (restore grant %s)\n",
		CRCTL_MOD_VERSION, CRCTL_ABI, allow_restore_grant ? "on" : "off");
	return 0;
}

static void __exit crctl_exit(void)
{
	misc_deregister(&crctl_dev);
	pr_info("crctl: unloaded\n");
}

module_init(crctl_init);
module_exit(crctl_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("slurm-cr");
MODULE_DESCRIPTION("slurm-cr checkpoint/restart control device (/dev/crctl)");
MODULE_VERSION(CRCTL_MOD_VERSION);
