/*
 * spool.h — the spool protocol: the only code that knows how packs move
 * between the directories of a shared spool (NFS, sshfs, CephFS, local).
 *
 * What `ls SPOOL` shows (states are directories, names say who and which
 * attempt; see /usr/share/doc or DESIGN.md §2-3 for the reasons):
 *
 *   .spool-id        identity, made once by `spoolctl init`; missing or
 *                    changed = "not our spool mounted": do nothing
 *   incoming/P       dropped by scanners (file.tif or a directory of pages)
 *   claimed/P@N      node N works on attempt 1
 *   claimed/P@N+K    node N works on attempt K (K >= 2)
 *   claimed/P@+K     released after K attempts, waiting for any node
 *   claimed/.P.err   attempt history while the pack circulates
 *   done/P           source after success (when kept)
 *   failed/P, P.err  quarantined, with every attempt's reason
 *   nodes/N          heartbeat text of node N, its mtime is server time
 *   tmp/.N@*         node-private temporary names ('@' ends the node
 *                    name: node names may contain '.', so ".n1." would
 *                    also match node "n1.x"'s temps)
 *   out/             default OUTPUT: BASE.tif + BASE.json
 *
 * Rules that every function here keeps:
 *  - State changes are rename()s to names unique to the renaming node; after
 *    a failed rename the target's existence decides (lost reply vs. lost
 *    race).  No flock/fcntl/O_EXCL/link/mkdir locks, no RENAME_NOREPLACE.
 *  - Time: only server-stamped mtimes are compared with each other.  "Server
 *    now" is the mtime of a file this node has just WRITTEN (its heartbeat).
 *    The local clock is never compared with a server timestamp.
 *  - Every file system call goes through a `struct spool_ops` table (the
 *    fault seam): tests wrap it to make a rename succeed on the "server" but
 *    fail on the "client", lose races, report ENOTCONN, or shift mtimes.
 *  - Functions return 0 (or a documented outcome >= 0) and -1 with the
 *    reason, including the cause (strerror), in the caller's errbuf.  No
 *    global state, no printing, no exit().
 *
 * Pack names may contain any byte a file name can ('@', '+', spaces,
 * newlines, non-UTF-8); claim names are parsed from the LAST '@'.  Node
 * names are [A-Za-z0-9._-]{1,64}, not starting with '.'.
 */
#ifndef SPOOLD_SPOOL_H
#define SPOOLD_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "errbuf.h"

/* ================================================================ limits */

#define SPOOL_NODE_MAX      64     /* bytes in a node name */
#define SPOOL_PACK_MAX      176    /* bytes in a claimable pack name: the
                                      claim name P@NODE+999999 must fit in
                                      NAME_MAX (255) */
#define SPOOL_ATTEMPT_MAX   999999 /* largest attempt number in a name */
#define SPOOL_CLAIM_NAME_MAX (SPOOL_PACK_MAX + 1 + SPOOL_NODE_MAX + 1 + 6)
#define SPOOL_HEARTBEAT_MAX 4096   /* bytes of heartbeat text */
#define SPOOL_REASON_MAX    400    /* bytes of one reason (history line) */

/* Server time and durations: nanoseconds since the epoch, as stamped by the
 * server on a file's mtime.  Only ever subtract two server times. */
typedef int64_t spool_ns;
#define SPOOL_NS_PER_S INT64_C(1000000000)

/* Seconds (config values such as lease, settle) to spool_ns. */
spool_ns spool_ns_from_s(double seconds);
/* mtime of a stat buffer as spool_ns. */
spool_ns spool_ns_mtime(const struct stat *st);

/* ============================================================ fault seam */

/* Every file system call of the protocol goes through this table.  `ctx` is
 * passed back unchanged.  Each function behaves like the system call of the
 * same name: -1 (NULL for opendir) and errno on failure.  readdir returns 1
 * and sets *name (valid until the next call) for an entry, 0 at the end,
 * -1 with errno on error; it never returns "." or "..". */
struct spool_ops {
    int (*rename)(void *ctx, const char *from, const char *to);
    int (*lstat)(void *ctx, const char *path, struct stat *st);
    int (*open)(void *ctx, const char *path, int flags, mode_t mode);
    ssize_t (*read)(void *ctx, int fd, void *buf, size_t n);
    ssize_t (*pread)(void *ctx, int fd, void *buf, size_t n, off_t off);
    ssize_t (*write)(void *ctx, int fd, const void *buf, size_t n);
    int (*fstat)(void *ctx, int fd, struct stat *st);
    int (*fsync)(void *ctx, int fd);
    int (*close)(void *ctx, int fd);
    int (*unlink)(void *ctx, const char *path);
    int (*mkdir)(void *ctx, const char *path, mode_t mode);
    int (*rmdir)(void *ctx, const char *path);
    void *(*opendir)(void *ctx, const char *path);
    int (*readdir)(void *ctx, void *dir, const char **name);
    int (*closedir)(void *ctx, void *dir);
};

/* The real system calls (ctx unused).  A constant table, not state. */
extern const struct spool_ops spool_sys_ops;

/* ================================================================ names */

/* True if NAME is a valid node name: [A-Za-z0-9._-]{1,64}, no leading '.'. */
bool spool_node_name_ok(const char *name);

/* True if scanners' NAME in incoming/ is to be ignored: "", ".", "..",
 * names starting with '.', ending in ".part" or ".tmp". */
bool spool_name_ignored(const char *name);

/* One entry of claimed/.  node[0] == '\0' means released ("P@+K"). */
struct spool_claim {
    char pack[SPOOL_PACK_MAX + 1];  /* P, any bytes except '/' and NUL */
    char node[SPOOL_NODE_MAX + 1];  /* N, or "" when released */
    int attempt;    /* held: the attempt N works on (>= 1);
                       released: attempts consumed so far (>= 0) */
    /* filled by spool_list_claims (zero otherwise): */
    bool is_dir;
    uint64_t bytes;         /* file size, or sum of a directory's members */
    spool_ns mtime;         /* server mtime of the claim entry */
};

/* Parses a claimed/ entry name.  Accepts only canonical names, the ones
 * spool_claim_format makes: "P@N" (attempt 1), "P@N+K" (K >= 2), "P@+K"
 * (K >= 0), K without leading zeros and <= SPOOL_ATTEMPT_MAX, N a valid
 * node name, P non-empty, not starting with '.', <= SPOOL_PACK_MAX bytes.
 * Returns 0, or -1 if NAME is not such a name (c is then undefined). */
int spool_claim_parse(const char *name, struct spool_claim *c);

/* Formats the canonical claim name of c into buf (cap bytes).  Returns its
 * length, or -1 if c is invalid or buf too small. */
int spool_claim_format(const struct spool_claim *c, char *buf, size_t cap);

/* Output base name of pack P: P without a final ".tif"/".tiff" (any case)
 * when P is a file, P itself for a directory pack.  Returns the length or
 * -1 if the result would be empty, start with '.', or not fit in cap. */
int spool_output_base(const char *pack, bool is_dir, char *buf, size_t cap);

/* ============================================================= the spool */

struct spool;   /* opaque; one per spool root and node */

/* Opens the spool at ROOT (an absolute or relative path; it is kept as
 * given and every call builds paths from it, so a remount is found again)
 * for NODE (NULL for read-only users such as `spoolctl status`; then the
 * functions that need a node fail).  Reads and remembers .spool-id.
 * ops NULL = spool_sys_ops.  Fails if .spool-id is missing or invalid. */
int spool_open(struct spool **sp, const char *root, const char *node,
               const struct spool_ops *ops, void *ops_ctx, errbuf *e);
void spool_close(struct spool *sp);

const char *spool_root(const struct spool *sp);
const char *spool_node(const struct spool *sp);   /* "" if none */
const char *spool_id(const struct spool *sp);     /* the 32 hex digits */

/* Re-reads .spool-id and compares it with the one read at open.  0 if the
 * same; -1 if missing, unreadable (ENOTCONN, EIO...) or changed, with the
 * reason.  The daemon calls it every poll and stops claiming on -1. */
int spool_check_identity(struct spool *sp, errbuf *e);

/* Checks that OUTDIR (NULL: ROOT/out) is this spool's output.  An output
 * inside the spool (ROOT/out, or any path under ROOT/) shares the spool's
 * mount, so the spool's identity vouches for it: 0.  Any other directory
 * must hold OUTDIR/.spool-output, a copy of the spool's .spool-id written
 * by `spoolctl init --output OUTDIR ROOT`: if it is missing, unreadable or
 * names another spool, -1 with the reason.  This is what keeps a vanished
 * output mount (whose mount point is then an empty local directory that
 * accepts writes) from swallowing published packs: the daemon checks it
 * every poll and before every publish, the worker before it writes. */
#define SPOOL_OUTPUT_MARKER ".spool-output"
int spool_check_output(struct spool *sp, const char *outdir, errbuf *e);

/* Builds "ROOT/DIR/NAME" (NAME may be NULL: "ROOT/DIR") into buf.
 * Returns 0, or -1 if it does not fit. */
int spool_path(const struct spool *sp, const char *dir, const char *name,
               char *buf, size_t cap, errbuf *e);

/* Path of the claimed/ entry of c (the pack the worker reads). */
int spool_claim_path(const struct spool *sp, const struct spool_claim *c,
                     char *buf, size_t cap, errbuf *e);

/* --------------------------------------------------------------- init */

struct spool_init_opts {
    bool force;            /* initialise a non-empty non-spool directory */
    bool group_writable;   /* dirs 2775 (setgid, g+w) whatever the umask */
    const char *out_dir;   /* NULL: create ROOT/out */
};

/* Creates ROOT (if missing), incoming/ claimed/ done/ failed/ nodes/ tmp/
 * out/ and .spool-id ("spoold-spool 1 <32 hex> <unix time> <host>"); with
 * out_dir, also out_dir/ and out_dir/.spool-output (a copy of .spool-id:
 * see spool_check_output).  On an
 * existing spool with a valid id: creates missing directories, keeps the
 * id, returns 0.  Refuses a non-empty directory without .spool-id unless
 * force.  Modes: 0777 & ~umask (dirs), 0666 & ~umask (.spool-id). */
int spool_init(const char *root, const struct spool_init_opts *o,
               const struct spool_ops *ops, void *ops_ctx, errbuf *e);

/* ============================================================ heartbeat */

/* The text of nodes/NODE: "key=value" lines, first line "spoold-heartbeat
 * 1".  Unknown keys are ignored by the parser (newer daemons may add some);
 * values are one line each.  The daemon fills it; spoolctl reads it. */
struct spool_heartbeat {
    char node[SPOOL_NODE_MAX + 1];  /* node=    */
    char host[256];         /* host=    hostname */
    long pid;               /* pid=     daemon pid */
    char version[32];       /* version= SPOOLD_VERSION */
    char state[16];         /* state=   running | draining | paused (no
                               claiming: spool lost, backpressure) */
    char note[128];         /* note=    why paused, free text, one line */
    int workers;            /* workers= worker slots */
    int busy;               /* busy=    slots in use */
    double heartbeat_s;     /* heartbeat= interval the node writes at */
    double lease_s;         /* lease=   lease the node reaps with */
    int64_t local_time;     /* local_time= node's own clock, unix s (for
                               showing clock skew only, never compared) */
    int64_t uptime_s;       /* uptime=  s since the daemon started */
    uint64_t packs_done;    /* packs_done=   since start */
    uint64_t packs_failed;  /* packs_failed= attempts that failed */
    uint64_t pages_done;    /* pages_done=   since start */
    uint64_t bytes_done;    /* bytes_done=   input bytes of packs done */
    double pages_per_min;   /* pages_per_min= over the last rate_window s */
    int rate_window_s;      /* rate_window=  */
};

/* Formats hb into buf.  Returns the length, -1 if it does not fit or a
 * string field contains a newline. */
int spool_heartbeat_format(const struct spool_heartbeat *hb, char *buf,
                           size_t cap, errbuf *e);

/* Parses heartbeat text (len bytes, need not be NUL-terminated).  Missing
 * keys stay zero/empty.  -1 if the first line is not "spoold-heartbeat 1"
 * or a known numeric key has a malformed value. */
int spool_heartbeat_parse(const char *text, size_t len,
                          struct spool_heartbeat *hb, errbuf *e);

/* Writes hb to nodes/.NODE.tmp, fsyncs, renames it to nodes/NODE, lstats
 * it: *server_now = its mtime (the server's clock, 1 s resolution over
 * SFTP).  Never touches/utimensat (sshfs would stamp the client clock). */
int spool_heartbeat_write(struct spool *sp, const struct spool_heartbeat *hb,
                          spool_ns *server_now, errbuf *e);

/* Removes nodes/NODE (clean exit, after every claim was returned). */
int spool_heartbeat_remove(struct spool *sp, errbuf *e);

/* Server now for a caller that is not a node (spoolctl): writes, stats and
 * removes tmp/.ctl-HOST-PID.now. */
int spool_server_now(struct spool *sp, spool_ns *server_now, errbuf *e);

/* Pages-per-minute over a sliding window, from (monotonic seconds, pages
 * done) samples the daemon adds (local monotonic clock: this is the node's
 * own rate, never compared with server time).  Caller-owned. */
#define SPOOL_RATE_SAMPLES 64
struct spool_rate {
    double t[SPOOL_RATE_SAMPLES];
    uint64_t pages[SPOOL_RATE_SAMPLES];
    int n, head;
    double window_s;        /* 0 = 300 */
};
void spool_rate_add(struct spool_rate *r, double mono_s, uint64_t pages_done);
double spool_rate_per_min(const struct spool_rate *r);

/* ================================================================ nodes */

struct spool_node_info {
    char name[SPOOL_NODE_MAX + 1];
    spool_ns mtime;                 /* server time of the last heartbeat */
    bool hb_ok;                     /* text parsed */
    struct spool_heartbeat hb;
    char why[128];                  /* why not hb_ok */
};

struct spool_nodes {
    struct spool_node_info *v;
    size_t n;
};

/* Lists nodes/ (hidden and invalid names skipped) and reads each text. */
int spool_list_nodes(struct spool *sp, struct spool_nodes *out, errbuf *e);
void spool_nodes_free(struct spool_nodes *nodes);
const struct spool_node_info *spool_nodes_find(const struct spool_nodes *nodes,
                                               const char *name);

/* Liveness of a node in SERVER time: dead if now - hb_mtime > lease
 * (exactly lease is still alive), or if it has no heartbeat (has_hb false:
 * claims exist but nodes/N does not).  *age_out (may be NULL) = now -
 * hb_mtime, or -1 without heartbeat.  A negative age (heartbeat newer than
 * this caller's "now", which is up to one heartbeat old) is alive. */
bool spool_node_dead(bool has_hb, spool_ns hb_mtime, spool_ns now,
                     spool_ns lease, spool_ns *age_out);

/* ============================================================== incoming */

enum spool_readiness {
    SPOOL_CHANGING,    /* first seen, or size/mtime/members changed */
    SPOOL_SETTLING,    /* unchanged, newest mtime younger than settle */
    SPOOL_INCOMPLETE,  /* quiet but does not parse (yet): see why */
    SPOOL_READY,       /* claim it */
    SPOOL_BROKEN,      /* claim it and fail it permanently with `why`:
                          quiet for broken_after and still unparsable, or
                          a symlink/FIFO/device, or a nested directory */
    SPOOL_REJECT,      /* cannot even be claimed (name longer than
                          SPOOL_PACK_MAX): spool_reject() it */
};

const char *spool_readiness_name(enum spool_readiness r);

struct spool_pack {
    char *name;                 /* in incoming/ */
    enum spool_readiness state;
    char why[200];              /* reason for INCOMPLETE/BROKEN/REJECT */
    bool is_dir;
    uint64_t bytes;             /* file size or sum of members */
    int members;                /* files in a directory pack (1 for a file) */
    int pages;                  /* pages found by the parse check, -1 unknown */
    uint64_t max_page_pixels;   /* largest page width*height, 0 unknown */
    spool_ns newest_mtime;      /* server time of the last change */
    uint64_t order;             /* node-specific scan order key */
    bool parse_pending;         /* READY by the rules so far, parse check
                                   not made yet (lazy_parse) */
};

struct spool_scan_opts {
    double settle_s;        /* quiet time before a pack is ready */
    double broken_after_s;  /* quiet this long and still unparsable:
                               BROKEN (0 = max(10 * settle, 300)) */
    bool no_parse;          /* skip the parse check (tests, spoolctl) */
    bool lazy_parse;        /* leave the parse check of a quiet pack to
                               spool_scan_parse(): READY with parse_pending */
};

/* Caller-owned scan state: what the previous scan saw, so that "unchanged
 * since the previous scan" can be judged, and cached parse results. */
struct spool_scan;
struct spool_scan *spool_scan_new(void);
void spool_scan_free(struct spool_scan *st);

/* Lists incoming/ and judges every pack (ignored names are skipped; inside
 * a directory pack, members with ignored names count for "changing" but
 * are not pages: the worker must skip them too):
 *   changed since the previous scan (size, mtime; for a directory every
 *   member's, and the member list)           -> CHANGING
 *   unchanged, now - newest_mtime < settle     -> SETTLING
 *   unchanged, quiet, parses completely        -> READY
 *   quiet, does not parse, younger than broken_after -> INCOMPLETE
 *   ... older                                   -> BROKEN
 * A pack needs two scans to become READY.  `now` is server time (from the
 * last heartbeat).  Parse check (spool_check_image): TIFF every IFD and
 * strip within the file, PNG/PNM/JPEG complete; done once per unchanged
 * state.  Results sorted by `order` (hash of node and name), so nodes do
 * not all race for the same pack.  Entries valid until the next scan. */
int spool_scan_incoming(struct spool *sp, struct spool_scan *st, spool_ns now,
                        const struct spool_scan_opts *o, errbuf *e);
size_t spool_scan_count(const struct spool_scan *st);
const struct spool_pack *spool_scan_get(const struct spool_scan *st, size_t i);

/* With lazy_parse: makes the parse check of pack i of the last scan now, if
 * it is pending, and judges it as the scan would have (READY, INCOMPLETE
 * or BROKEN); the result is cached like the scan's own.  A daemon calls
 * it only for the packs it is about to claim: every node parsing every
 * pack it sees cost each pack one parse per node (scripts/bench-scale.sh).
 * Same `now` and options as the scan. */
void spool_scan_parse(struct spool *sp, struct spool_scan *st, size_t i,
                      spool_ns now, const struct spool_scan_opts *o);

/* Structural check of one page-image file, without decoding pixels.
 * TIFF (II/MM, classic and BigTIFF): every IFD in the chain readable and
 * every strip/tile inside the file; PNG: chunks up to IEND; PNM: header
 * and raster size; JPEG: ends with EOI.  Sets *pages and *max_pixels.
 * -1 with the reason ("truncated: strip 3 of page 12 ends past the end")
 * if incomplete or not an image. */
int spool_check_image(struct spool *sp, const char *path, int *pages,
                      uint64_t *max_pixels, errbuf *e);

/* ================================================================ claims */

enum spool_outcome {
    SPOOL_ERROR = -1,   /* errbuf says why; state unknown: retry later */
    SPOOL_LOST = 0,     /* someone else got there first (normal) */
    SPOOL_WON = 1,      /* done, and it is ours */
    SPOOL_GAVE_UP = 2,  /* spool_claim_released: attempts exhausted, the
                           pack was moved to failed/ instead */
    SPOOL_FENCED = 3,   /* spool_publish: our claim is gone (reaped) */
    SPOOL_TAKEN = 4,    /* spool_publish: the output name holds another
                           pack's result (a.tif and a.tiff, or file a.tif
                           and directory a): nothing was published */
};

/* Every claimed/ entry, sorted released-first then by node order.
 * Names that are neither claims nor sidecars are counted in n_other
 * (status shows them; the protocol leaves them alone); the P of every
 * history sidecar .P.err is in sidecars. */
struct spool_claims {
    struct spool_claim *v;
    size_t n;
    size_t n_other;
    char **sidecars;
    size_t n_sidecars;
};
int spool_list_claims(struct spool *sp, struct spool_claims *out, errbuf *e);
void spool_claims_free(struct spool_claims *claims);

/* Does MSG, an error message, name (in strerror()'s words) one of the
 * n errors in errs?  Errors reach the daemon as text (worker results,
 * libtiff's handlers), so text is what is classified. */
bool spool_msg_names(const char *msg, const int *errs, size_t n);

/* Does MSG name an error a shared file system gives while it, not the
 * file, is in trouble: EIO (sshd restart, partition), ENOTCONN and
 * ECONNABORTED (sshfs), ECONNRESET, ESTALE (NFS), ETIMEDOUT,
 * EHOSTUNREACH, ENETUNREACH?  Such an error is never held against a
 * pack. */
bool spool_msg_mount_error(const char *msg);

/* Removes orphan histories: claimed/.P.err of a pack that has no claim in
 * cl nor in a second listing taken here, is not in incoming/, and whose
 * sidecar is older than min_age by the server clock `now` (a node killed
 * between publishing or failing a pack and unlinking its history leaves
 * one; see spoolorphan.c).  Costs nothing beyond cl unless cl shows such
 * a sidecar.  Returns how many it removed, or -1. */
int spool_sweep_histories(struct spool *sp, const struct spool_claims *cl,
                          spool_ns now, spool_ns min_age, errbuf *e);

/* Removes the names libfuse gives files unlinked while open
 * (.fuse_hidden + 16 hex digits, regular files only) from SPOOL/tmp and
 * OUTDIR (NULL: SPOOL/out): an sshfs that dies before the last close
 * leaves them for good (spoolorphan.c).  Returns how many, or -1. */
int spool_sweep_fuse_litter(struct spool *sp, const char *outdir, errbuf *e);

/* rename(incoming/PACK, claimed/PACK@NODE).  WON: *out describes the claim
 * (attempt 1).  LOST: gone (another node).  Lost-reply rule: after ANY
 * rename error lstat the target; present = WON; absent and source present
 * = ERROR; both absent = LOST.  Refuses (ERROR) if claimed/PACK@NODE
 * already exists (a second pack of the same name while we hold the first:
 * the rename would replace it). */
enum spool_outcome spool_claim(struct spool *sp, const char *pack,
                               struct spool_claim *out, errbuf *e);

/* Takes a released claim rel (P@+K): if K + 1 > max_attempts, moves it to
 * failed/P with failed/P.err (history + "gave up after K attempts") and
 * returns GAVE_UP (or LOST); else rename to P@NODE+(K+1), WON/LOST/ERROR
 * as spool_claim. */
enum spool_outcome spool_claim_released(struct spool *sp,
                                        const struct spool_claim *rel,
                                        int max_attempts, spool_ns now,
                                        struct spool_claim *out, errbuf *e);

/* Fencing: is claimed/NAME(c) still there?  1 yes, 0 gone, -1 error. */
int spool_still_ours(struct spool *sp, const struct spool_claim *c,
                     errbuf *e);

/* Reaps claim c (P@X+K) of dead node X (X != our node), heartbeat age
 * hb_age (-1: no heartbeat): takes it exclusively by renaming it to
 * P@NODE+K (unique to us, so the lost-reply check is sound), appends
 * "attempt K on X: lease expired (heartbeat age N s)" (or "no heartbeat")
 * to claimed/.P.err, then releases it as P@+K.  WON/LOST/ERROR.  If the
 * final release fails the claim stays P@NODE+K: the caller finds it in
 * its own orphans and releases it with spool_release(consumed=false). */
enum spool_outcome spool_reap(struct spool *sp, const struct spool_claim *c,
                              spool_ns hb_age, spool_ns now, errbuf *e);

/* Appends one history line to claimed/.P.err (read, write tmp/.NODE.hist,
 * fsync, rename): "attempt K on NODE at 2024-01-02T03:04:05Z: REASON".
 * Newlines/control bytes in REASON become spaces.  Only the exclusive
 * holder of P calls it (the functions below do). */
int spool_history_append(struct spool *sp, const char *pack, int attempt,
                         const char *node, spool_ns when, const char *reason,
                         errbuf *e);

/* Returns our claim c (P@NODE+K) to the pool as P@+K after appending
 * REASON to the history (consumed: the attempt counts), or as P@+(K-1)
 * without consuming it (SIGTERM drain, reason still recorded).  Refuses
 * (ERROR, claim kept) if the target exists (a duplicate pack name
 * released at the same time): retry later. */
enum spool_outcome spool_release(struct spool *sp, const struct spool_claim *c,
                                 bool consumed, spool_ns now,
                                 const char *reason, errbuf *e);

/* A failed attempt of our claim c: appends REASON; then, if permanent or
 * c->attempt >= max_attempts, moves it to failed/P with failed/P.err
 * (*to_failed = true), else releases it as P@+K for a retry.  WON when
 * done, LOST if the claim was gone, ERROR otherwise. */
enum spool_outcome spool_fail(struct spool *sp, const struct spool_claim *c,
                              const char *reason, bool permanent,
                              int max_attempts, spool_ns now,
                              bool *to_failed, errbuf *e);

/* Moves incoming/PACK straight to failed/ with REASON (for REJECT packs
 * that cannot be claimed).  WON/LOST/ERROR. */
enum spool_outcome spool_reject(struct spool *sp, const char *pack,
                                const char *reason, spool_ns now, errbuf *e);

/* ================================================================ output */

/* Where the worker writes the results of claim c and where publish puts
 * them.  tmp_* are in SPOOL/tmp (.NODE@<hash>.K.tif/.json) when OUTPUT is
 * on the spool's file system, else hidden names inside OUTPUT
 * (.NODE@<hash>.K.tif.tmp / .json.tmp) so the final rename stays on one
 * file system. */
struct spool_output {
    char base[256];
    char tmp_tif[4096], tmp_json[4096];
    char final_tif[4096], final_json[4096];
    char report_head[SPOOL_PACK_MAX * 6 + 16]; /* {"pack":"P", (jsonstr.h):
                                                  how this pack's report,
                                                  hence its output, begins */
};

/* Fills o for claim c and output directory OUTDIR (NULL: SPOOL/out). */
int spool_output_paths(struct spool *sp, const char *outdir,
                       const struct spool_claim *c, struct spool_output *o,
                       errbuf *e);

/* Publishes our claim c: fencing check (gone: removes the temps, returns
 * FENCED); if final_tif exists and final_json does not begin with
 * report_head, the name belongs to another pack whose output maps to the
 * same name: returns TAKEN, publishes nothing (the caller fails the pack
 * with the reason in e; the other pack's result stays).  An output of the
 * same pack (an earlier attempt, or the same name submitted again) is
 * replaced.  Then renames tmp_json then tmp_tif into place (the .tif appearing
 * means complete), then moves claimed/P@NODE+K to done/P (if done/P exists:
 * done/P.<server unix s>.<NODE>) when keep_done, else moves it to tmp/
 * and removes it there; removes claimed/.P.err.  WON/FENCED/ERROR. */
enum spool_outcome spool_publish(struct spool *sp, const struct spool_claim *c,
                                 const struct spool_output *o, bool keep_done,
                                 spool_ns now, errbuf *e);

/* Removes o's temporary files (they may be gone).  For an attempt that
 * ends without publishing.  -1 if one may remain (an unlink failed for
 * another reason than ENOENT, e.g. the mount was down): the caller
 * retries later with spool_clean_tmp/spool_clean_output. */
int spool_remove_temps(struct spool *sp, const struct spool_output *o);

/* Start-up: removes this node's own temporary names .NODE@* in OUTDIR
 * (NULL: SPOOL/out), the ones a worker killed while it copied its results
 * into an output on another file system left behind. */
int spool_clean_output(struct spool *sp, const char *outdir, errbuf *e);

/* Start-up: removes this node's own tmp/.NODE@* names (files or trees).
 * Also at start-up: every claimed/P@NODE(+K) of our own name is from a
 * previous life (or a reap whose release failed): spool_release() it with
 * consumed=true (the previous life may have died of it). */
int spool_clean_tmp(struct spool *sp, errbuf *e);

/* ========================================================== operator side */

/* Copies SRC (a file, or a directory of regular files) into incoming/ under
 * the hidden name .NAME.submit-PID, fsyncs, renames it to incoming/NAME.
 * NAME NULL = basename of SRC.  Refuses an ignored or too long NAME, and
 * an existing incoming/NAME. */
int spool_submit(struct spool *sp, const char *src, const char *name,
                 errbuf *e);

/* Moves FROM_DIR/PACK ("failed" or "done") back to incoming/PACK, which
 * resets its attempts; removes failed/PACK.err.  Refuses if incoming/PACK
 * exists.  WON/LOST(gone)/ERROR. */
enum spool_outcome spool_requeue(struct spool *sp, const char *from_dir,
                                 const char *pack, errbuf *e);

/* Everything `spoolctl status` shows, read in one pass. */
struct spool_status_pack {
    char *name;
    bool is_dir;
    uint64_t bytes;
    spool_ns age;           /* now - mtime (server time; for claims the
                               mtime of the pack, kept by rename) */
    char node[SPOOL_NODE_MAX + 1];  /* claimed: holder ("" released) */
    int attempt;            /* claimed: as in struct spool_claim */
    char *reason;           /* failed: last line of PACK.err, or NULL */
};

struct spool_status_node {
    struct spool_node_info info;    /* info.name always set */
    bool has_hb;            /* false: claims name it, nodes/N missing */
    bool dead;
    spool_ns age;           /* heartbeat age in server time, -1 none */
    double lease_s;         /* lease used to judge it */
    size_t claims;          /* claims it holds */
};

struct spool_status {
    spool_ns now;               /* server now (probe file in tmp/) */
    bool now_ok;                /* false: probe failed (read-only spool),
                                   newest heartbeat mtime used instead */
    size_t n_incoming, n_quiet; /* quiet: no change for settle seconds */
    size_t n_working, n_waiting;/* claimed by a node / released P@+K */
    size_t n_done, n_failed;
    size_t n_other;             /* foreign names in claimed/ */
    uint64_t backlog_bytes;     /* incoming + waiting + working */
    double bytes_per_page;      /* from node counters, else a default */
    double backlog_pages;       /* backlog_bytes / bytes_per_page */
    double pages_per_min;       /* sum over live nodes */
    double eta_s;               /* backlog at that rate; -1 unknown */
    struct spool_status_pack *incoming, *working, *waiting, *failed;
                                /* n_incoming, n_working, ... entries;
                                   incoming and waiting oldest first */
    const struct spool_status_pack *oldest; /* oldest waiting pack
                                   (incoming or released), NULL if none */
    struct spool_status_node *nodes;
    size_t n_nodes;
};

struct spool_status_opts {
    double settle_s;        /* 0 = 10 */
    double lease_s;         /* 0 = each node's declared lease, else 60 */
};

int spool_status_read(struct spool *sp, const struct spool_status_opts *o,
                      struct spool_status *st, errbuf *e);
void spool_status_free(struct spool_status *st);

#endif
