/*
 * spool.c — the spool handle: opening a spool by its identity file,
 * checking on every poll that the same spool is still mounted, creating
 * the layout (spoolctl init), and building paths inside the spool.
 */
#include "spoolint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static const char *const spool_dirs[] = {
    "incoming", "claimed", "done", "failed", "nodes", "tmp",
};

#define ID_MAGIC "spoold-spool 1 "

/* Checks .spool-id text and copies the 32 hex digits into id (33 bytes). */
static int parse_id(const char *text, char *id, errbuf *e)
{
    size_t m = strlen(ID_MAGIC);
    if (strncmp(text, ID_MAGIC, m) != 0)
        return err_set(e, "not a spool identity (first word is not \"spoold-spool 1\")");
    for (int i = 0; i < 32; i++) {
        char c = text[m + i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return err_set(e, "malformed spool id");
        id[i] = c;
    }
    id[32] = '\0';
    if (text[m + 32] != ' ' && text[m + 32] != '\n')
        return err_set(e, "malformed spool id");
    return 0;
}

static int read_identity(struct spool *sp, char *text, size_t cap, char *id,
                         errbuf *e)
{
    char path[SP_PATH_MAX];
    if (sp_path(sp, NULL, ".spool-id", path, e) < 0)
        return -1;
    char *buf;
    if (sp_read_file(sp, path, cap - 1, &buf, NULL, e) < 0)
        return -1;
    int rc = parse_id(buf, id, e);
    if (rc < 0)
        err_prefix(e, "%s", path);
    else
        snprintf(text, cap, "%s", buf);
    free(buf);
    return rc;
}

int spool_open(struct spool **out, const char *root, const char *node,
               const struct spool_ops *ops, void *ops_ctx, errbuf *e)
{
    *out = NULL;
    if (node && !spool_node_name_ok(node))
        return err_set(e, "invalid node name \"%s\" (want [A-Za-z0-9._-], 1-64 "
                       "characters, not starting with '.')", node);
    if (strlen(root) + 64 >= SP_PATH_MAX)
        return err_set(e, "spool path too long");
    struct spool *sp = calloc(1, sizeof *sp);
    if (sp == NULL || (sp->root = strdup(root)) == NULL) {
        free(sp);
        return err_set(e, "out of memory");
    }
    /* a trailing slash would double in every path */
    size_t n = strlen(sp->root);
    while (n > 1 && sp->root[n - 1] == '/')
        sp->root[--n] = '\0';
    snprintf(sp->node, sizeof sp->node, "%s", node ? node : "");
    sp->ops = ops ? ops : &spool_sys_ops;
    sp->ctx = ops_ctx;
    if (read_identity(sp, sp->idtext, sizeof sp->idtext, sp->id, e) < 0) {
        err_prefix(e, "not a spool (run spoolctl init?)");
        spool_close(sp);
        return -1;
    }
    *out = sp;
    return 0;
}

void spool_close(struct spool *sp)
{
    if (sp == NULL)
        return;
    free(sp->root);
    free(sp);
}

const char *spool_root(const struct spool *sp) { return sp->root; }
const char *spool_node(const struct spool *sp) { return sp->node; }
const char *spool_id(const struct spool *sp) { return sp->id; }

int spool_check_identity(struct spool *sp, errbuf *e)
{
    char text[sizeof sp->idtext], id[33];
    if (read_identity(sp, text, sizeof text, id, e) < 0)
        return -1;
    if (strcmp(id, sp->id) != 0)
        return err_set(e, "%s/.spool-id changed (was %s, now %s): another "
                       "spool is mounted there", sp->root, sp->id, id);
    return 0;
}

/* True if OUTDIR is ROOT/out or lies under ROOT/ (by name: a vanished
 * mount cannot be asked where it was). */
static bool output_inside(const struct spool *sp, const char *outdir)
{
    if (outdir == NULL)
        return true;
    size_t n = strlen(sp->root), m = strlen(outdir);
    while (m > 1 && outdir[m - 1] == '/')
        m--;
    return m > n && strncmp(outdir, sp->root, n) == 0 && outdir[n] == '/';
}

int spool_check_output(struct spool *sp, const char *outdir, errbuf *e)
{
    if (output_inside(sp, outdir))
        return 0;
    char path[SP_PATH_MAX], *buf, id[33];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", outdir,
                         SPOOL_OUTPUT_MARKER) >= sizeof path)
        return err_set(e, "output path too long");
    errbuf e2;
    struct stat st;
    if (sp_lstat(sp, path, &st) < 0) {
        if (errno != ENOENT)
            return err_errno(e, errno, "output %s unavailable: %s", outdir,
                             path);
        return err_set(e, "output %s is not this spool's output: no %s (a "
                       "vanished mount? a new output directory needs "
                       "`spoolctl init --output %s %s`)", outdir,
                       SPOOL_OUTPUT_MARKER, outdir, sp->root);
    }
    if (sp_read_file(sp, path, 255, &buf, NULL, &e2) < 0)
        return err_set(e, "output %s unavailable: %s", outdir, e2.msg);
    int rc = parse_id(buf, id, &e2);
    free(buf);
    if (rc < 0)
        return err_set(e, "%s: %s", path, e2.msg);
    if (strcmp(id, sp->id) != 0)
        return err_set(e, "output %s belongs to another spool (%s names "
                       "spool %s, this is %s)", outdir, path, id, sp->id);
    return 0;
}

/* Writes OUTDIR/.spool-output, a copy of the spool's identity text. */
static int write_output_marker(struct spool *sp, const char *outdir, errbuf *e)
{
    char text[256], id[33], tmp[SP_PATH_MAX], final[SP_PATH_MAX];
    if (read_identity(sp, text, sizeof text, id, e) < 0)
        return -1;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/%s.tmp", outdir,
                         SPOOL_OUTPUT_MARKER) >= sizeof tmp ||
        (size_t)snprintf(final, sizeof final, "%s/%s", outdir,
                         SPOOL_OUTPUT_MARKER) >= sizeof final)
        return err_set(e, "output path too long");
    return sp_write_replace(sp, tmp, final, text, strlen(text), e);
}

int sp_path(const struct spool *sp, const char *dir, const char *name,
            char *buf, errbuf *e)
{
    int n;
    if (dir && name)
        n = snprintf(buf, SP_PATH_MAX, "%s/%s/%s", sp->root, dir, name);
    else if (dir || name)
        n = snprintf(buf, SP_PATH_MAX, "%s/%s", sp->root, dir ? dir : name);
    else
        n = snprintf(buf, SP_PATH_MAX, "%s", sp->root);
    if (n < 0 || n >= SP_PATH_MAX)
        return err_set(e, "path too long in %s/%s", dir ? dir : "",
                       name ? name : "");
    return 0;
}

int spool_path(const struct spool *sp, const char *dir, const char *name,
               char *buf, size_t cap, errbuf *e)
{
    char tmp[SP_PATH_MAX];
    if (sp_path(sp, dir, name, tmp, e) < 0)
        return -1;
    if (strlen(tmp) >= cap)
        return err_set(e, "path too long: %s", tmp);
    memcpy(buf, tmp, strlen(tmp) + 1);
    return 0;
}

int spool_claim_path(const struct spool *sp, const struct spool_claim *c,
                     char *buf, size_t cap, errbuf *e)
{
    char name[SPOOL_CLAIM_NAME_MAX + 1];
    if (spool_claim_format(c, name, sizeof name) < 0)
        return err_set(e, "invalid claim");
    return spool_path(sp, "claimed", name, buf, cap, e);
}

int sp_need_node(const struct spool *sp, errbuf *e)
{
    if (sp->node[0] == '\0')
        return err_set(e, "spool opened without a node name");
    return 0;
}

/* ---------------------------------------------------------------- init */

static int make_dir(struct spool *sp, const char *path,
                    const struct spool_init_opts *o, errbuf *e)
{
    if (sp->ops->mkdir(sp->ctx, path, 0777) < 0 && errno != EEXIST)
        return err_errno(e, errno, "mkdir %s", path);
    struct stat st;
    if (sp_lstat(sp, path, &st) < 0)
        return err_errno(e, errno, "lstat %s", path);
    if (!S_ISDIR(st.st_mode))
        return err_set(e, "%s exists and is not a directory", path);
    if (o->group_writable &&
        chmod(path, (st.st_mode & 07777) | S_ISGID | S_IRWXG) < 0)
        return err_errno(e, errno, "chmod g+ws %s", path);
    return 0;
}

static int write_new_identity(struct spool *sp, errbuf *e)
{
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        return err_errno(e, errno, "getrandom");
    char host[256] = "unknown";
    if (gethostname(host, sizeof host - 1) < 0)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    char text[512];
    int n = snprintf(text, sizeof text, "%s", ID_MAGIC);
    for (int i = 0; i < 16; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "%02x", rnd[i]);
    snprintf(text + n, sizeof text - (size_t)n, " %lld %s\n",
             (long long)time(NULL), host);
    char tmp[SP_PATH_MAX], final[SP_PATH_MAX];
    if (sp_path(sp, NULL, ".spool-id.tmp", tmp, e) < 0 ||
        sp_path(sp, NULL, ".spool-id", final, e) < 0)
        return -1;
    return sp_write_replace(sp, tmp, final, text, strlen(text), e);
}

/* Is ROOT usable for init?  1 = has a valid id, 0 = empty or forced,
 * -1 = refuse. */
static int init_precheck(struct spool *sp, const struct spool_init_opts *o,
                         errbuf *e)
{
    char text[256], id[33];
    errbuf e2;
    if (read_identity(sp, text, sizeof text, id, &e2) == 0)
        return 1;
    char **names;
    size_t n;
    if (sp_listdir(sp, sp->root, &names, &n, e) < 0)
        return -1;
    sp_free_names(names, n);
    if (n > 0 && !o->force)
        return err_set(e, "%s is not empty and not a spool (%s); use --force "
                       "to make it one", sp->root, e2.msg);
    return 0;
}

int spool_init(const char *root, const struct spool_init_opts *o,
               const struct spool_ops *ops, void *ops_ctx, errbuf *e)
{
    struct spool_init_opts none = {0};
    if (o == NULL)
        o = &none;
    struct spool sp = { .ops = ops ? ops : &spool_sys_ops, .ctx = ops_ctx };
    if ((sp.root = strdup(root)) == NULL)
        return err_set(e, "out of memory");
    int rc = make_dir(&sp, root, o, e);
    int have_id = rc < 0 ? -1 : init_precheck(&sp, o, e);
    char path[SP_PATH_MAX];
    rc = have_id < 0 ? -1 : 0;
    for (size_t i = 0; rc == 0 && i < sizeof spool_dirs / sizeof *spool_dirs; i++) {
        rc = sp_path(&sp, spool_dirs[i], NULL, path, e);
        if (rc == 0)
            rc = make_dir(&sp, path, o, e);
    }
    if (rc == 0) {
        if (o->out_dir)
            snprintf(path, sizeof path, "%s", o->out_dir);
        else
            rc = sp_path(&sp, "out", NULL, path, e);
        if (rc == 0)
            rc = make_dir(&sp, path, o, e);
    }
    if (rc == 0 && have_id == 0)
        rc = write_new_identity(&sp, e);
    if (rc == 0 && o->out_dir && !output_inside(&sp, o->out_dir))
        rc = write_output_marker(&sp, o->out_dir, e);
    free(sp.root);
    return rc;
}
