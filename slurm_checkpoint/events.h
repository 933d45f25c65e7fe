/* Events after BLCR's fault-tolerance schema (CHKPT_BEGIN, CHKPT_END, CHKPT_ERROR,
 * RSTRT_BEGIN, RSTRT_END, RSTRT_ERROR; and CHKPT_WAIT: a request waits for another
 * requester's checkpoint of a task to end) as JSON lines in a step's events.jsonl and
 * in syslog.  Shared by the periodic writer, the node agent and restart at launch. */
#ifndef SLURM_CR_EVENTS_H
#define SLURM_CR_EVENTS_H

/* Events of the step whose images are in image_dir, seen from node `node`: appended
 * to image_dir/events.jsonl (when it can be opened) and sent to syslog. */
void cr_events_open(const char *image_dir, const char *node);

/* Each event also goes, as a JSON line on stdin (CR_EVENT: its name), to the site's
 * hook command SLURM_CR_EVENT_HOOK when that is an absolute path.
 * One event.  Its handle is "<step>:<node>:<generation>" (plus ":<rank>" when rank
 * >= 0), the same for a BEGIN and its END or ERROR; err/msg only for *_ERROR;
 * bytes only when non-zero; extra: more JSON members ("\"a\":1"), or NULL. */
void cr_event(const char *name, unsigned gen, int rank, int err, const char *msg,
              unsigned long long bytes, const char *extra);

#endif
