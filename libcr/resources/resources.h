/* The kinds of file descriptor, one file each in this directory: how the dumper
 * recognizes and saves one, and how a restarted process (and a restarted tree's pool
 * of shared objects) gets it back.  One table of operations, cr_fd_kinds[]. */
#ifndef SLURM_CR_RESOURCES_H
#define SLURM_CR_RESOURCES_H

/* Why one file holds both halves of a kind and is compiled into both libraries: a kind
 * reads best whole (what is saved next to how it comes back), but libcr_run (the dump
 * side, preloaded into the application, built with -fvisibility=hidden) and libcrcore
 * (the restart side, a static library of the tools) are built from separate source
 * lists.  A file compiled into both must link in both, so each library carries the
 * whole table, and the helpers each half calls (dump_record.c: fail, fd_record...;
 * restart_child.c: child_fail, move_high, relocate...) are compiled into both as well:
 * no #ifdef, no weak symbol, no reliance on --gc-sections, and neither library is left
 * with an undefined symbol.  Each side calls only its own half (libcr_run: scan, detect,
 * save; libcrcore: the others); the other half is dead code there (some 20 KiB of
 * text), and nothing new is exported (hidden in libcr_run, static in the tools). */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "context_format.h"
#include "dump.h"
#include "restart_child.h"

/* ---- the dump side: what the dumper knows of the process's fds ---- */

#define FDINFO_OFF BOUNCE_OFF /* the bounce area is free until the memory is written */
#define FDINFO_SIZE (64 * 1024)

#define MAX_PIPES 1024
#define MAX_SEEN 4096
#define MAX_SOCKETS 1024

struct pipe_obj {
    uint64_t ino;
    int ends;                  /* 1: a read end seen, 2: a write end seen */
    int data_saved;
};

struct sock_info {
    uint64_t ino, peer_ino;    /* peer: for unix sockets, from sock_diag */
    int domain;
    int fd;                    /* the first fd of the process on it */
    uint32_t shutdown;         /* unix: sock_diag's (1 no more reading, 2 writing) */
    uint64_t vfs_ino;          /* unix, bound to a path: the socket file's inode */
    uint32_t unread;           /* unix: memory of what it sent and its peer has not read */
    int backlog;               /* unix, listening: its backlog (-1: not told) */
    int waiting;               /* unix, listening: connections not accepted yet */
};

struct sock_scan {
    struct sock_info socks[MAX_SOCKETS];
    int n;
};

/* Filled by the kinds' scan operations before any fd is saved (in the scratch). */
struct fd_scan {
    struct stat stdio[3];      /* inherit.c: what cr_restart's fds 0-2 stand for */
    struct { int fd; dev_t dev; ino_t ino; } seen[MAX_SEEN]; /* saved fds, to find dups */
    int nseen;
    struct pipe_obj pipes[MAX_PIPES];
    int npipes;
    int ptys[64];              /* indices of the pseudo-terminals whose master we have */
    int nptys;
    struct sock_scan socks;
    const int *fds;            /* every fd of the process (in the scratch) */
    int nfds;
};

struct cr_fd_probe {           /* one fd, as the dumper's driver found it */
    int fd;
    const char *path;          /* what /proc/self/fd/FD points to */
    size_t len;                /* strlen(path) */
    struct stat st;
};

/* ---- the restart side: a tree's pool, as build_pool() hands it to the kinds ---- */

struct cr_pool_build {
    struct ctx_tree *t;
    const struct cr_restart_opts *o;
    struct cr_pool *pool;
    struct child *rep;         /* reports a failure to cr_restart */
    int status_fd;
    int low;                   /* shared objects live at or above this fd */
};

/* One kind of fd record (CTX_FD_*).  Every operation is optional but valid and
 * describe, which every kind has (the reader refuses a record of a kind without a
 * validator, tests/programs/kinds_complete checks the table).  A family of kinds
 * that the dumper tells apart only while saving (a socket becomes a pair, a listening
 * socket, a reset one or stdio) is detected and saved by its first entry. */
struct cr_fd_ops {
    uint32_t kind;             /* CTX_FD_* */
    const char *name;          /* what cr_info and messages call it */

    /* dump side (libcr_run), in the frozen process: no malloc, no stdio */
    /* before any fd is saved, with every fd of the process (in table order) */
    int (*scan)(struct dump *d, struct fd_scan *s, const int *fds, int nfds);
    /* whether the fd is of this kind; the kinds are asked in table order */
    int (*detect)(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p);
    /* writes its record (fd_record()); 0 or -errno with the message in d */
    int (*save)(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p);
    int alias;                 /* its records stand for another fd's object: a later fd
                                  is never taken for a dup of it */

    /* restart side (libcrcore) */
    /* before anything is started (cr_restart_check): 0 or -errno with a message */
    int (*check)(const struct ctx_fd *f, const struct cr_restart_opts *o, char *err, size_t len);
    /* a new object for the record, on its own (fd_object()); it fails the child */
    int (*make)(struct child *c, const struct ctx_fd *f, uint32_t rec);
    /* the object in the restarted process, from the tree's pool or made here; *own
     * (1 on entry): the driver closes it once placed.  Without it: make, owned. */
    int (*restore)(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own);
    int late;                  /* restored after every other fd (epoll: its targets) */
    /* late: whether what it needs is placed (an epoll inside an epoll waits for the
       inner one); without it, ready at once */
    int (*ready)(struct child *c, const struct ctx_fd *f);
    int restore_nonblock;      /* the driver sets O_NONBLOCK as saved once it is placed */
    /* before any fd is placed: makes what must exist before the others or must not wait
       for the order of fds (a TCP connection, before the listeners on its ports;
       connections made again with other processes); it fails the child */
    void (*prepare)(struct child *c);
    /* after every fd is placed: closes what the kind kept for the restore */
    void (*finish)(struct child *c);
    /* a tree: objects its processes share, made once before any is forked */
    void (*pool)(struct cr_pool_build *b, uint32_t member, uint32_t rec, const struct ctx_fd *f);
    int pool_early;            /* made before every other kind's */

    /* the reader (libcrcore, and the fuzzer), for a record whose framing it checked
     * (the fd number, the path with its NUL inside the record, the extra within it):
     * whether the kind's own fields (flags, pos, source_fd, the extra) are well formed.
     * earlier: the process's fd records before it, n of them. */
    int (*valid)(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n);
    /* cr_info: the record's line (fd_line() starts it); acc: "r", "w" or "rw" */
    void (*describe)(const struct ctx_fd *f, FILE *out, const char *acc);
    /* a record of an fd that led outside the checkpoint: how it comes back, for the
     * tools' warnings (ctx_say_outside); NULL when it did not lead outside */
    const char *(*outside)(const struct ctx_fd *f);
    int socket;                /* its records restore a real socket of the process, which
                                  gets its filter and multicast memberships back
                                  (sock_attach.c) */
};

/* Every kind, NULL-terminated, in the order the dumper tries them (resources.c). */
extern const struct cr_fd_ops *const cr_fd_kinds[];
const struct cr_fd_ops *cr_fd_kind(uint32_t kind);

/* ---- helpers the kinds share ---- */

/* A record's path and the extra after it (not aligned: copy structs out of it). */
static inline const char *fd_rec_path(const struct ctx_fd *f) { return (const char *)(f + 1); }
static inline const unsigned char *fd_rec_extra(const struct ctx_fd *f)
{
    return (const unsigned char *)(f + 1) + f->path_len;
}

/* resources.c, cr_info: the start of an fd's line (number, name, access); a record
 * shown as a path and offset (a file, directory, device, terminal). */
void fd_line(FILE *out, const struct ctx_fd *f, const char *name, const char *acc);
void describe_path(const struct ctx_fd *f, FILE *out, const char *acc);

/* pty_input.c: what was typed on a terminal whose master is master (settings t) and
 * not read yet, taken into buf and typed again at once (its length, *nlines lines in
 * canonical mode; or -errno, *why saying why); typed again into a new master at
 * restart; the reader's check of a saved one. */
struct termios;
ssize_t pty_input_take(int master, const struct termios *t, char *buf, size_t cap, uint32_t *nlines,
                       const char **why);
int pty_input_type(int master, const struct termios *t, const char *data, size_t len, uint32_t nlines);
int valid_pty_input(const struct termios *t, const char *data, size_t len, uint32_t nlines);
/* resources.c, validators: a kind without an extra. */
int valid_no_extra(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n);

/* resources.c: what fd points to (/proc/self/fd), NUL-terminated, and its stat; -1
 * (errno set) when either cannot be had. */
ssize_t fd_path(int fd, char *path, size_t cap, struct stat *st);

/* resources.c: /proc/self/fdinfo/FD into the scratch, NUL-terminated; one hex field. */
const char *fdinfo(struct dump *d, int fd);
unsigned long long fdinfo_hex(const char *info, const char *key, int *found);

/* A new open file description for a record that processes of a tree share (a file,
 * directory, device, eventfd, timerfd, signalfd, pty or listening socket); -1 for a
 * kind that cannot be. */
int fd_object(struct child *c, const struct ctx_fd *f, uint32_t rec);

/* inherit.c: which of the (process's or tree's) stdio this fd is, its own number
 * first; -1 if none. */
int stdio_source(struct fd_scan *s, int fd, const struct stat *st);

/* disconnected.c: a pipe end or terminal leading outside that is not stdio, saved to
 * come back disconnected (or refused with --pipes=refuse). */
int save_disconnected(struct dump *d, const struct cr_fd_probe *p, int terminal);

/* pipe.c: the capacity of the pipe at fd (or -errno with the message in d); a record
 * of kind for it with pos its capacity and, with_data, the bytes waiting in it, copied
 * (nothing is consumed) as its extra: 0 and *out, or -errno with the message in d. */
int pipe_capacity(struct dump *d, int fd);
/* pipe.c: whether a pipe record's data fits its capacity (and its packets, with
 * CTX_FD_PIPE_PACKETS, are whole); its data written again into wfd (packets as
 * packets): 0, or -1 with errno */
int pipe_data_valid(const struct ctx_fd *f);
int pipe_refill(int wfd, const struct ctx_fd *f);
int pipe_record(struct dump *d, int fd, uint32_t kind, const char *path, int cap, int with_data,
                struct ctx_fd **out);

/* file.c, validators: with CTX_FD_DELETED and a source_fd, an earlier record of the
 * same kind (a file and an O_PATH fd of one are the same) has the deleted file or
 * queue, saved whole. */
int valid_reopen(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n);
/* file.c: a file opened by path must still be there (or be relocated). */
int check_path(const struct ctx_fd *f, const struct cr_restart_opts *o, char *err, size_t len);
/* file.c: an earlier saved fd with the inode of this deleted one (another open of it),
 * -1 none, or -errno in a tree; at restart, another open of the file of the record's
 * source_fd with flags. */
int same_deleted_inode(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p);
int reopen_fd(struct child *c, const struct ctx_fd *f, int flags);
/* file.c, a tree's pool: refuses a deleted file or queue that two processes opened
 * apart (not one open file they share). */
void pool_deleted(struct cr_pool_build *b, uint32_t member, uint32_t rec, const struct ctx_fd *f);

/* file.c: a directory deleted while in use, made again at saved_path (relocated) with
 * mode, opened (flags: O_RDONLY or O_PATH) and removed again; it fails the child. */
int recreate_deleted_dir(struct child *c, const char *saved_path, uint32_t mode, int flags);

/* socket.c: the sockets of the process, their unix peers from sock_diag; buf holds
 * the kernel's answers. */
int sock_scan(struct dump *d, struct sock_scan *ss, const int *fds, int nfds, char *buf);
/* --sockets=delay: whether one of the process's sockets fds[] leads outside the process
 * (msg names it). */
int external_sockets(const int *fds, int n, char *msg, size_t msglen);
const char *sock_type_name(int domain, int type);
struct ctx_fd *sock_record(struct dump *d, int fd, uint32_t kind, const char *text,
                           size_t extra, const struct stat *st);
/* The tree's pool: the socket made for this inode; the one a record of this process
 * takes (-1 none); whether a process other than number i has a socket of this inode. */
struct cr_pool_sock *pool_sock(struct cr_pool *pool, uint64_t ino);
int pool_pair_end(struct child *c, const struct ctx_fd *f);
/* A socket that processes of a tree share (inherited: a preforking server's listening
 * socket): made once by the pool, its object taken from there; else made alone. */
void pool_add_socket(struct cr_pool_build *b, uint32_t member, uint32_t rec, const struct ctx_fd *f);
int restore_pooled_socket(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own);
int in_other_image(const struct ctx_tree *t, uint32_t i, uint64_t ino);
/* local_sock.c: binds (and listens) the process's listening TCP sockets now, before
 * a restarted step's connections are made again (step_conn.c); each is placed at its
 * fd later, in order, like the others. */
void bind_listeners_early(struct child *c);

/* pmix_link.c, the runtime's manager before the freeze: where a PMIx client library
 * keeps its own name, for the dump (which may not call dlsym) */
void cr_pmix_locate(void);

/* pmi.c, the runtime: PMI_FD taken at start-up (cr_pmi_watch_start), and each read of
 * it shown to cr_pmi_saw_read until the server's answer to the client's PMI init is
 * seen (the version answered then goes into the image, for the new step's server) */
extern int cr_pmi_watched_fd;
void cr_pmi_watch_start(void);
void cr_pmi_saw_read(int fd, const void *buf, ssize_t n);

/* unix_sock.c: a unix socket whose peer is in the checkpoint (peer_si: in this
 * process) or was closed, saved connected with what is queued to it. */
int save_unix_pair(struct dump *d, int fd, const struct stat *st, const struct sock_info *si,
                   const struct sock_info *peer_si, int domain, int type, char *buf, size_t bufsize);

/* socket.c: the TCP socket from self to peer, as sock_diag tells it (found 0: none). */
struct tcp_diag {
    int found;
    uint64_t ino;              /* 0: none (an orphan, or waiting to be accepted) */
    uint32_t state;
    uint32_t rqueue, wqueue;   /* unread; sent and not acknowledged or not sent */
    uint32_t shutdown;         /* 1 RCV_SHUTDOWN, 2 SEND_SHUTDOWN */
};
int tcp_diag_find(const struct sockaddr_storage *self, const struct sockaddr_storage *peer, char *buf,
                  struct tcp_diag *out);

/* tcp_pair.c: a TCP connection inside the checkpoint (inside: its peer, a socket of
 * the checkpoint; peer_fd its fd here, or -1), or whose peer was closed (closed_peer),
 * or over both ways (neither), saved with the bytes on their way to it; whether a
 * socket in TCP_CLOSE had a connection. */
int save_tcp(struct dump *d, int fd, const struct stat *st, const struct tcp_diag *inside,
             int peer_fd, const struct tcp_diag *closed_peer, const char *here, const char *there);
int tcp_was_connected(int fd);
/* The process is killed once saved: its saved connections end with a reset, leaving
 * no TIME_WAIT on their ports for the restart. */
/* a TCP connection saved to be made again at restart: if the checkpoint ends with the
 * process killed, it ends with a reset (tcp_abort_on_exit), leaving no TIME_WAIT that
 * would keep its ports from the restart */
void tcp_reset_at_kill(int fd);
void tcp_abort_on_exit(void);
/* The process is stopped once saved (stopping 1; killed then, its saved connections end
 * with a reset), then continued (stopping 0: their SO_LINGER back). */
void tcp_reset_while_stopped(int stopping);
/* tcp_pair.c: the connections of the process waiting in the backlog of its listener
 * (with data sent on them) taken out with their data and made again for the program
 * that goes on: 0, or -errno with the message in d; the data of one of them (-1 none);
 * the room for it given back once every fd is saved. */
int tcp_backlog_take(struct dump *d, const struct sock_scan *ss, const struct fd_scan *s,
                     int listener, int fd, const char *what);
ssize_t tcp_backlog_data(int fd, const char **data, uint32_t *nmsgs);
void tcp_backlog_done(void);
/* The same for unix stream sockets (unix_sock.c), which gives the clients it replaces
 * their new inodes in ss. */
int unix_backlog_take(struct dump *d, struct sock_scan *ss, const struct fd_scan *s,
                      int listener, int fd, const char *what);
/* tcp_pair.c, what both share: the room for the data taken out (NULL: none, said in d),
 * kept for fd (-1: too many), which tcp_backlog_data gives; 1 the first time listener is
 * taken in this dump; an epoll of the process watching the socket of inode ino (its
 * fd, or -1); len bytes sent from fd within a bound (0 or -errno). */
char *backlog_room(struct dump *d, size_t *cap);
int backlog_keep(int fd, size_t len);
/* (the room's first skip bytes used meanwhile; the len kept are nmsgs struct ctx_sock_msg
 * each with its bytes and files in flight, as a record holds them) */
int backlog_keep_msgs(int fd, size_t skip, size_t len, uint32_t nmsgs);
int backlog_first_take(int listener);
int epoll_watching(struct dump *d, const struct fd_scan *s, uint64_t ino);
int sock_send_all(int fd, const char *p, size_t len, long limit_ms);
/* the options saved in so set on s but SO_REUSEADDR and IPV6_V6ONLY: 0, or -errno with
 * the message in err (tcp_pair.c) */
int sock_set_opts(int s, const struct ctx_socket *so, char *err, size_t errlen);
/* socket.c: a sock_diag dump request sent, each answer given to `each` (-errno if the
 * kernel refused); buf holds SOCK_DIAG_BUF bytes */
#define SOCK_DIAG_BUF (64 * 1024)
struct nlmsghdr;
int sock_diag_dump(const void *req, size_t reqlen, char *buf,
                   void (*each)(const struct nlmsghdr *h, void *arg), void *arg);
/* socket.c: the inode of the peer of the unix socket of inode ino (0: none, -1: sock_diag
 * cannot be asked) */
int64_t unix_peer_inode(uint64_t ino, char *buf);
/* socket.c: what a UDP (or UDP-Lite) socket of inode ino was shut down for (sock_diag's
 * bits: 1 reading, 2 writing; -1 when it cannot be asked) */
int inet_dgram_shutdown(int family, int protocol, uint64_t ino, char *buf);

/* tcp_pair.c: one end of a TCP connection to make again: its saved state and data (so
 * NULL: a peer that was closed, made and closed again) and the address it takes. */
struct tcp_end {
    const struct ctx_socket *so;
    const struct ctx_tcp *tcp;
    const unsigned char *data; /* tcp->data_len bytes queued to it */
    const struct sockaddr *local;
    socklen_t local_len;       /* 0: any loopback port */
};
/* A TCP connection between a (the accepting side) and b, each with its options, the
 * data queued to it sent from the other, the FINs and shutdowns as saved; out[0] a's
 * socket (-1 for a closed peer), out[1] b's.  A taken port is replaced by another, said
 * in note.  0, or -errno with the message in err. */
int tcp_pair_rebuild(const struct tcp_end *a, const struct tcp_end *b, int out[2], char *note,
                     size_t notelen, char *err, size_t errlen);
/* Once every fd is placed: its SO_REUSEADDR as saved (the rebuild binds with it). */
void tcp_end_finish(int s, const struct ctx_socket *so);

/* lock.c: the locks fd holds, saved after its record (saved_as: the kind that saved
 * it); taken again once every fd is placed (the POSIX ones checked there, taken by the
 * restorer from posix_lock_plan(): their number, and into out when not NULL). */
int save_locks(struct dump *d, const struct cr_fd_probe *p, uint32_t saved_as);
void restore_locks(struct child *c);
struct rp_lock;
uint32_t posix_lock_plan(const struct ctx_image *img, struct rp_lock *out);

/* fown.c: the owner of fd's signals and their number (F_SETOWN_EX, F_SETSIG), saved
 * after its record; set again once every fd is placed. */
int save_owner(struct dump *d, const struct cr_fd_probe *p, uint32_t saved_as);
void restore_owners(struct child *c);
/* fown.c: the fds whose owner is a thread other than the first, which the restorer
 * makes: their number, and into out when not NULL. */
struct rp_owner;
uint32_t thread_owner_plan(const struct ctx_image *img, struct rp_owner *out);

/* socket.c: the options of fd that differ from a new socket's of its kind, into so
 * (so->domain, type, protocol set); -1 if more than CTX_SOCKOPT_MAX do. */
int sock_save_opts(int fd, struct ctx_socket *so);
/* The name of an option of that table ("SO_REUSEADDR"). */
const char *describe_sockopt(int level, int name);
/* Sets them on s (a new socket), or fails the child naming the option. */
void sock_apply_opts(struct child *c, int s, const struct ctx_fd *f, const struct ctx_socket *so);
/* What is queued to fd, peeked without taking it, as struct ctx_sock_msg entries in
 * buf (a stream's bytes as one, but for a byte an fd in flight comes with); each
 * sender's address goes to from(arg, ...), which gives the fd it is sent again from,
 * or -errno with the message in d (NULL: a pair's peer); rcv_shut: shut down for
 * reading; files_ok: the process sends its queue again itself, fds in flight and its
 * own credentials with it (else refused).  The number of entries in *nmsgs; bytes
 * used, or -errno with the message in d. */
/* Whether another process of the tree has the socket of fd (sockets are not told
 * apart as shared open files: each process saves its own, and the tree's pool makes
 * it once at restart). */
int shared_in_tree(const struct dump *d, int fd);
/* An fd in flight to socket sock (copy: the fd a peek or a read gave; copies[]: all
 * those, which are not the process's), described at out as a struct ctx_sock_file and
 * what follows it: its length, or -1 with the message in d.  The length of one saved. */
ssize_t save_fd_in_flight(struct dump *d, int sock, const char *what, int copy, const int *copies,
                          int ncopies, char *out, size_t room);
size_t sock_file_size(const struct ctx_sock_file *sf);
/* The fds in flight with a message (n struct ctx_sock_file at x) opened for sending
 * again, in fds[] (opened[k]: made here, to close once sent); returns what follows. */
const unsigned char *files_in_flight(struct child *c, const struct ctx_fd *f, const unsigned char *x,
                                     uint32_t n, int *fds, int *opened);
/* what `from` returns for a datagram from a socket of another task of the step, whose
 * address it keeps (the message's from_fd is -1) */
#define SOCK_FROM_STEP (-0x7fff0000)
ssize_t sock_peek_queue(struct dump *d, int fd, const char *what, int type, int rcv_shut,
                        int files_ok, char *buf, size_t cap,
                        uint32_t *nmsgs, int (*from)(void *arg, const struct sockaddr *a,
                                                     socklen_t alen), void *arg);
/* The socket record's struct ctx_socket (copied: not aligned in the record) and its
 * first queued message. */
const unsigned char *sock_state(const struct ctx_fd *f, struct ctx_socket *so);

/* socket.c: the reader's check of a socket record's struct ctx_socket and queue
 * (CTX_FD_SOCKET, CTX_FD_SOCKPAIR), and its line in cr_info. */
int valid_socket_state(const struct ctx_fd *f);
/* the same for the first `end` bytes of its extra (a kind that adds a struct after) */
int valid_socket_state_upto(const struct ctx_fd *f, size_t end);
int valid_socket_addrs(const struct ctx_socket *so);
void describe_socket(const struct ctx_fd *f, FILE *out, const char *acc);

/* socket.c: the backlog of the listening TCP socket with this inode (-1: not found)
 * and in *waiting the connections not accepted yet, from sock_diag; buf holds the
 * kernel's answers. */
int tcp_listen_backlog(int family, uint64_t ino, char *buf, int *waiting);
/* How many sockets of the process wait in the backlog of its listening fd listener. */
int backlog_clients(const struct sock_scan *ss, int listener, char *buf);

/* local_sock.c: a socket whose state is all in the process (not a connection to the
 * outside): unbound, bound, listening, UDP, or connected to a socket of the process
 * (state: CTX_SOCK_CONNECT_LATE); from add_socket. */
int save_local_socket(struct dump *d, const struct sock_scan *ss, int fd, const struct stat *st,
                      const char *text, uint32_t state, char *buf, size_t bufsize,
                      const char *stream, size_t stream_len, uint32_t stream_msgs);
/* The socket of a CTX_FD_SOCKET record (or one with its struct ctx_socket first) made
 * again: bound, listening or connected as it was, with its options; nothing queued. */
int make_local_socket(struct child *c, const struct ctx_fd *f, uint32_t rec);
/* step_dgram.c: a named unix datagram socket with datagrams queued from a socket of
 * another task of the step (from: its address), saved as CTX_FD_STEP_DGRAM; the
 * record's extra as save_local_socket made it (so, then the queue, qlen bytes). */
int save_step_dgram(struct dump *d, int fd, const struct stat *st, const char *text,
                    const struct ctx_socket *so, const char *queue, size_t qlen,
                    const struct sockaddr_un *from, socklen_t from_len);
/* The fd of the process's listening socket bound to addr (-1 none). */
int backlog_listener(const struct sock_scan *ss, const struct sockaddr_storage *addr, socklen_t alen);
/* tcp_time_wait.c: the TIME_WAIT entries with local TCP port `port` whose remote end is
 * an address of this host ended (a SYN from there); how many were tried, and in report
 * (len bytes) what kept any from being tried ("" none). */
int tcp_end_time_waits(unsigned port, char *report, size_t len);
/* socket.c: unix socket file left at a path by the checkpointed process, that nobody
 * answers on: removed (a bind there would fail). */
void remove_stale_socket_file(const struct sockaddr_un *un, socklen_t alen, int type);

/* sock_attach.c: a socket's classic BPF filter and multicast memberships, saved after
 * its record (a kind with .socket); put back once every fd is placed and every queue
 * refilled. */
int save_sock_attach(struct dump *d, const struct cr_fd_probe *p);
void restore_sock_attach(struct child *c);

/* step_conn.c: a TCP connection to another task of the step (d->step), saved with its
 * two ends' addresses, its options and what is queued to it. */
int save_step_conn(struct dump *d, int fd, const struct stat *st, const struct sockaddr_storage *self,
                   socklen_t slen, const struct sockaddr_storage *peer, socklen_t plen,
                   const char *here, const char *there, char *buf, size_t bufsize);
/* launcher_sock.c: whether a listening socket is one the process had at its start (its
 * launcher's, not the tree's), and its record. */
int is_launcher_sock(const struct dump *d, const struct stat *st);
int save_launcher_sock(struct dump *d, int fd, const struct stat *st, int domain, int type,
                       const struct sockaddr_storage *self, socklen_t slen, const char *here);
/* shared.c: the object of fd `fd` of the tree's process number `member`, made by the
 * pool (-1 none). */
int pool_origin(struct child *c, uint32_t member, int fd);

#endif
