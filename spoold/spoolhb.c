/*
 * spoolhb.c — heartbeats and liveness: the heartbeat text (format/parse),
 * writing nodes/NODE so that its mtime is the server's "now", listing the
 * nodes, judging them alive or dead in server time, and a node's own
 * pages-per-minute rate.
 */
#include "spoolint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HB_MAGIC "spoold-heartbeat 1"

static bool has_newline(const char *s)
{
    return strchr(s, '\n') != NULL || strchr(s, '\r') != NULL;
}

int spool_heartbeat_format(const struct spool_heartbeat *hb, char *buf,
                           size_t cap, errbuf *e)
{
    if (has_newline(hb->node) || has_newline(hb->host) ||
        has_newline(hb->version) || has_newline(hb->state) ||
        has_newline(hb->note))
        return err_set(e, "heartbeat field contains a newline");
    int n = snprintf(buf, cap,
        HB_MAGIC "\nnode=%s\nhost=%s\npid=%ld\nversion=%s\nstate=%s\n"
        "note=%s\nworkers=%d\nbusy=%d\nheartbeat=%g\nlease=%g\n"
        "local_time=%" PRId64 "\nuptime=%" PRId64 "\npacks_done=%" PRIu64
        "\npacks_failed=%" PRIu64 "\npages_done=%" PRIu64 "\nbytes_done=%"
        PRIu64 "\npages_per_min=%.1f\nrate_window=%d\n",
        hb->node, hb->host, hb->pid, hb->version, hb->state, hb->note,
        hb->workers, hb->busy, hb->heartbeat_s, hb->lease_s, hb->local_time,
        hb->uptime_s, hb->packs_done, hb->packs_failed, hb->pages_done,
        hb->bytes_done, hb->pages_per_min, hb->rate_window_s);
    if (n < 0 || (size_t)n >= cap)
        return err_set(e, "heartbeat text longer than %zu bytes", cap);
    return n;
}

static int parse_i64(const char *v, int64_t *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end)
        return -1;
    *out = x;
    return 0;
}

static int parse_u64(const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*v == '-')
        return -1;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end)
        return -1;
    *out = x;
    return 0;
}

static int parse_dbl(const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || x != x)
        return -1;
    *out = x;
    return 0;
}

static int parse_int(const char *v, int *out)
{
    int64_t x;
    if (parse_i64(v, &x) < 0 || x < -2147483647 || x > 2147483647)
        return -1;
    *out = (int)x;
    return 0;
}

/* Stores one key=value into hb; unknown keys are ignored. */
static int hb_field(struct spool_heartbeat *hb, const char *k, const char *v)
{
    struct { const char *key; char *dst; size_t cap; } strs[] = {
        {"node", hb->node, sizeof hb->node}, {"host", hb->host, sizeof hb->host},
        {"version", hb->version, sizeof hb->version},
        {"state", hb->state, sizeof hb->state}, {"note", hb->note, sizeof hb->note},
    };
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        if (strcmp(k, strs[i].key) == 0) {
            snprintf(strs[i].dst, strs[i].cap, "%s", v);
            return 0;
        }
    int64_t pid;
    if (strcmp(k, "pid") == 0)
        return parse_i64(v, &pid) < 0 ? -1 : (hb->pid = (long)pid, 0);
    if (strcmp(k, "workers") == 0) return parse_int(v, &hb->workers);
    if (strcmp(k, "busy") == 0) return parse_int(v, &hb->busy);
    if (strcmp(k, "rate_window") == 0) return parse_int(v, &hb->rate_window_s);
    if (strcmp(k, "heartbeat") == 0) return parse_dbl(v, &hb->heartbeat_s);
    if (strcmp(k, "lease") == 0) return parse_dbl(v, &hb->lease_s);
    if (strcmp(k, "pages_per_min") == 0) return parse_dbl(v, &hb->pages_per_min);
    if (strcmp(k, "local_time") == 0) return parse_i64(v, &hb->local_time);
    if (strcmp(k, "uptime") == 0) return parse_i64(v, &hb->uptime_s);
    if (strcmp(k, "packs_done") == 0) return parse_u64(v, &hb->packs_done);
    if (strcmp(k, "packs_failed") == 0) return parse_u64(v, &hb->packs_failed);
    if (strcmp(k, "pages_done") == 0) return parse_u64(v, &hb->pages_done);
    if (strcmp(k, "bytes_done") == 0) return parse_u64(v, &hb->bytes_done);
    return 0;
}

int spool_heartbeat_parse(const char *text, size_t len,
                          struct spool_heartbeat *hb, errbuf *e)
{
    memset(hb, 0, sizeof *hb);
    size_t m = strlen(HB_MAGIC);
    if (len < m || memcmp(text, HB_MAGIC, m) != 0 ||
        (len > m && text[m] != '\n'))
        return err_set(e, "not a heartbeat (first line is not \"" HB_MAGIC "\")");
    size_t pos = m;
    int lineno = 1;
    while (pos < len) {
        if (text[pos] == '\n') {
            pos++;
            lineno++;
            continue;
        }
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        char line[512];
        size_t ll = end - pos < sizeof line - 1 ? end - pos : sizeof line - 1;
        memcpy(line, text + pos, ll);
        line[ll] = '\0';
        char *eq = strchr(line, '=');
        if (eq == NULL || memchr(line, '\0', ll) != NULL)
            return err_set(e, "heartbeat line %d: not key=value", lineno);
        *eq = '\0';
        if (hb_field(hb, line, eq + 1) < 0)
            return err_set(e, "heartbeat line %d: bad value for %s", lineno, line);
        pos = end;
    }
    return 0;
}

int spool_heartbeat_write(struct spool *sp, const struct spool_heartbeat *hb,
                          spool_ns *server_now, errbuf *e)
{
    if (sp_need_node(sp, e) < 0)
        return -1;
    char text[SPOOL_HEARTBEAT_MAX];
    int n = spool_heartbeat_format(hb, text, sizeof text, e);
    if (n < 0)
        return -1;
    char tmpname[SPOOL_NODE_MAX + 8], tmp[SP_PATH_MAX], final[SP_PATH_MAX];
    snprintf(tmpname, sizeof tmpname, ".%s.tmp", sp->node);
    if (sp_path(sp, "nodes", tmpname, tmp, e) < 0 ||
        sp_path(sp, "nodes", sp->node, final, e) < 0)
        return -1;
    if (sp_write_replace(sp, tmp, final, text, (size_t)n, e) < 0)
        return -1;
    struct stat st;
    if (sp_lstat(sp, final, &st) < 0)
        return err_errno(e, errno, "lstat %s", final);
    *server_now = spool_ns_mtime(&st);
    return 0;
}

int spool_heartbeat_remove(struct spool *sp, errbuf *e)
{
    char path[SP_PATH_MAX];
    if (sp_need_node(sp, e) < 0 || sp_path(sp, "nodes", sp->node, path, e) < 0)
        return -1;
    if (sp->ops->unlink(sp->ctx, path) < 0 && errno != ENOENT)
        return err_errno(e, errno, "unlink %s", path);
    return 0;
}

int spool_server_now(struct spool *sp, spool_ns *server_now, errbuf *e)
{
    char host[64] = "host", name[128], path[SP_PATH_MAX];
    if (gethostname(host, sizeof host - 1) < 0)
        snprintf(host, sizeof host, "host");
    host[sizeof host - 1] = '\0';
    for (char *p = host; *p; p++)
        if (*p == '.' || *p == '/')
            *p = '_';
    snprintf(name, sizeof name, ".ctl-%s-%ld.now", host, (long)getpid());
    if (sp_path(sp, "tmp", name, path, e) < 0)
        return -1;
    int fd = sp->ops->open(sp->ctx, path, O_WRONLY | O_CREAT | O_TRUNC |
                           O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0666);
    if (fd < 0)
        return err_errno(e, errno, "create %s", path);
    int rc = 0;
    if (sp_write_all(sp, fd, "now\n", 4) < 0)
        rc = err_errno(e, errno, "write %s", path);
    if (sp->ops->close(sp->ctx, fd) < 0 && rc == 0)
        rc = err_errno(e, errno, "close %s", path);
    struct stat st;
    if (rc == 0 && sp_lstat(sp, path, &st) < 0)
        rc = err_errno(e, errno, "lstat %s", path);
    if (rc == 0)
        *server_now = spool_ns_mtime(&st);
    if (sp->ops->unlink(sp->ctx, path) < 0 && rc == 0)
        rc = err_errno(e, errno, "unlink %s", path);
    return rc;
}

/* ------------------------------------------------------------ liveness */

bool spool_node_dead(bool has_hb, spool_ns hb_mtime, spool_ns now,
                     spool_ns lease, spool_ns *age_out)
{
    if (!has_hb) {
        if (age_out)
            *age_out = -1;
        return true;
    }
    spool_ns age = now - hb_mtime;
    if (age_out)
        *age_out = age;
    return age > lease;
}

static int read_node(struct spool *sp, const char *name,
                     struct spool_node_info *ni, errbuf *e)
{
    memset(ni, 0, sizeof *ni);
    snprintf(ni->name, sizeof ni->name, "%s", name);
    char path[SP_PATH_MAX];
    if (sp_path(sp, "nodes", name, path, e) < 0)
        return -1;
    struct stat st;
    if (sp_lstat(sp, path, &st) < 0)
        return errno == ENOENT ? 1 : err_errno(e, errno, "lstat %s", path);
    ni->mtime = spool_ns_mtime(&st);
    char *text;
    size_t len;
    errbuf e2;
    if (sp_read_file(sp, path, SPOOL_HEARTBEAT_MAX, &text, &len, &e2) < 0) {
        if (errno == ENOENT)
            return 1;               /* removed between list and read */
        snprintf(ni->why, sizeof ni->why, "%s", e2.msg);
        return 0;
    }
    if (spool_heartbeat_parse(text, len, &ni->hb, &e2) < 0)
        snprintf(ni->why, sizeof ni->why, "%s", e2.msg);
    else
        ni->hb_ok = true;
    free(text);
    return 0;
}

int spool_list_nodes(struct spool *sp, struct spool_nodes *out, errbuf *e)
{
    memset(out, 0, sizeof *out);
    char dir[SP_PATH_MAX];
    char **names;
    size_t n;
    if (sp_path(sp, "nodes", NULL, dir, e) < 0 ||
        sp_listdir(sp, dir, &names, &n, e) < 0)
        return -1;
    out->v = calloc(n ? n : 1, sizeof *out->v);
    if (out->v == NULL) {
        sp_free_names(names, n);
        return err_set(e, "out of memory");
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!spool_node_name_ok(names[i]))
            continue;
        int r = read_node(sp, names[i], &out->v[out->n], e);
        if (r < 0)
            rc = -1;
        else if (r == 0)
            out->n++;
    }
    sp_free_names(names, n);
    if (rc < 0)
        spool_nodes_free(out);
    return rc;
}

void spool_nodes_free(struct spool_nodes *nodes)
{
    free(nodes->v);
    nodes->v = NULL;
    nodes->n = 0;
}

const struct spool_node_info *spool_nodes_find(const struct spool_nodes *nodes,
                                               const char *name)
{
    for (size_t i = 0; i < nodes->n; i++)
        if (strcmp(nodes->v[i].name, name) == 0)
            return &nodes->v[i];
    return NULL;
}

/* ---------------------------------------------------------------- rate */

void spool_rate_add(struct spool_rate *r, double mono_s, uint64_t pages_done)
{
    int i = (r->head + r->n) % SPOOL_RATE_SAMPLES;
    if (r->n == SPOOL_RATE_SAMPLES) {
        r->head = (r->head + 1) % SPOOL_RATE_SAMPLES;
        i = (r->head + r->n - 1) % SPOOL_RATE_SAMPLES;
    } else {
        r->n++;
    }
    r->t[i] = mono_s;
    r->pages[i] = pages_done;
    double window = r->window_s > 0 ? r->window_s : 300;
    /* drop samples older than the window, but keep two for a rate */
    while (r->n > 2 && mono_s - r->t[(r->head + 1) % SPOOL_RATE_SAMPLES] >= window) {
        r->head = (r->head + 1) % SPOOL_RATE_SAMPLES;
        r->n--;
    }
}

/*
 * spool_rate_per_min — pages per minute between the oldest and the newest
 * sample in the window.  0 with fewer than two samples or no time between.
 */
double spool_rate_per_min(const struct spool_rate *r)
{
    if (r->n < 2)
        return 0;
    int first = r->head, last = (r->head + r->n - 1) % SPOOL_RATE_SAMPLES;
    double dt = r->t[last] - r->t[first];
    if (dt <= 0 || r->pages[last] < r->pages[first])
        return 0;
    return (double)(r->pages[last] - r->pages[first]) * 60.0 / dt;
}
