/*
 * metrics.c — formats the node's counters and gauges in the Prometheus text
 * exposition format and replaces the textfile-collector file atomically;
 * see metrics.h.
 */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain.h"

_Static_assert(METRICS_STAGE_BORDER == (int)STAGE_BORDER &&
               METRICS_STAGE_ORIENT == (int)STAGE_ORIENT &&
               METRICS_STAGE_DESKEW == (int)STAGE_DESKEW &&
               METRICS_STAGE_DESPECKLE == (int)STAGE_DESPECKLE &&
               METRICS_STAGE_CROP == (int)STAGE_CROP,
               "metrics stages must follow chain.h's stage ids");

static const char *const stage_names[METRICS_NSTAGES] = {
    "border", "orient", "deskew", "despeckle", "crop", "read", "write", "exec"
};

static const char *const state_names[METRICS_NSTATES] = {
    "incoming", "claimed", "retry", "done", "failed"
};

void metrics_init(metrics *m)
{
    memset(m, 0, sizeof *m);
    for (int i = 0; i < METRICS_NSTATES; i++)
        m->queue[i] = -1;
    m->oldest_incoming_age = -1;
    m->heartbeat_age = -1;
    m->spool_available = -1;
    m->workers_busy = -1;
    m->workers_total = -1;
}

const char *metrics_stage_name(int stage)
{
    return stage >= 0 && stage < METRICS_NSTAGES ? stage_names[stage] : NULL;
}

const char *metrics_state_name(int state)
{
    return state >= 0 && state < METRICS_NSTATES ? state_names[state] : NULL;
}

/* Parses a JSON number (or null = 0) at *p, not past end; -1 if none. */
static int parse_number(const char **p, const char *end, double *v)
{
    const char *s = *p;
    if (end - s >= 4 && memcmp(s, "null", 4) == 0) {
        *v = 0;
        *p = s + 4;
        return 0;
    }
    char num[64];
    size_t n = 0;
    while (s + n < end && n < sizeof num - 1 &&
           strchr("0123456789+-.eE", s[n]) != NULL && s[n] != '\0')
        n++;
    memcpy(num, s, n);
    num[n] = '\0';
    char *after;
    *v = strtod(num, &after);
    if (n == 0 || *after != '\0')
        return -1;
    *p = s + n;
    return 0;
}

/* Parses one "ms" object's body at *p (just after the '{') up to and
 * including its '}', adding known stage values into ms[]; -1 if
 * malformed.  end bounds the text. */
static int parse_ms_object(const char **p, const char *end,
                           double ms[METRICS_NSTAGES])
{
    const char *s = *p;
    while (s < end && *s != '}') {
        const char *key = s + 1, *q;
        if (*s != '"' || (q = memchr(key, '"', (size_t)(end - key))) == NULL ||
            q + 1 >= end || q[1] != ':')
            return -1;
        size_t klen = (size_t)(q - key);
        s = q + 2;
        double v;
        if (parse_number(&s, end, &v) < 0 || s >= end ||
            (*s != ',' && *s != '}'))
            return -1;
        for (int i = 0; i < METRICS_NSTAGES; i++)
            if (strlen(stage_names[i]) == klen &&
                memcmp(stage_names[i], key, klen) == 0)
                ms[i] += v;
        if (*s == ',')
            s++;
    }
    if (s >= end)
        return -1;
    *p = s + 1;
    return 0;
}

int metrics_add_report_ms(double ms[METRICS_NSTAGES], const char *text,
                          size_t len)
{
    static const char tag[] = "\"ms\":{";
    const size_t tlen = sizeof tag - 1;
    const char *p = text, *end = text + len;
    int found = 0;
    while ((p = memmem(p, (size_t)(end - p), tag, tlen)) != NULL) {
        p += tlen;
        if (parse_ms_object(&p, end, ms) < 0)
            return -1;
        found++;
    }
    return found;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if s does not start
 * one (overlong forms, surrogates and code points above U+10FFFF are
 * invalid). */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || s[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
        return 0;
    return n;
}

/* Writes v as a label value: backslash, double quote and newline escaped
 * as the format requires, bytes that are not UTF-8 replaced by '?' (label
 * values must be UTF-8; a spool path need not be). */
static void put_label_value(FILE *out, const char *v)
{
    const unsigned char *s = (const unsigned char *)v;
    while (*s != '\0') {
        size_t n = utf8_len(s);
        if (*s == '\\' || *s == '"')
            fprintf(out, "\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", out);
        else if (n == 0)
            fputc('?', out);
        else
            fwrite(s, 1, n, out);
        s += n == 0 ? 1 : n;
    }
}

/* The labels every sample carries, then an optional extra one. */
static void put_labels(FILE *out, const char *node, const char *spool,
                       const char *key, const char *value)
{
    fputs("{node=\"", out);
    put_label_value(out, node);
    fputc('"', out);
    if (spool != NULL) {
        fputs(",spool=\"", out);
        put_label_value(out, spool);
        fputc('"', out);
    }
    if (key != NULL) {
        fprintf(out, ",%s=\"", key);
        put_label_value(out, value);
        fputc('"', out);
    }
    fputc('}', out);
}

/* One metric family: its name, type and help text. */
struct family {
    const char *name, *type, *help;
};

static void put_head(FILE *out, const struct family *f)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help,
            f->name, f->type);
}

struct sample_ctx {
    FILE *out;
    const char *node, *spool;
};

static void put_u64(const struct sample_ctx *c, const char *name,
                    const char *key, const char *value, uint64_t v)
{
    fputs(name, c->out);
    put_labels(c->out, c->node, c->spool, key, value);
    fprintf(c->out, " %" PRIu64 "\n", v);
}

/* Nine significant digits: microseconds up to 1000 s, milliseconds up to
 * 11 days, and still monotonic for a growing counter; "%g" never prints a
 * locale decimal comma because the daemon stays in the C locale. */
static void put_double(const struct sample_ctx *c, const char *name,
                       const char *key, const char *value, double v)
{
    fputs(name, c->out);
    put_labels(c->out, c->node, c->spool, key, value);
    fprintf(c->out, " %.9g\n", v);
}

static const struct family fam_packs = { "spoold_packs_total", "counter",
    "Packs this node finished, by result (done = published, failed = moved "
    "to failed/)." };
static const struct family fam_pages = { "spoold_pages_total", "counter",
    "Pages of the packs this node finished, by result." };
static const struct family fam_attempts = { "spoold_attempts_failed_total",
    "counter", "Attempts that failed on this node (crash, limit, timeout, "
    "exec step, bad input)." };
static const struct family fam_stage = { "spoold_stage_seconds_total",
    "counter", "Seconds this node's workers spent in each pipeline stage." };
static const struct family fam_lost = { "spoold_claims_lost_total",
    "counter", "Claim renames this node lost to another node." };
static const struct family fam_reclaims = { "spoold_reclaims_total",
    "counter", "Claims of dead nodes this node released for retry." };
static const struct family fam_queue = { "spoold_queue_packs", "gauge",
    "Packs in the spool by state, as last listed by this node." };
static const struct family fam_oldest = {
    "spoold_oldest_incoming_age_seconds", "gauge",
    "Age of the oldest pack waiting in incoming/, in server time." };
static const struct family fam_heartbeat = { "spoold_heartbeat_age_seconds",
    "gauge", "Age of this node's heartbeat file, in server time." };
static const struct family fam_avail = { "spoold_spool_available", "gauge",
    "1 if the spool identity file checks out, 0 if the spool is gone." };
static const struct family fam_workers = { "spoold_workers", "gauge",
    "Worker slots of this node, busy and total." };

/* Refuses counters that cannot be right: negative or not finite. */
static int check_counters(const metrics *m, errbuf *e)
{
    for (int i = 0; i < METRICS_NSTAGES; i++) {
        double v = m->stage_seconds[i];
        if (!isfinite(v) || v < 0)
            return err_set(e, "stage_seconds[%s] = %g: a counter must be "
                           "finite and >= 0", stage_names[i], v);
    }
    return 0;
}

static void put_counters(const struct sample_ctx *c, const metrics *m)
{
    put_head(c->out, &fam_packs);
    put_u64(c, fam_packs.name, "result", "done", m->packs_done);
    put_u64(c, fam_packs.name, "result", "failed", m->packs_failed);
    put_head(c->out, &fam_pages);
    put_u64(c, fam_pages.name, "result", "done", m->pages_done);
    put_u64(c, fam_pages.name, "result", "failed", m->pages_failed);
    put_head(c->out, &fam_attempts);
    put_u64(c, fam_attempts.name, NULL, NULL, m->attempts_failed);
    put_head(c->out, &fam_stage);
    for (int i = 0; i < METRICS_NSTAGES; i++)
        put_double(c, fam_stage.name, "stage", stage_names[i],
                   m->stage_seconds[i]);
    put_head(c->out, &fam_lost);
    put_u64(c, fam_lost.name, NULL, NULL, m->claims_lost);
    put_head(c->out, &fam_reclaims);
    put_u64(c, fam_reclaims.name, NULL, NULL, m->reclaims);
}

/* Gauges: a negative (unknown) value gets no sample; NaN counts as
 * unknown too. */
static void put_gauges(const struct sample_ctx *c, const metrics *m)
{
    put_head(c->out, &fam_queue);
    for (int i = 0; i < METRICS_NSTATES; i++)
        if (m->queue[i] >= 0)
            put_u64(c, fam_queue.name, "state", state_names[i],
                    (uint64_t)m->queue[i]);
    put_head(c->out, &fam_oldest);
    if (m->oldest_incoming_age >= 0)
        put_double(c, fam_oldest.name, NULL, NULL, m->oldest_incoming_age);
    put_head(c->out, &fam_heartbeat);
    if (m->heartbeat_age >= 0)
        put_double(c, fam_heartbeat.name, NULL, NULL, m->heartbeat_age);
    put_head(c->out, &fam_avail);
    if (m->spool_available >= 0)
        put_u64(c, fam_avail.name, NULL, NULL, m->spool_available ? 1 : 0);
    put_head(c->out, &fam_workers);
    if (m->workers_busy >= 0)
        put_u64(c, fam_workers.name, "state", "busy",
                (uint64_t)m->workers_busy);
    if (m->workers_total >= 0)
        put_u64(c, fam_workers.name, "state", "total",
                (uint64_t)m->workers_total);
}

int metrics_format(FILE *out, const metrics *m, const char *node,
                   const char *spool, errbuf *e)
{
    if (node == NULL || node[0] == '\0')
        return err_set(e, "metrics: empty node name");
    if (check_counters(m, e) < 0)
        return -1;
    struct sample_ctx c = { out, node, spool };
    put_counters(&c, m);
    put_gauges(&c, m);
    if (ferror(out))
        return err_set(e, "metrics: formatting failed");
    return 0;
}

/* Writes all len bytes of buf to fd, retrying short writes and EINTR. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Makes "DIR/.BASE.XXXXXX" for path "DIR/BASE" (or ".BASE.XXXXXX" when
 * path has no directory).  The leading dot and the suffix keep the
 * temporary out of the collector's "*.prom" pattern. */
static char *temp_template(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t len = strlen(path) + sizeof "/..XXXXXX";
    char *t = malloc(len);
    if (t == NULL)
        return NULL;
    snprintf(t, len, "%.*s.%s.XXXXXX", (int)dirlen, path, path + dirlen);
    return t;
}

/* Writes len bytes into the open temporary fd and makes it durable and
 * readable; closes fd in every case. */
static int fill_temp(int fd, const char *buf, size_t len, const char *path,
                     errbuf *e)
{
    int rc = 0;
    if (fchmod(fd, 0644) < 0)
        rc = err_errno(e, errno, "%s: fchmod of temporary", path);
    else if (write_all(fd, buf, len) < 0)
        rc = err_errno(e, errno, "%s: writing temporary", path);
    else if (fsync(fd) < 0)
        rc = err_errno(e, errno, "%s: fsync of temporary", path);
    if (close(fd) < 0 && rc == 0)
        rc = err_errno(e, errno, "%s: closing temporary", path);
    return rc;
}

/* Replaces path with buf[0..len) via temp + fsync + rename. */
static int replace_file(const char *path, const char *buf, size_t len,
                        errbuf *e)
{
    char *tmp = temp_template(path);
    if (tmp == NULL)
        return err_errno(e, ENOMEM, "%s", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        int rc = err_errno(e, errno, "%s: creating temporary %s", path, tmp);
        free(tmp);
        return rc;
    }
    int rc = fill_temp(fd, buf, len, path, e);
    if (rc == 0 && rename(tmp, path) < 0)
        rc = err_errno(e, errno, "%s: renaming %s into place", path, tmp);
    if (rc < 0)
        unlink(tmp);            /* best effort; the error is already set */
    free(tmp);
    return rc;
}

int metrics_write(const char *path, const metrics *m, const char *node,
                  const char *spool, errbuf *e)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (mem == NULL)
        return err_errno(e, errno, "%s: open_memstream", path);
    int rc = metrics_format(mem, m, node, spool, e);
    if (fclose(mem) != 0 && rc == 0)
        rc = err_errno(e, errno, "%s: formatting", path);
    if (rc < 0)
        err_prefix(e, "%s", path);
    else
        rc = replace_file(path, buf, len, e);
    free(buf);
    return rc;
}
