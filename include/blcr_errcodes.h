/* blcr_errcodes.h: BLCR's error codes, in BLCR's order (the first is 2354).
 *
 * As in BLCR, this file holds only CR_ERROR_DEF(name, description) lines and is
 * included with CR_ERROR_DEF defined by the includer: blcr_common.h makes the enum
 * of names from it, libcr's cr_strerror() the texts.  Append only: a code's value is
 * its position, and programs built against BLCR carry those values.
 * No include guard on purpose: it is read more than once. */
CR_ERROR_DEF(CR_ETEMPFAIL, "Temporary failure: a callback cancelled the checkpoint")
CR_ERROR_DEF(CR_EPERMFAIL, "Permanent failure: checkpoint cancelled and the process ended")
CR_ERROR_DEF(CR_ENOSUPPORT, "The process does not run the slurm-cr runtime (start it with cr_run)")
CR_ERROR_DEF(CR_EVERSION, "Interface version not supported")
CR_ERROR_DEF(CR_EOMITTED, "Process left out of the checkpoint at a callback's request")
CR_ERROR_DEF(CR_EBADARCH, "Context file made on another architecture")
CR_ERROR_DEF(CR_EPTRACED, "A target process is being ptraced")
CR_ERROR_DEF(CR_EPTRACER, "A target process is ptracing others")
CR_ERROR_DEF(CR_ERSTRTABRT, "Restart aborted")
CR_ERROR_DEF(CR_ERESTARTED, "This is the restarted copy of the process")
CR_ERROR_DEF(CR_ENOTCB, "Allowed only inside a checkpoint callback")
CR_ERROR_DEF(CR_ENOINIT, "The calling thread has not called cr_init()")
