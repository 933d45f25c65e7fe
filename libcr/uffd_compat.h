/* What the userfaultfd write-protection and PAGEMAP_SCAN users (dirty_track.c,
 * precopy.c) need of the kernel's uapi. */
#ifndef SLURM_CR_UFFD_COMPAT_H
#define SLURM_CR_UFFD_COMPAT_H

#include <stdint.h>
#include <linux/ioctl.h>
#include <linux/userfaultfd.h>

/* From the kernel's uapi (include/uapi/linux/userfaultfd.h, fs.h, Linux 6.7), which
 * older headers lack. */
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef PAGEMAP_SCAN
struct pm_scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PM_SCAN_WP_MATCHING (1 << 0)
#define PM_SCAN_CHECK_WPASYNC (1 << 1)
#define PAGE_IS_WRITTEN (1 << 1)
#endif

#endif
