/*
 * config.c — parses spoold.conf with libconfig into struct spoold_conf,
 * applies command-line overrides and checks every value (see config.h).
 *
 * Top-level scalar keys are described by one table (name, kind, where the
 * value goes, bounds); the same table serves the file and conf_set(), so a
 * key behaves the same in both.  The pipeline has its own parser: a list of
 * groups, each { filter = "NAME"; PARAM = VALUE; ... } or
 * { exec = ["prog", "{in}", "{out}"]; timeout = 60; }.
 *
 * libconfig 1.5 silently truncates integer literals that do not fit in 32
 * bits ("memory_limit = 5000000000;" would read as 705032704), so integers
 * read from the main file are compared with their source text and refused
 * if they differ.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libconfig.h>

#define CONF_MAX_FILE   (1 << 20)   /* refuse config files above 1 MiB */

enum key_kind {
    K_PATH,         /* char *, non-empty string */
    K_NODE,         /* char *, valid node name */
    K_INT,          /* int */
    K_FLOAT,        /* double */
    K_DURATION,     /* double seconds */
    K_SIZE,         /* uint64_t bytes */
    K_COUNT,        /* uint64_t, plain integer */
    K_BOOL,         /* bool */
    K_UMASK,        /* unsigned, octal string */
    K_BINARIZE,     /* enum binarize_method */
    K_CLAIMORDER,   /* enum claim_order */
};

struct key_def {
    const char *name;
    enum key_kind kind;
    size_t offset;
    double min, max;
};

#define KEY(n, k, field, lo, hi) { n, k, offsetof(struct spoold_conf, field), lo, hi }

static const struct key_def keys[] = {
    KEY("spool",           K_PATH,     spool,           0, 0),
    KEY("output",          K_PATH,     output,          0, 0),
    KEY("node",            K_NODE,     node,            0, 0),
    KEY("workers",         K_INT,      workers,         1, 256),
    KEY("poll_interval",   K_DURATION, poll_interval,   0.05, 3600),
    KEY("settle",          K_DURATION, settle,          0, 86400),
    KEY("heartbeat",       K_DURATION, heartbeat,       0.2, 3600),
    KEY("lease",           K_DURATION, lease,           1, 86400),
    KEY("grace",           K_DURATION, grace,           0, 86400),
    KEY("broken_after",    K_DURATION, broken_after,    0, 1e7),
    KEY("max_attempts",    K_INT,      max_attempts,    1, 1000),
    KEY("keep_done",       K_BOOL,     keep_done,       0, 0),
    KEY("allow_root",      K_BOOL,     allow_root,      0, 0),
    KEY("memory_limit",    K_SIZE,     memory_limit,    0, 0),
    KEY("cpu_limit",       K_DURATION, cpu_limit,       0, 1e7),
    KEY("pack_timeout",    K_DURATION, pack_timeout,    0, 1e7),
    KEY("min_free_memory", K_SIZE,     min_free_memory, 0, 0),
    KEY("min_free_disk",   K_SIZE,     min_free_disk,   0, 0),
    KEY("umask",           K_UMASK,    umask,           0, 0),
    KEY("metrics_file",    K_PATH,     metrics_file,    0, 0),
    KEY("default_dpi",     K_FLOAT,    read.default_dpi, 1, 100000),
    KEY("max_pixels",      K_COUNT,    read.max_pixels, 1, 1e12),
    KEY("binarize",        K_BINARIZE, read.binarize,   0, 0),
    KEY("filter_threads",  K_INT,      filter_threads,  1, 64),
    KEY("claim_order",     K_CLAIMORDER, claim_order,   0, 0),
};

#define NKEYS (sizeof keys / sizeof keys[0])
#define MEMORY_LIMIT_MIN (16ull << 20)  /* below this a worker cannot start */

/* A value as found in the file or on the command line, before its kind
 * is applied. */
struct rawval {
    enum { RV_INT, RV_FLOAT, RV_STRING, RV_BOOL, RV_OTHER } type;
    long long i;
    double f;
    const char *s;
    bool b;
};

/* Where values come from: for messages and the integer literal check. */
struct src {
    const char *name;       /* FILE for messages */
    const char *text;       /* main file text (NULL for overrides) */
    bool lenient;           /* command line: strings for numbers/bools */
};

/* ------------------------------------------------------------ messages */

static const char *setting_file(const config_setting_t *s, const struct src *src)
{
    const char *f = config_setting_source_file(s);
    return f ? f : src->name;
}

/* err_set with a "FILE:LINE: " prefix for setting s. */
static int err_at(errbuf *e, const config_setting_t *s, const struct src *src,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int err_at(errbuf *e, const config_setting_t *s, const struct src *src,
                  const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(e, "%s:%u: %s", setting_file(s, src),
                   config_setting_source_line(s), msg);
}

/* ------------------------------------------------------ units and names */

int conf_parse_size(const char *s, uint64_t *bytes, errbuf *e)
{
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    if (!isdigit((unsigned char)*p))
        return err_set(e, "'%s' is not a size (e.g. 512M, 2G)", s);
    errno = 0;
    char *end;
    double v = strtod(p, &end);
    if (errno != 0 || end == p || !isfinite(v))
        return err_set(e, "'%s' is not a size (e.g. 512M, 2G)", s);
    while (isspace((unsigned char)*end))
        end++;
    static const char units[] = "KMGTP";
    double mult = 1;
    if (*end != '\0') {
        const char *u = strchr(units, toupper((unsigned char)*end));
        if (u == NULL)
            return err_set(e, "'%s': unknown unit (use K, M, G, T, P)", s);
        mult = ldexp(1.0, 10 * (int)(u - units + 1));
        end++;
        if (*end == 'i' && end[1] == 'B')
            end += 2;
        else if (*end == 'B' || *end == 'b')
            end++;
    }
    while (isspace((unsigned char)*end))
        end++;
    if (*end != '\0')
        return err_set(e, "'%s' is not a size (e.g. 512M, 2G)", s);
    if (v * mult >= 18446744073709551615.0)
        return err_set(e, "'%s' is too large", s);
    *bytes = (uint64_t)llround(v * mult);
    return 0;
}

int conf_parse_duration(const char *s, double *secs, errbuf *e)
{
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    if (!isdigit((unsigned char)*p) && *p != '.')
        return err_set(e, "'%s' is not a duration (e.g. 30, 500ms, 5m)", s);
    errno = 0;
    char *end;
    double v = strtod(p, &end);
    if (errno != 0 || end == p || !isfinite(v))
        return err_set(e, "'%s' is not a duration (e.g. 30, 500ms, 5m)", s);
    while (isspace((unsigned char)*end))
        end++;
    static const struct { const char *u; double m; } units[] = {
        { "ms", 1e-3 }, { "s", 1 }, { "m", 60 }, { "min", 60 },
        { "h", 3600 }, { "d", 86400 },
    };
    double mult = 1;
    if (*end != '\0') {
        size_t n = strcspn(end, " \t");
        size_t i;
        for (i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strlen(units[i].u) == n && strncmp(end, units[i].u, n) == 0)
                break;
        if (i == sizeof units / sizeof units[0])
            return err_set(e, "'%s': unknown unit (use ms, s, m, h, d)", s);
        mult = units[i].m;
        end += n;
        while (isspace((unsigned char)*end))
            end++;
        if (*end != '\0')
            return err_set(e, "'%s' is not a duration (e.g. 30, 500ms, 5m)", s);
    }
    *secs = v * mult;
    return 0;
}

const char *conf_format_size(uint64_t bytes, char *buf, size_t len)
{
    static const char units[] = "KMGTP";
    if (bytes < 1024) {
        snprintf(buf, len, "%llu", (unsigned long long)bytes);
        return buf;
    }
    double v = (double)bytes;
    int u = -1;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, "%.*f%c", v < 10 && v != floor(v) ? 1 : 0, v, units[u]);
    return buf;
}

int conf_check_node(const char *name, errbuf *e)
{
    size_t n = strlen(name);
    if (n == 0 || n > CONF_NODE_MAX)
        return err_set(e, "node name must have 1 to %d characters",
                       CONF_NODE_MAX);
    if (name[0] == '.')
        return err_set(e, "node name '%s' must not start with '.'", name);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (!isalnum(ch) || ch > 127) {
            if (ch != '.' && ch != '_' && ch != '-')
                return err_set(e, "node name '%s' may hold only letters, "
                               "digits, '.', '_' and '-'", name);
        }
    }
    return 0;
}

static int parse_umask(const char *s, unsigned *out, errbuf *e)
{
    size_t n = strlen(s);
    if (n == 0 || n > 4 || strspn(s, "01234567") != n)
        return err_set(e, "umask must be an octal string such as \"022\" "
                       "(got '%s')", s);
    *out = (unsigned)strtoul(s, NULL, 8);
    return 0;
}

/* ------------------------------------------------------- scalar values */

/* Checks a number against the key's bounds. */
static int check_bounds(const struct key_def *k, double v, errbuf *e)
{
    if (v < k->min || v > k->max)
        return err_set(e, "%s must be between %g and %g (got %g)",
                       k->name, k->min, k->max, v);
    return 0;
}

/* Reads a number (int or float; a string only on the command line). */
static int raw_number(const struct key_def *k, const struct rawval *rv,
                      bool integer, bool lenient, double *out, errbuf *e)
{
    const char *what = integer ? "an integer" : "a number";
    if (rv->type == RV_INT) {
        *out = (double)rv->i;
        return 0;
    }
    if (rv->type == RV_FLOAT && !integer) {
        *out = rv->f;
        return 0;
    }
    if (rv->type == RV_STRING && lenient) {
        char *end;
        errno = 0;
        double v = integer ? (double)strtoll(rv->s, &end, 10)
                           : strtod(rv->s, &end);
        if (errno == 0 && end != rv->s && *end == '\0' && isfinite(v)) {
            *out = v;
            return 0;
        }
    }
    return err_set(e, "%s must be %s", k->name, what);
}

static int raw_duration(const struct key_def *k, const struct rawval *rv,
                        double *out, errbuf *e)
{
    if (rv->type == RV_INT)
        *out = (double)rv->i;
    else if (rv->type == RV_FLOAT)
        *out = rv->f;
    else if (rv->type == RV_STRING) {
        if (conf_parse_duration(rv->s, out, e) < 0) {
            err_prefix(e, "%s", k->name);
            return -1;
        }
    } else
        return err_set(e, "%s must be a duration (seconds, or a string "
                       "such as \"500ms\", \"5m\")", k->name);
    return check_bounds(k, *out, e);
}

static int raw_size(const struct key_def *k, const struct rawval *rv,
                    uint64_t *out, errbuf *e)
{
    if (rv->type == RV_INT) {
        if (rv->i < 0)
            return err_set(e, "%s must not be negative", k->name);
        *out = (uint64_t)rv->i;
    } else if (rv->type == RV_STRING) {
        if (conf_parse_size(rv->s, out, e) < 0) {
            err_prefix(e, "%s", k->name);
            return -1;
        }
    } else
        return err_set(e, "%s must be a size (bytes, or a string such as "
                       "\"512M\", \"2G\")", k->name);
    return 0;
}

static int raw_bool(const struct key_def *k, const struct rawval *rv,
                    bool lenient, bool *out, errbuf *e)
{
    if (rv->type == RV_BOOL) {
        *out = rv->b;
        return 0;
    }
    if (rv->type == RV_STRING && lenient) {
        static const char *yes[] = { "true", "yes", "on", "1" };
        static const char *no[] = { "false", "no", "off", "0" };
        for (int i = 0; i < 4; i++) {
            if (strcasecmp(rv->s, yes[i]) == 0 || strcasecmp(rv->s, no[i]) == 0) {
                *out = strcasecmp(rv->s, yes[i]) == 0;
                return 0;
            }
        }
    }
    return err_set(e, "%s must be true or false", k->name);
}

static int raw_string(const struct key_def *k, const struct rawval *rv,
                      const char **out, errbuf *e)
{
    if (rv->type != RV_STRING)
        return err_set(e, "%s must be a string", k->name);
    if (rv->s[0] == '\0')
        return err_set(e, "%s must not be empty", k->name);
    *out = rv->s;
    return 0;
}

static int set_string_field(char **field, const char *value, errbuf *e)
{
    char *copy = strdup(value);
    if (copy == NULL)
        return err_set(e, "out of memory");
    free(*field);
    *field = copy;
    return 0;
}

/* String-valued kinds: paths, node, umask, binarize, claim_order. */
static int apply_text_key(struct spoold_conf *c, const struct key_def *k,
                          const struct rawval *rv, errbuf *e)
{
    char *field = (char *)c + k->offset;
    const char *s = NULL;
    if (raw_string(k, rv, &s, e) < 0)
        return -1;
    switch (k->kind) {
    case K_NODE:
        if (conf_check_node(s, e) < 0)
            return -1;
        return set_string_field((char **)(void *)field, s, e);
    case K_PATH:
        return set_string_field((char **)(void *)field, s, e);
    case K_UMASK:
        return parse_umask(s, (unsigned *)(void *)field, e);
    case K_BINARIZE:
        if (strcmp(s, "otsu") == 0)
            *(enum binarize_method *)(void *)field = BINARIZE_OTSU;
        else if (strcmp(s, "sauvola") == 0)
            *(enum binarize_method *)(void *)field = BINARIZE_SAUVOLA;
        else
            return err_set(e, "binarize must be \"otsu\" or \"sauvola\" "
                           "(got '%s')", s);
        return 0;
    case K_CLAIMORDER:
        if (strcmp(s, "hashed") == 0)
            *(enum claim_order *)(void *)field = CLAIM_HASHED;
        else if (strcmp(s, "largest") == 0)
            *(enum claim_order *)(void *)field = CLAIM_LARGEST;
        else
            return err_set(e, "claim_order must be \"hashed\" or \"largest\" "
                           "(got '%s')", s);
        return 0;
    default:
        return err_set(e, "%s: internal error: not a text key", k->name);
    }
}

/* Applies one value of key k to c. */
static int apply_key(struct spoold_conf *c, const struct key_def *k,
                     const struct rawval *rv, bool lenient, errbuf *e)
{
    char *field = (char *)c + k->offset;
    double v;
    switch (k->kind) {
    case K_INT:
        if (raw_number(k, rv, true, lenient, &v, e) < 0 ||
            check_bounds(k, v, e) < 0)
            return -1;
        *(int *)(void *)field = (int)v;
        return 0;
    case K_FLOAT:
        if (raw_number(k, rv, false, lenient, &v, e) < 0 ||
            check_bounds(k, v, e) < 0)
            return -1;
        *(double *)(void *)field = v;
        return 0;
    case K_COUNT:
        if (raw_number(k, rv, true, lenient, &v, e) < 0 ||
            check_bounds(k, v, e) < 0)
            return -1;
        *(uint64_t *)(void *)field = (uint64_t)v;
        return 0;
    case K_DURATION:
        return raw_duration(k, rv, (double *)(void *)field, e);
    case K_SIZE:
        if (raw_size(k, rv, (uint64_t *)(void *)field, e) < 0)
            return -1;
        if (field == (char *)&c->memory_limit && c->memory_limit != 0 &&
            c->memory_limit < MEMORY_LIMIT_MIN)
            return err_set(e, "memory_limit must be 0 (none) or at least 16M");
        return 0;
    case K_BOOL:
        return raw_bool(k, rv, lenient, (bool *)(void *)field, e);
    default:
        return apply_text_key(c, k, rv, e);
    }
}

static const struct key_def *find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

int conf_set(struct spoold_conf *c, const char *key, const char *value,
             errbuf *e)
{
    const struct key_def *k = find_key(key);
    if (k == NULL)
        return err_set(e, "unknown setting '%s'", key);
    struct rawval rv = { .type = RV_STRING, .s = value };
    if (apply_key(c, k, &rv, true, e) < 0)
        return -1;
    if (strcmp(key, "lease") == 0 || strcmp(key, "heartbeat") == 0)
        c->lease_line = 0;
    return 0;
}

/* ------------------------------------------------- reading the settings */

/* Finds line `line` (1-based) of text; NULL if there are fewer lines. */
static const char *text_line(const char *text, unsigned line)
{
    const char *p = text;
    for (unsigned l = 1; l < line; l++) {
        p = strchr(p, '\n');
        if (p == NULL)
            return NULL;
        p++;
    }
    return p;
}

/* libconfig 1.5 truncates integer literals to 32 bits without a word.  For
 * an integer setting read from the main text, find "NAME = LITERAL" on its
 * line and check that the literal's value is the value libconfig kept.
 * Returns -1 if it differs; 0 if equal or the literal cannot be found
 * (settings inside lists have no name). */
static int check_int_literal(const config_setting_t *s, long long value,
                             const struct src *src, errbuf *e)
{
    const char *name = config_setting_name(s);
    if (src->text == NULL || config_setting_source_file(s) != NULL ||
        name == NULL)
        return 0;
    const char *p = text_line(src->text, config_setting_source_line(s));
    size_t nlen = strlen(name);
    while (p != NULL && *p != '\0' && *p != '\n') {
        const char *hit = strstr(p, name);
        const char *eol = strchr(p, '\n');
        if (hit == NULL || (eol != NULL && hit > eol))
            return 0;
        const char *q = hit + nlen;
        while (*q == ' ' || *q == '\t')
            q++;
        if ((hit == src->text || !(isalnum((unsigned char)hit[-1]) || hit[-1] == '_'))
            && (*q == '=' || *q == ':')) {
            q++;
            while (*q == ' ' || *q == '\t')
                q++;
            int neg = *q == '-';
            if (*q == '-' || *q == '+')
                q++;
            int base = (q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) ? 16 : 10;
            errno = 0;
            unsigned long long lit = strtoull(q, NULL, base);
            bool range = errno == ERANGE || lit > (unsigned long long)LLONG_MAX;
            long long sv = neg ? -(long long)lit : (long long)lit;
            if (range || sv != value)
                return err_at(e, s, src, "%s: integer out of range (write "
                              "large sizes with a unit, e.g. \"3G\")", name);
            return 0;
        }
        p = hit + nlen;
    }
    return 0;
}

static int setting_raw(const config_setting_t *s, const struct src *src,
                       struct rawval *rv, errbuf *e)
{
    memset(rv, 0, sizeof *rv);
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        rv->type = RV_INT;
        rv->i = config_setting_get_int64(s);
        return check_int_literal(s, rv->i, src, e);
    case CONFIG_TYPE_FLOAT:
        rv->type = RV_FLOAT;
        rv->f = config_setting_get_float(s);
        return 0;
    case CONFIG_TYPE_STRING:
        rv->type = RV_STRING;
        rv->s = config_setting_get_string(s);
        return 0;
    case CONFIG_TYPE_BOOL:
        rv->type = RV_BOOL;
        rv->b = config_setting_get_bool(s);
        return 0;
    default:
        rv->type = RV_OTHER;
        return 0;
    }
}

/* ------------------------------------------------------------ pipeline */

enum param_kind { P_FLOAT, P_INT, P_CROPMODE };

struct param_def {
    enum stage_id stage;
    const char *name;
    enum param_kind kind;
    size_t offset;          /* in struct chain_opts */
    double min, max;
};

#define PARAM(st, n, k, field, lo, hi) \
    { st, n, k, offsetof(struct chain_opts, field), lo, hi }

static const struct param_def params[] = {
    PARAM(STAGE_BORDER,    "max_depth", P_FLOAT,    border.max_depth,    0, 0.5),
    PARAM(STAGE_ORIENT,    "min_conf",  P_FLOAT,    orient.min_conf,     0, 1000),
    PARAM(STAGE_DESKEW,    "max_skew",  P_FLOAT,    deskew.max_skew,     0, 45),
    PARAM(STAGE_DESKEW,    "min_conf",  P_FLOAT,    deskew.min_conf,     0, 1000),
    PARAM(STAGE_DESKEW,    "min_angle", P_FLOAT,    deskew.min_angle,    0, 45),
    PARAM(STAGE_DESPECKLE, "max_speck", P_INT,      despeckle.max_speck, 0, 1000),
    PARAM(STAGE_DESPECKLE, "max_hole",  P_INT,      despeckle.max_hole,  0, 1000),
    PARAM(STAGE_CROP,      "mode",      P_CROPMODE, crop.mode,           0, 0),
    PARAM(STAGE_CROP,      "margin_mm", P_FLOAT,    crop.margin_mm,      0, 1000),
};

#define NPARAMS (sizeof params / sizeof params[0])

static const char *const crop_modes[] = {
    [CROP_NONE] = "none", [CROP_CONTENT] = "content", [CROP_A4] = "a4",
    [CROP_LETTER] = "letter", [CROP_LEGAL] = "legal",
};

static const struct param_def *find_param(enum stage_id st, const char *name)
{
    for (size_t i = 0; i < NPARAMS; i++)
        if (params[i].stage == st && strcmp(params[i].name, name) == 0)
            return &params[i];
    return NULL;
}

/* Sets one filter parameter from setting s. */
static int set_param(struct chain_opts *o, const struct param_def *p,
                     const config_setting_t *s, const struct src *src,
                     errbuf *e)
{
    char *field = (char *)o + p->offset;
    int t = config_setting_type(s);
    if (p->kind == P_CROPMODE) {
        const char *v = t == CONFIG_TYPE_STRING ? config_setting_get_string(s) : NULL;
        for (int m = 0; v != NULL && m < (int)(sizeof crop_modes / sizeof *crop_modes); m++) {
            if (strcmp(v, crop_modes[m]) == 0) {
                *(enum crop_mode *)(void *)field = (enum crop_mode)m;
                return 0;
            }
        }
        return err_at(e, s, src, "mode must be one of \"none\", \"content\", "
                      "\"a4\", \"letter\", \"legal\"");
    }
    bool isint = t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
    if (!isint && !(t == CONFIG_TYPE_FLOAT && p->kind == P_FLOAT))
        return err_at(e, s, src, "%s must be %s", p->name,
                      p->kind == P_INT ? "an integer" : "a number");
    struct rawval rv;
    if (setting_raw(s, src, &rv, e) < 0)
        return -1;
    double v = isint ? (double)rv.i : rv.f;
    if (v < p->min || v > p->max)
        return err_at(e, s, src, "%s must be between %g and %g (got %g)",
                      p->name, p->min, p->max, v);
    if (p->kind == P_INT)
        *(int *)(void *)field = (int)v;
    else
        *(double *)(void *)field = v;
    return 0;
}

static void free_steps(struct pipeline_step *steps, int n)
{
    for (int i = 0; i < n; i++) {
        for (int a = 0; a < steps[i].argc; a++)
            free(steps[i].argv[a]);
        free(steps[i].argv);
    }
    free(steps);
}

/* Starts a new empty step of the given kind at the end of the list. */
static struct pipeline_step *add_step(struct pipeline_step *steps, int *n,
                                      enum step_kind kind, int line)
{
    struct pipeline_step *st = &steps[(*n)++];
    memset(st, 0, sizeof *st);
    st->kind = kind;
    st->line = line;
    chain_opts_default(&st->chain);
    st->chain.nstages = 0;
    return st;
}

/* { filter = "NAME"; PARAMS } appended to the current filter step (or a
 * new one if the previous step was exec). */
static int parse_filter_step(const config_setting_t *g, const config_setting_t *fs,
                             struct pipeline_step *steps, int *n,
                             const struct src *src, errbuf *e)
{
    if (config_setting_type(fs) != CONFIG_TYPE_STRING)
        return err_at(e, fs, src, "filter must be a string");
    const char *name = config_setting_get_string(fs);
    int st = stage_from_name(name);
    bool none = strcmp(name, "none") == 0;
    if (st < 0 && !none)
        return err_at(e, fs, src, "unknown filter '%s' (known: border, orient, "
                      "deskew, despeckle, crop, none)", name);
    int line = (int)config_setting_source_line(g);
    if (*n == 0 || steps[*n - 1].kind != STEP_FILTERS)
        add_step(steps, n, STEP_FILTERS, line);
    if (!none && !stage_available((enum stage_id)st))
        return err_at(e, fs, src, "filter '%s' is not available in this "
                      "build", name);
    if (none) {
        if (config_setting_length(g) > 1)
            return err_at(e, config_setting_get_elem(g, 1), src,
                          "filter 'none' has no parameters");
        return 0;
    }
    struct chain_opts *o = &steps[*n - 1].chain;
    for (int i = 0; i < o->nstages; i++)
        if (o->stages[i] == (enum stage_id)st)
            return err_at(e, fs, src, "filter '%s' appears twice in one run "
                          "of filter steps (put an exec step between them "
                          "or merge them)", name);
    o->stages[o->nstages++] = (enum stage_id)st;
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        if (strcmp(config_setting_name(s), "filter") == 0)
            continue;
        const struct param_def *p = find_param((enum stage_id)st,
                                               config_setting_name(s));
        if (p == NULL)
            return err_at(e, s, src, "unknown parameter '%s' of filter '%s'",
                          config_setting_name(s), name);
        if (set_param(o, p, s, src, e) < 0)
            return -1;
    }
    return 0;
}

static int parse_exec_argv(struct pipeline_step *st, const config_setting_t *xs,
                           const struct src *src, errbuf *e)
{
    int t = config_setting_type(xs);
    int n = (t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST)
            ? config_setting_length(xs) : 0;
    if (n == 0)
        return err_at(e, xs, src, "exec must be a non-empty list of strings, "
                      "e.g. [\"prog\", \"{in}\", \"{out}\"]");
    if (n > CONF_MAX_ARGS)
        return err_at(e, xs, src, "exec has more than %d arguments",
                      CONF_MAX_ARGS);
    st->argv = calloc((size_t)n + 1, sizeof *st->argv);
    if (st->argv == NULL)
        return err_set(e, "out of memory");
    for (int i = 0; i < n; i++) {
        const config_setting_t *a = config_setting_get_elem(xs, (unsigned)i);
        if (config_setting_type(a) != CONFIG_TYPE_STRING)
            return err_at(e, xs, src, "exec argument %d must be a string", i + 1);
        const char *v = config_setting_get_string(a);
        if (i == 0 && v[0] == '\0')
            return err_at(e, xs, src, "exec program name must not be empty");
        st->argv[i] = strdup(v);
        if (st->argv[i] == NULL)
            return err_set(e, "out of memory");
        st->argc = i + 1;
    }
    return 0;
}

/* { exec = [ARGV]; timeout = DURATION; } */
static int parse_exec_step(const config_setting_t *g, const config_setting_t *xs,
                           struct pipeline_step *steps, int *n,
                           const struct src *src, errbuf *e)
{
    struct pipeline_step *st = add_step(steps, n, STEP_EXEC,
                                        (int)config_setting_source_line(g));
    if (parse_exec_argv(st, xs, src, e) < 0)
        return -1;
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        if (strcmp(name, "exec") == 0)
            continue;
        if (strcmp(name, "timeout") != 0)
            return err_at(e, s, src, "unknown setting '%s' in an exec step "
                          "(known: exec, timeout)", name);
        static const struct key_def tk = { "timeout", K_DURATION, 0, 0, 1e7 };
        struct rawval rv;
        if (setting_raw(s, src, &rv, e) < 0)
            return -1;
        if (raw_duration(&tk, &rv, &st->timeout, e) < 0) {
            err_prefix(e, "%s:%u", setting_file(s, src),
                       config_setting_source_line(s));
            return -1;
        }
    }
    return 0;
}

static int parse_step(const config_setting_t *g, struct pipeline_step *steps,
                      int *n, const struct src *src, errbuf *e)
{
    if (config_setting_type(g) != CONFIG_TYPE_GROUP)
        return err_at(e, g, src, "a pipeline step must be a group: "
                      "{ filter = \"NAME\"; ... } or { exec = [...]; }");
    const config_setting_t *fs = config_setting_get_member(g, "filter");
    const config_setting_t *xs = config_setting_get_member(g, "exec");
    if (fs != NULL && xs != NULL)
        return err_at(e, g, src, "a pipeline step has either filter or "
                      "exec, not both");
    if (fs == NULL && xs == NULL)
        return err_at(e, g, src, "a pipeline step needs filter = \"NAME\" "
                      "or exec = [...]");
    if (*n >= CONF_MAX_STEPS)
        return err_at(e, g, src, "the pipeline has more than %d steps",
                      CONF_MAX_STEPS);
    return fs ? parse_filter_step(g, fs, steps, n, src, e)
              : parse_exec_step(g, xs, steps, n, src, e);
}

/* True if some step writes a file (a filter step, or exec with {out}). */
static bool pipeline_writes(const struct pipeline_step *steps, int n)
{
    for (int i = 0; i < n; i++) {
        if (steps[i].kind == STEP_FILTERS)
            return true;
        for (int a = 0; a < steps[i].argc; a++)
            if (strstr(steps[i].argv[a], "{out}") != NULL)
                return true;
    }
    return false;
}

static int parse_pipeline(struct spoold_conf *c, const config_setting_t *pl,
                          const struct src *src, errbuf *e)
{
    if (config_setting_type(pl) != CONFIG_TYPE_LIST &&
        !(config_setting_type(pl) == CONFIG_TYPE_ARRAY &&
          config_setting_length(pl) == 0))
        return err_at(e, pl, src, "pipeline must be a list of steps: ( { ... }, "
                      "{ ... } )");
    struct pipeline_step *steps = calloc(CONF_MAX_STEPS, sizeof *steps);
    if (steps == NULL)
        return err_set(e, "out of memory");
    int n = 0;
    for (int i = 0; i < config_setting_length(pl); i++) {
        if (parse_step(config_setting_get_elem(pl, (unsigned)i), steps, &n,
                       src, e) < 0) {
            free_steps(steps, n);
            return -1;
        }
    }
    if (n == 0)
        add_step(steps, &n, STEP_FILTERS, (int)config_setting_source_line(pl));
    if (!pipeline_writes(steps, n)) {
        free_steps(steps, n);
        return err_at(e, pl, src, "the pipeline writes no file: add a filter "
                      "step, or {out} to an exec step");
    }
    free_steps(c->steps, c->nsteps);
    c->steps = steps;
    c->nsteps = n;
    return 0;
}

/* ------------------------------------------------------------ the file */

static int apply_settings(struct spoold_conf *c, const config_setting_t *root,
                          const struct src *src, errbuf *e)
{
    for (int i = 0; i < config_setting_length(root); i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(s);
        if (strcmp(name, "pipeline") == 0) {
            if (parse_pipeline(c, s, src, e) < 0)
                return -1;
            continue;
        }
        const struct key_def *k = find_key(name);
        if (k == NULL)
            return err_at(e, s, src, "unknown setting '%s'", name);
        struct rawval rv;
        if (setting_raw(s, src, &rv, e) < 0)
            return -1;
        if (apply_key(c, k, &rv, false, e) < 0) {
            err_prefix(e, "%s:%u", setting_file(s, src),
                       config_setting_source_line(s));
            return -1;
        }
        if (strcmp(name, "lease") == 0 || strcmp(name, "heartbeat") == 0)
            c->lease_line = (int)config_setting_source_line(s);
    }
    return 0;
}

/* Parses text with libconfig (include directory: dir, may be NULL). */
static int load_text(struct spoold_conf *c, const char *text, const char *name,
                     const char *dir, errbuf *e)
{
    config_t cf;
    config_init(&cf);
    if (dir != NULL)
        config_set_include_dir(&cf, dir);
    int rc = 0;
    if (!config_read_string(&cf, text)) {
        const char *f = config_error_file(&cf);
        rc = err_set(e, "%s:%d: %s", f ? f : name, config_error_line(&cf),
                     config_error_text(&cf));
    } else {
        struct src src = { .name = name, .text = text, .lenient = false };
        rc = apply_settings(c, config_root_setting(&cf), &src, e);
    }
    config_destroy(&cf);
    return rc;
}

int conf_load_string(struct spoold_conf *c, const char *text,
                     const char *name, errbuf *e)
{
    return load_text(c, text, name, NULL, e);
}

/* Reads a whole (small) file into a NUL-terminated buffer. */
static char *read_small_file(const char *path, errbuf *e)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        err_errno(e, errno, "%s", path);
        return NULL;
    }
    char *buf = malloc(CONF_MAX_FILE + 1);
    size_t n = buf ? fread(buf, 1, CONF_MAX_FILE + 1, fp) : 0;
    int rerr = ferror(fp) ? errno : 0;
    fclose(fp);
    if (buf == NULL) {
        err_set(e, "out of memory");
        return NULL;
    }
    if (rerr != 0 || n > CONF_MAX_FILE) {
        free(buf);
        if (rerr != 0)
            err_errno(e, rerr, "%s: read error", path);
        else
            err_set(e, "%s: larger than %d bytes", path, CONF_MAX_FILE);
        return NULL;
    }
    buf[n] = '\0';
    if (strlen(buf) != n) {
        free(buf);
        err_set(e, "%s: contains a NUL byte", path);
        return NULL;
    }
    return buf;
}

int conf_load_file(struct spoold_conf *c, const char *path, errbuf *e)
{
    char *text = read_small_file(path, e);
    if (text == NULL)
        return -1;
    char *dir = strdup(path);
    char *newpath = strdup(path);
    if (dir == NULL || newpath == NULL) {
        free(text);
        free(dir);
        free(newpath);
        return err_set(e, "out of memory");
    }
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        strcpy(dir, ".");
    else
        slash[slash == dir] = '\0';
    free(c->path);
    c->path = newpath;
    int rc = load_text(c, text, path, dir, e);
    free(dir);
    free(text);
    return rc;
}

/* ------------------------------------------------- defaults and checks */

void conf_defaults(struct spoold_conf *c)
{
    memset(c, 0, sizeof *c);
    c->poll_interval = 5;
    c->settle = 10;
    c->heartbeat = 10;
    c->lease = 60;
    c->grace = 30;
    c->max_attempts = 3;
    c->keep_done = true;
    c->memory_limit = 2ull << 30;
    c->cpu_limit = 0;
    c->pack_timeout = 1800;
    c->min_free_memory = 256ull << 20;
    c->min_free_disk = 256ull << 20;
    c->umask = 022;
    c->claim_order = CLAIM_LARGEST;
    struct chain_opts d;
    chain_opts_default(&d);
    c->read = d.read;
    c->filter_threads = d.threads;
    c->steps = calloc(1, sizeof *c->steps);
    if (c->steps != NULL) {
        c->steps[0].kind = STEP_FILTERS;
        c->steps[0].chain = d;
        c->nsteps = 1;
    }
}

/* The short host name (up to the first '.'), checked as a node name. */
static int default_node(struct spoold_conf *c, errbuf *e)
{
    char host[256];
    if (gethostname(host, sizeof host) < 0)
        return err_errno(e, errno, "node: cannot get the host name");
    host[sizeof host - 1] = '\0';
    host[strcspn(host, ".")] = '\0';
    if (conf_check_node(host, e) < 0) {
        err_prefix(e, "node: the host name is not usable, set node");
        return -1;
    }
    return set_string_field(&c->node, host, e);
}

int conf_finish(struct spoold_conf *c, errbuf *e)
{
    if (c->steps == NULL)
        return err_set(e, "out of memory");
    if (c->spool == NULL)
        return err_set(e, "spool is not set (spool = \"DIR\"; in the "
                       "configuration, or --spool DIR)");
    if (c->output == NULL) {
        size_t n = strlen(c->spool) + sizeof "/out";
        c->output = malloc(n);
        if (c->output == NULL)
            return err_set(e, "out of memory");
        snprintf(c->output, n, "%s/out", c->spool);
    }
    if (c->node == NULL && default_node(c, e) < 0)
        return -1;
    if (c->workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->workers = n < 1 ? 1 : n > 256 ? 256 : (int)n;
    }
    if (c->lease < 3 * c->heartbeat || c->lease < c->heartbeat + 2) {
        char where[300] = "";
        if (c->lease_line > 0 && c->path != NULL)
            snprintf(where, sizeof where, "%s:%d: ", c->path, c->lease_line);
        return err_set(e, "%slease (%gs) must be at least 3 x heartbeat "
                       "(%gs) and heartbeat + 2s", where, c->lease,
                       c->heartbeat);
    }
    for (int i = 0; i < c->nsteps; i++) {
        c->steps[i].chain.read = c->read;
        c->steps[i].chain.threads = c->filter_threads;
    }
    return 0;
}

void conf_free(struct spoold_conf *c)
{
    free(c->path);
    free(c->spool);
    free(c->output);
    free(c->node);
    free(c->metrics_file);
    free_steps(c->steps, c->nsteps);
    memset(c, 0, sizeof *c);
}

void conf_move(struct spoold_conf *dst, struct spoold_conf *src)
{
    conf_free(dst);
    *dst = *src;
    memset(src, 0, sizeof *src);
}

const char *conf_pipeline_describe(const struct spoold_conf *c, char *buf,
                                   size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < c->nsteps && at < len; i++) {
        const struct pipeline_step *st = &c->steps[i];
        int n = snprintf(buf + at, len - at, "%s", i ? " | " : "");
        at += n > 0 ? (size_t)n : 0;
        if (st->kind == STEP_EXEC) {
            n = snprintf(buf + at, at < len ? len - at : 0, "exec %s",
                         st->argv[0]);
        } else if (st->chain.nstages == 0) {
            n = snprintf(buf + at, at < len ? len - at : 0, "g4");
        } else {
            n = 0;
            for (int s = 0; s < st->chain.nstages && at + (size_t)n < len; s++)
                n += snprintf(buf + at + n, len - at - (size_t)n, "%s%s",
                              s ? "," : "", stage_name(st->chain.stages[s]));
        }
        at += n > 0 ? (size_t)n : 0;
    }
    return buf;
}
