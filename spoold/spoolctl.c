/*
 * spoolctl.c — the operator's command line for a spoold spool: init,
 * status (text or JSON), watch, submit, requeue, retry-failed.  All the
 * protocol lives in libspool (spool.h); this file parses arguments and
 * formats output.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"

#if defined(__has_include)
#if __has_include("config.h")
#include "config.h"
#define HAVE_SPOOLD_CONFIG 1
#endif
#endif

#define DEFAULT_CONF "/etc/spoold.conf"

struct ctl {
    const char *spool;      /* -s */
    const char *conf;       /* -c */
    char *conf_spool;       /* from the config file */
    double settle, lease;   /* from the config file, 0 = defaults */
};

static void usage(FILE *fp)
{
    fputs("usage: spoolctl [-s SPOOL | -c FILE] COMMAND [ARGS]\n"
          "  init [--force] [--group-writable] [--output DIR] DIR\n"
          "  status [--json]\n"
          "  watch [-n SECONDS] [--count N]\n"
          "  submit [--name NAME] FILE|DIR...\n"
          "  requeue PACK...\n"
          "  retry-failed\n"
          "see spoolctl(1)\n", fp);
}

/* ------------------------------------------------------------ printing */

/* Length of a valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static int utf8_len(const unsigned char *s, size_t n)
{
    int len = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3
            : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    if (s[0] >= 0xf5 || len == 0 || (size_t)len > n)
        return 0;
    for (int i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

/* Writes a file name for humans (json false) or as the inside of a JSON
 * string: valid UTF-8 as is, control bytes and invalid bytes escaped
 * (\n, \t, \xHH; in JSON "\\xHH" text for bytes that are not UTF-8). */
static void put_name(FILE *fp, const char *name, bool json)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t n = strlen(name);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '\\' || (json && c == '"'))
            fprintf(fp, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", fp);
        else if (c == '\t')
            fputs("\\t", fp);
        else if (c < 0x20 || c == 0x7f)
            fprintf(fp, json ? "\\u%04x" : "\\x%02x", c);
        else if (c < 0x80)
            fputc(c, fp);
        else {
            int len = utf8_len(s + i, n - i);
            if (len == 0) {
                fprintf(fp, json ? "\\\\x%02x" : "\\x%02x", c);
            } else {
                fwrite(s + i, 1, (size_t)len, fp);
                i += (size_t)len - 1;
            }
        }
    }
}

static void put_duration(FILE *fp, double s)
{
    if (s < 0)
        fputs("?", fp);
    else if (s < 120)
        fprintf(fp, "%.0fs", s);
    else if (s < 7200)
        fprintf(fp, "%dm %02ds", (int)(s / 60), (int)s % 60);
    else if (s < 172800)
        fprintf(fp, "%dh %02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else
        fprintf(fp, "%dd %02dh", (int)(s / 86400), (int)(s / 3600) % 24);
}

static double secs(spool_ns t)
{
    return (double)t / 1e9;
}

static void put_bytes(FILE *fp, uint64_t b)
{
    if (b < 10000)
        fprintf(fp, "%" PRIu64 " B", b);
    else if (b < 10000000)
        fprintf(fp, "%.1f kB", (double)b / 1e3);
    else if (b < UINT64_C(10000000000))
        fprintf(fp, "%.1f MB", (double)b / 1e6);
    else
        fprintf(fp, "%.1f GB", (double)b / 1e9);
}

/* ---------------------------------------------------------- status text */

static void text_nodes(FILE *fp, const struct spool_status *st)
{
    fprintf(fp, "nodes:%s\n", st->n_nodes ? "" : " none");
    for (size_t i = 0; i < st->n_nodes; i++) {
        const struct spool_status_node *n = &st->nodes[i];
        const struct spool_heartbeat *hb = &n->info.hb;
        fprintf(fp, "  %-16s %-4s ", n->info.name, n->dead ? "DEAD" : "live");
        if (!n->has_hb)
            fputs("no heartbeat", fp);
        else {
            fputs("heartbeat ", fp);
            put_duration(fp, n->age < 0 ? 0 : secs(n->age));
            fputs(" ago", fp);
            if (n->dead)
                fprintf(fp, " (lease %gs)", n->lease_s);
        }
        fprintf(fp, ", %zu claim%s", n->claims, n->claims == 1 ? "" : "s");
        if (n->has_hb && n->info.hb_ok)
            fprintf(fp, ", %d/%d busy, %" PRIu64 " pages, %.0f pages/min, %s%s%s",
                    hb->busy, hb->workers, hb->pages_done, hb->pages_per_min,
                    hb->state[0] ? hb->state : "?", hb->note[0] ? ": " : "",
                    hb->note);
        else if (n->has_hb)
            fprintf(fp, ", unreadable heartbeat: %s", n->info.why);
        fputc('\n', fp);
    }
}

static void text_status(FILE *fp, struct spool *sp, const struct spool_status *st)
{
    fprintf(fp, "spool %s (id %.8s)%s\n", spool_root(sp), spool_id(sp),
            st->now_ok ? "" : "  [read-only: times from the newest heartbeat]");
    fprintf(fp, "packs: incoming %zu (%zu quiet), working %zu, waiting for "
            "retry %zu, done %zu, failed %zu", st->n_incoming, st->n_quiet,
            st->n_working, st->n_waiting, st->n_done, st->n_failed);
    if (st->n_other)
        fprintf(fp, ", %zu unknown name%s in claimed/", st->n_other,
                st->n_other == 1 ? "" : "s");
    fputc('\n', fp);
    if (st->oldest) {
        fputs("oldest waiting: ", fp);
        put_name(fp, st->oldest->name, false);
        fputs(", ", fp);
        put_duration(fp, secs(st->oldest->age));
        fputc('\n', fp);
    }
    fprintf(fp, "backlog: ~%.0f pages (", st->backlog_pages);
    put_bytes(fp, st->backlog_bytes);
    fprintf(fp, "), %.0f pages/min, ETA ", st->pages_per_min);
    if (st->eta_s < 0)
        fputs("unknown (no live node reports a rate)", fp);
    else
        put_duration(fp, st->eta_s);
    fputc('\n', fp);
    text_nodes(fp, st);
    if (st->n_working) {
        fputs("working:\n", fp);
        for (size_t i = 0; i < st->n_working; i++) {
            fputs("  ", fp);
            put_name(fp, st->working[i].name, false);
            fprintf(fp, "  on %s, attempt %d\n", st->working[i].node,
                    st->working[i].attempt);
        }
    }
    if (st->n_failed) {
        fputs("failed:\n", fp);
        for (size_t i = 0; i < st->n_failed; i++) {
            fputs("  ", fp);
            put_name(fp, st->failed[i].name, false);
            fputs(": ", fp);
            put_name(fp, st->failed[i].reason ? st->failed[i].reason
                                              : "(no reason recorded)", false);
            fputc('\n', fp);
        }
    }
}

/* ---------------------------------------------------------- status JSON */

static void json_str(FILE *fp, const char *key, const char *val)
{
    fprintf(fp, "\"%s\":\"", key);
    put_name(fp, val ? val : "", true);
    fputc('"', fp);
}

static void json_packs(FILE *fp, const char *key,
                       const struct spool_status_pack *v, size_t n)
{
    fprintf(fp, ",\"%s\":[", key);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ",{" : "{", fp);
        json_str(fp, "name", v[i].name);
        fprintf(fp, ",\"bytes\":%" PRIu64 ",\"age\":%.3f,\"dir\":%s",
                v[i].bytes, secs(v[i].age), v[i].is_dir ? "true" : "false");
        if (v[i].attempt || v[i].node[0])
            fprintf(fp, ",\"node\":\"%s\",\"attempt\":%d", v[i].node, v[i].attempt);
        if (v[i].reason) {
            fputc(',', fp);
            json_str(fp, "reason", v[i].reason);
        }
        fputc('}', fp);
    }
    fputc(']', fp);
}

static void json_status(FILE *fp, struct spool *sp, const struct spool_status *st)
{
    fputc('{', fp);
    json_str(fp, "spool", spool_root(sp));
    fprintf(fp, ",\"id\":\"%s\",\"server_time\":%.3f,\"server_time_ok\":%s",
            spool_id(sp), secs(st->now), st->now_ok ? "true" : "false");
    fprintf(fp, ",\"counts\":{\"incoming\":%zu,\"quiet\":%zu,\"working\":%zu,"
            "\"waiting\":%zu,\"done\":%zu,\"failed\":%zu,\"other\":%zu}",
            st->n_incoming, st->n_quiet, st->n_working, st->n_waiting,
            st->n_done, st->n_failed, st->n_other);
    fprintf(fp, ",\"backlog\":{\"bytes\":%" PRIu64 ",\"pages\":%.0f,"
            "\"bytes_per_page\":%.0f,\"pages_per_min\":%.1f,\"eta\":%.0f}",
            st->backlog_bytes, st->backlog_pages, st->bytes_per_page,
            st->pages_per_min, st->eta_s);
    fputs(",\"oldest\":", fp);
    if (st->oldest) {
        fputc('{', fp);
        json_str(fp, "name", st->oldest->name);
        fprintf(fp, ",\"age\":%.3f}", secs(st->oldest->age));
    } else
        fputs("null", fp);
    fputs(",\"nodes\":[", fp);
    for (size_t i = 0; i < st->n_nodes; i++) {
        const struct spool_status_node *n = &st->nodes[i];
        const struct spool_heartbeat *hb = &n->info.hb;
        fprintf(fp, "%s{\"name\":\"%s\",\"live\":%s,\"heartbeat\":%s,"
                "\"age\":%.3f,\"lease\":%g,\"claims\":%zu", i ? "," : "",
                n->info.name, n->dead ? "false" : "true",
                n->has_hb ? "true" : "false", n->age < 0 ? -1.0 : secs(n->age),
                n->lease_s, n->claims);
        if (n->info.hb_ok) {
            fputc(',', fp);
            json_str(fp, "host", hb->host);
            fputc(',', fp);
            json_str(fp, "state", hb->state);
            fputc(',', fp);
            json_str(fp, "note", hb->note);
            fprintf(fp, ",\"pid\":%ld,\"workers\":%d,\"busy\":%d,\"packs_done\":%"
                    PRIu64 ",\"packs_failed\":%" PRIu64 ",\"pages_done\":%" PRIu64
                    ",\"pages_per_min\":%.1f", hb->pid, hb->workers, hb->busy,
                    hb->packs_done, hb->packs_failed, hb->pages_done,
                    hb->pages_per_min);
        }
        fputc('}', fp);
    }
    fputc(']', fp);
    json_packs(fp, "incoming", st->incoming, st->n_incoming);
    json_packs(fp, "working", st->working, st->n_working);
    json_packs(fp, "waiting", st->waiting, st->n_waiting);
    json_packs(fp, "failed", st->failed, st->n_failed);
    fputs("}\n", fp);
}

/* ------------------------------------------------------------ commands */

/* Reads the config file for the spool path (and settle/lease) when -s is
 * not given. */
static int load_conf(struct ctl *c)
{
#ifdef HAVE_SPOOLD_CONFIG
    struct spoold_conf conf;
    errbuf e;
    conf_defaults(&conf);
    if (conf_load_file(&conf, c->conf, &e) < 0) {
        fprintf(stderr, "spoolctl: %s\n", e.msg);
        conf_free(&conf);
        return -1;
    }
    if (conf.spool)
        c->conf_spool = strdup(conf.spool);
    c->settle = conf.settle;
    c->lease = conf.lease;
    conf_free(&conf);
    if (c->conf_spool == NULL) {
        fprintf(stderr, "spoolctl: %s does not set spool\n", c->conf);
        return -1;
    }
    return 0;
#else
    fprintf(stderr, "spoolctl: this build cannot read %s yet; give the spool "
            "with -s DIR\n", c->conf);
    return -1;
#endif
}

static struct spool *open_spool(struct ctl *c)
{
    if (c->spool == NULL) {
        if (c->conf == NULL)
            c->conf = DEFAULT_CONF;
        if (load_conf(c) < 0)
            return NULL;
        c->spool = c->conf_spool;
    }
    struct spool *sp;
    errbuf e;
    if (spool_open(&sp, c->spool, NULL, NULL, NULL, &e) < 0) {
        fprintf(stderr, "spoolctl: %s: %s\n", c->spool, e.msg);
        return NULL;
    }
    return sp;
}

static int cmd_init(struct ctl *c, int argc, char **argv)
{
    static const struct option lo[] = {
        { "force", no_argument, NULL, 'f' },
        { "group-writable", no_argument, NULL, 'g' },
        { "output", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    struct spool_init_opts o = {0};
    int ch;
    while ((ch = getopt_long(argc, argv, "fgo:", lo, NULL)) != -1) {
        if (ch == 'f') o.force = true;
        else if (ch == 'g') o.group_writable = true;
        else if (ch == 'o') o.out_dir = optarg;
        else return 2;
    }
    const char *dir = optind < argc ? argv[optind] : c->spool;
    if (dir == NULL || optind + 1 < argc) {
        usage(stderr);
        return 2;
    }
    errbuf e;
    if (spool_init(dir, &o, NULL, NULL, &e) < 0) {
        fprintf(stderr, "spoolctl: init %s: %s\n", dir, e.msg);
        return 1;
    }
    struct spool *sp;
    if (spool_open(&sp, dir, NULL, NULL, NULL, &e) < 0) {
        fprintf(stderr, "spoolctl: %s: %s\n", dir, e.msg);
        return 1;
    }
    printf("spool %s ready (id %s)\n", dir, spool_id(sp));
    spool_close(sp);
    return 0;
}

static int read_status(struct ctl *c, struct spool *sp, struct spool_status *st)
{
    struct spool_status_opts o = { .settle_s = c->settle, .lease_s = c->lease };
    errbuf e;
    if (spool_status_read(sp, &o, st, &e) < 0) {
        fprintf(stderr, "spoolctl: status of %s: %s\n", spool_root(sp), e.msg);
        return -1;
    }
    return 0;
}

static int cmd_status(struct ctl *c, int argc, char **argv)
{
    static const struct option lo[] = {
        { "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 },
    };
    bool json = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "j", lo, NULL)) != -1) {
        if (ch == 'j') json = true;
        else return 2;
    }
    struct spool *sp = open_spool(c);
    if (sp == NULL)
        return 1;
    struct spool_status st;
    int rc = read_status(c, sp, &st) < 0 ? 1 : 0;
    if (rc == 0) {
        if (json)
            json_status(stdout, sp, &st);
        else
            text_status(stdout, sp, &st);
        spool_status_free(&st);
    }
    spool_close(sp);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "spoolctl: writing the status: %s\n", strerror(errno));
        rc = 1;
    }
    return rc;
}

/* Progress bar of done against done + everything still to do. */
static void progress(FILE *fp, const struct spool_status *st)
{
    size_t todo = st->n_incoming + st->n_waiting + st->n_working;
    size_t all = todo + st->n_done + st->n_failed;
    double frac = all ? (double)(st->n_done + st->n_failed) / (double)all : 1;
    int width = 40, fill = (int)(frac * width + 0.5);
    fputc('[', fp);
    for (int i = 0; i < width; i++)
        fputc(i < fill ? '#' : '.', fp);
    fprintf(fp, "] %3.0f%%  %zu of %zu packs finished\n", frac * 100,
            st->n_done + st->n_failed, all);
}

static int cmd_watch(struct ctl *c, int argc, char **argv)
{
    static const struct option lo[] = {
        { "interval", required_argument, NULL, 'n' },
        { "count", required_argument, NULL, 'k' }, { NULL, 0, NULL, 0 },
    };
    double interval = 2;
    long count = -1;
    int ch;
    while ((ch = getopt_long(argc, argv, "n:", lo, NULL)) != -1) {
        char *end;
        if (ch == 'n' && ((interval = strtod(optarg, &end)) < 0.1 || *end)) {
            fprintf(stderr, "spoolctl: watch: bad interval %s\n", optarg);
            return 2;
        } else if (ch == 'k' && ((count = strtol(optarg, &end, 10)) < 1 || *end)) {
            fprintf(stderr, "spoolctl: watch: bad count %s\n", optarg);
            return 2;
        } else if (ch != 'n' && ch != 'k')
            return 2;
    }
    struct spool *sp = open_spool(c);
    if (sp == NULL)
        return 1;
    bool tty = isatty(STDOUT_FILENO);
    int rc = 0;
    for (long i = 0; count < 0 || i < count; i++) {
        struct spool_status st;
        if (i > 0) {
            struct timespec ts = { (time_t)interval,
                                   (long)((interval - (time_t)interval) * 1e9) };
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        }
        if (read_status(c, sp, &st) < 0) {
            rc = 1;                 /* keep watching: the mount may return */
            continue;
        }
        if (tty)
            fputs("\033[H\033[J", stdout);
        else if (i > 0)
            fputc('\n', stdout);
        progress(stdout, &st);
        text_status(stdout, sp, &st);
        spool_status_free(&st);
        if (fflush(stdout) != 0) {
            rc = 1;
            break;
        }
    }
    spool_close(sp);
    return rc;
}

static int cmd_submit(struct ctl *c, int argc, char **argv)
{
    static const struct option lo[] = {
        { "name", required_argument, NULL, 'N' }, { NULL, 0, NULL, 0 },
    };
    const char *name = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "N:", lo, NULL)) != -1) {
        if (ch == 'N') name = optarg;
        else return 2;
    }
    if (optind >= argc || (name && argc - optind > 1)) {
        fprintf(stderr, "spoolctl: submit: give FILE... (--name only with "
                "one file)\n");
        return 2;
    }
    struct spool *sp = open_spool(c);
    if (sp == NULL)
        return 1;
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        errbuf e;
        if (spool_submit(sp, argv[i], name, &e) < 0) {
            fprintf(stderr, "spoolctl: submit %s: %s\n", argv[i], e.msg);
            rc = 1;
        }
    }
    spool_close(sp);
    return rc;
}

/* Requeues PACK from failed/, else from done/.  0, or 1 with a message. */
static int requeue_one(struct spool *sp, const char *pack)
{
    errbuf e;
    enum spool_outcome oc = spool_requeue(sp, "failed", pack, &e);
    if (oc == SPOOL_LOST)
        oc = spool_requeue(sp, "done", pack, &e);
    if (oc == SPOOL_WON)
        return 0;
    fputs("spoolctl: requeue ", stderr);
    put_name(stderr, pack, false);
    fprintf(stderr, ": %s\n", oc == SPOOL_LOST ? "not in failed/ or done/" : e.msg);
    return 1;
}

static int cmd_requeue(struct ctl *c, int argc, char **argv, bool all_failed)
{
    if ((all_failed && argc > 1) || (!all_failed && argc < 2)) {
        usage(stderr);
        return 2;
    }
    struct spool *sp = open_spool(c);
    if (sp == NULL)
        return 1;
    int rc = 0;
    if (!all_failed) {
        for (int i = 1; i < argc; i++)
            rc |= requeue_one(sp, argv[i]);
    } else {
        struct spool_status st;
        if (read_status(c, sp, &st) < 0)
            rc = 1;
        else {
            for (size_t i = 0; i < st.n_failed; i++)
                rc |= requeue_one(sp, st.failed[i].name);
            printf("requeued %zu failed pack%s\n", st.n_failed,
                   st.n_failed == 1 ? "" : "s");
            spool_status_free(&st);
        }
    }
    spool_close(sp);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "spool", required_argument, NULL, 's' },
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
    };
    struct ctl c = {0};
    int ch;
    while ((ch = getopt_long(argc, argv, "+s:c:hV", lo, NULL)) != -1) {
        if (ch == 's') c.spool = optarg;
        else if (ch == 'c') c.conf = optarg;
        else if (ch == 'h') { usage(stdout); return 0; }
        else if (ch == 'V') { puts("spoolctl " SPOOLD_VERSION); return 0; }
        else { usage(stderr); return 2; }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[optind];
    argc -= optind;
    argv += optind;
    optind = 0;   /* glibc: full re-initialisation for the command */
    int rc;
    if (strcmp(cmd, "init") == 0) rc = cmd_init(&c, argc, argv);
    else if (strcmp(cmd, "status") == 0) rc = cmd_status(&c, argc, argv);
    else if (strcmp(cmd, "watch") == 0) rc = cmd_watch(&c, argc, argv);
    else if (strcmp(cmd, "submit") == 0) rc = cmd_submit(&c, argc, argv);
    else if (strcmp(cmd, "requeue") == 0) rc = cmd_requeue(&c, argc, argv, false);
    else if (strcmp(cmd, "retry-failed") == 0) rc = cmd_requeue(&c, argc, argv, true);
    else {
        fprintf(stderr, "spoolctl: unknown command \"%s\"\n", cmd);
        usage(stderr);
        rc = 2;
    }
    free(c.conf_spool);
    return rc;
}
