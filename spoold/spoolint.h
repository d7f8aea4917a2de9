/*
 * spoolint.h — internals shared by the spool protocol files (spool*.c):
 * the spool handle, file helpers over the fault seam, and the
 * lost-reply-safe rename.  Not for use outside spoold/spool*.c.
 */
#ifndef SPOOLD_SPOOLINT_H
#define SPOOLD_SPOOLINT_H

#include "spool.h"

#define SP_PATH_MAX 4096

struct spool {
    char *root;
    char node[SPOOL_NODE_MAX + 1];
    const struct spool_ops *ops;
    void *ctx;
    char id[33];            /* 32 hex digits */
    char idtext[256];       /* whole .spool-id as read at open */
};

/* lstat through the seam; 0 or -1 with errno. */
int sp_lstat(struct spool *sp, const char *path, struct stat *st);

/* 1 exists, 0 ENOENT, -1 other error (errno set). */
int sp_exists(struct spool *sp, const char *path);

/* rename with the lost-reply check (Postfix sane_rename, made sound by
 * unique targets).  After any error: target present -> WON if
 * unique_target or the source is gone; target absent and source present
 * -> ERROR; both absent -> LOST. */
enum spool_outcome sp_rename(struct spool *sp, const char *from,
                             const char *to, bool unique_target, errbuf *e);

/* Reads a whole file of at most max bytes into a NUL-terminated malloc'd
 * buffer.  *len (may be NULL) = bytes read.  O_NOFOLLOW. */
int sp_read_file(struct spool *sp, const char *path, size_t max, char **buf,
                 size_t *len, errbuf *e);

/* Like sp_read_file, but reads only the first max bytes (a longer file is
 * no error).  On failure errno says why (ENOENT, ELOOP for a symlink,
 * EINVAL for what is not a regular file). */
int sp_read_head(struct spool *sp, const char *path, size_t max, char **buf,
                 size_t *len, errbuf *e);

/* Writes data to tmp (created/truncated, mode 0666 & ~umask), fsyncs,
 * closes (checked), renames to final.  On failure removes tmp. */
int sp_write_replace(struct spool *sp, const char *tmp, const char *final,
                     const void *data, size_t len, errbuf *e);

/* Writes all of buf to fd; -1 with errno. */
int sp_write_all(struct spool *sp, int fd, const void *buf, size_t len);

/* Lists directory PATH: malloc'd array of malloc'd names (without "."
 * and ".."). */
int sp_listdir(struct spool *sp, const char *path, char ***names, size_t *n,
               errbuf *e);
void sp_free_names(char **names, size_t n);

/* Removes a file or a directory tree (depth <= 4).  ENOENT is success. */
int sp_remove_tree(struct spool *sp, const char *path, errbuf *e);

/* "ROOT/DIR/NAME" into buf (SP_PATH_MAX). */
int sp_path(const struct spool *sp, const char *dir, const char *name,
            char *buf, errbuf *e);

/* Requires a node name on sp. */
int sp_need_node(const struct spool *sp, errbuf *e);

/* 64-bit FNV-1a of a NUL-terminated string, continuing from h. */
uint64_t sp_hash(uint64_t h, const char *s);
#define SP_HASH_INIT UINT64_C(14695981039346656037)

/* Formats server time as 2024-01-02T03:04:05Z into buf (>= 21 bytes). */
void sp_format_time(spool_ns t, char *buf, size_t cap);

/* Copies s into buf (cap bytes) replacing control bytes by spaces. */
void sp_one_line(const char *s, char *buf, size_t cap);

#endif
