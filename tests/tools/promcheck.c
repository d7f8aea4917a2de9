/*
 * promcheck.c — strict checker for a Prometheus text-format (0.0.4) file
 * such as the one spoold writes for node_exporter's textfile collector,
 * and a way to read single values out of it in tests and the demo.
 *
 *   promcheck FILE                  check; print "FILE: ok, F families,
 *                                   S samples" or "FILE:LINE: reason"
 *   promcheck FILE SERIES...        check, then print the value of each
 *                                   SERIES, written as in the file:
 *                                   'spoold_packs_total{node="a",result="done"}'
 *                                   (label order does not matter; every
 *                                   label must be given)
 *
 * Exit 0 = valid (and every series found), 1 = invalid or a series is
 * missing, 2 = usage or I/O error.
 *
 * What is checked, beyond what the format itself requires (names, label
 * syntax and escapes, UTF-8, float values, optional integer timestamp,
 * one TYPE and one HELP per family and before its samples, the samples of
 * a family together, no duplicate series, no duplicate label in a sample):
 * the project's own rules — every family has HELP and TYPE, a counter's
 * name ends in _total and its values are finite and >= 0, label names do
 * not start with "__", the file ends with a newline and has no CR or NUL.
 * histogram and summary families own their NAME_bucket / NAME_sum /
 * NAME_count samples.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE 4096
#define MAX_LABELS 32

struct family {
    char name[256];
    char type[16];              /* "" until TYPE seen */
    bool help, closed;          /* closed: another family's sample followed */
    int nsamples;
};

struct sample {
    char *key;                  /* name + sorted canonical labels */
    char *value;
};

struct check {
    const char *file;
    int line;
    struct family *fam;
    int nfam, capfam;
    struct sample *smp;
    int nsmp, capsmp;
    int last;                   /* family of the previous sample, or -1 */
    char err[MAX_LINE + 256];
};

static int fail(struct check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct check *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(c->err, sizeof c->err, "%s:%d: ", c->file, c->line);
    vsnprintf(c->err + n, sizeof c->err - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static void *grow(void *p, int *cap, size_t size)
{
    *cap = *cap ? *cap * 2 : 16;
    void *q = realloc(p, (size_t)*cap * size);
    if (q == NULL) {
        perror("promcheck");
        exit(2);
    }
    return q;
}

/* ------------------------------------------------------------- lexing */

static bool name_start(int ch, bool colon)
{
    return isalpha(ch) || ch == '_' || (colon && ch == ':');
}

/* Copies a metric name (colon allowed) or label name at *p into out. */
static int lex_name(struct check *c, const char **p, char *out, size_t cap,
                    bool colon, const char *what)
{
    const char *s = *p;
    size_t n = 0;
    if (!(s[0] > 0 && name_start((unsigned char)s[0], colon)))
        return fail(c, "bad %s at '%.20s'", what, s);
    while (s[n] > 0 && (name_start((unsigned char)s[n], colon) ||
                        isdigit((unsigned char)s[n])))
        n++;
    if (n >= cap)
        return fail(c, "%s too long", what);
    memcpy(out, s, n);
    out[n] = '\0';
    *p = s + n;
    return 0;
}

/* Length of the valid UTF-8 sequence at s, 0 if invalid. */
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

/* Checks an escaped text up to the end char `stop` ('"' for label values,
 * '\0' for HELP text) and copies it raw (still escaped) into out. */
static int lex_escaped(struct check *c, const char **p, char stop,
                       const char *allowed, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)*p;
    size_t o = 0;
    while (*s != (unsigned char)stop) {
        if (*s == '\0')
            return fail(c, "unterminated label value");
        size_t n = utf8_len(s);
        if (n == 0)
            return fail(c, "invalid UTF-8 byte 0x%02x", *s);
        if (*s == '\\') {
            if (s[1] == '\0' || strchr(allowed, s[1]) == NULL)
                return fail(c, "bad escape '\\%c'", s[1] ? s[1] : '0');
            n = 2;
        }
        if (o + n >= cap)
            return fail(c, "text too long");
        memcpy(out + o, s, n);
        o += n;
        s += n;
    }
    out[o] = '\0';
    *p = (const char *)s;
    return 0;
}

/* A Go-ParseFloat-style value: decimal float, NaN, [+-]Inf. */
static int lex_value(struct check *c, const char *v, double *out)
{
    if (strcmp(v, "NaN") == 0) {
        *out = NAN;
        return 0;
    }
    if (strcmp(v, "+Inf") == 0 || strcmp(v, "Inf") == 0 ||
        strcmp(v, "-Inf") == 0) {
        *out = v[0] == '-' ? -INFINITY : INFINITY;
        return 0;
    }
    if (v[strspn(v, "0123456789.eE+-")] != '\0' ||
        strpbrk(v, "0123456789") == NULL)
        return fail(c, "bad value '%s'", v);
    char *end;
    errno = 0;
    *out = strtod(v, &end);
    if (*end != '\0' || errno == ERANGE)
        return fail(c, "bad value '%s'", v);
    return 0;
}

static int lex_timestamp(struct check *c, const char *t)
{
    const char *d = t[0] == '-' ? t + 1 : t;
    if (d[0] == '\0' || d[strspn(d, "0123456789")] != '\0' || strlen(d) > 18)
        return fail(c, "bad timestamp '%s'", t);
    return 0;
}

/* ----------------------------------------------------------- families */

static int find_family(const struct check *c, const char *name)
{
    for (int i = 0; i < c->nfam; i++)
        if (strcmp(c->fam[i].name, name) == 0)
            return i;
    return -1;
}

static int add_family(struct check *c, const char *name)
{
    int i = find_family(c, name);
    if (i >= 0)
        return i;
    if (c->nfam == c->capfam)
        c->fam = grow(c->fam, &c->capfam, sizeof *c->fam);
    struct family *f = &c->fam[c->nfam];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    return c->nfam++;
}

/* The family a sample name belongs to: NAME_bucket/_sum/_count belong to
 * NAME when NAME is typed histogram or summary. */
static int family_of(struct check *c, const char *name)
{
    static const char *const sfx[] = { "_bucket", "_sum", "_count" };
    for (size_t k = 0; k < 3; k++) {
        size_t n = strlen(name), m = strlen(sfx[k]);
        if (n <= m || strcmp(name + n - m, sfx[k]) != 0)
            continue;
        char base[256];
        snprintf(base, sizeof base, "%.*s", (int)(n - m), name);
        int i = find_family(c, base);
        if (i < 0)
            continue;
        bool histogram = strcmp(c->fam[i].type, "histogram") == 0;
        bool summary = strcmp(c->fam[i].type, "summary") == 0;
        if (histogram || (summary && k > 0))
            return i;
    }
    return add_family(c, name);
}

/* "# HELP name text" / "# TYPE name type"; other comments are ignored. */
static int parse_comment(struct check *c, const char *s)
{
    char name[256], kw[8];
    if (strncmp(s, "# HELP ", 7) != 0 && strncmp(s, "# TYPE ", 7) != 0)
        return 0;
    memcpy(kw, s + 2, 4);
    kw[4] = '\0';
    s += 7;
    if (lex_name(c, &s, name, sizeof name, true, "metric name") < 0)
        return -1;
    if (*s != ' ')
        return fail(c, "%s %s: missing text", kw, name);
    s++;
    int i = add_family(c, name);
    struct family *f = &c->fam[i];
    if (f->nsamples > 0)
        return fail(c, "%s %s after its samples", kw, name);
    if (kw[0] == 'H') {
        char text[MAX_LINE];
        if (f->help)
            return fail(c, "second HELP for %s", name);
        f->help = true;
        return lex_escaped(c, &s, '\0', "\\n", text, sizeof text);
    }
    if (f->type[0] != '\0')
        return fail(c, "second TYPE for %s", name);
    static const char *const types[] = { "counter", "gauge", "histogram",
                                         "summary", "untyped" };
    for (size_t k = 0; k < 5; k++)
        if (strcmp(s, types[k]) == 0) {
            snprintf(f->type, sizeof f->type, "%s", s);
            return 0;
        }
    return fail(c, "TYPE %s: unknown type '%s'", name, s);
}

/* ------------------------------------------------------------ samples */

struct label {
    char name[128];
    char value[MAX_LINE];
};

static int cmp_label(const void *a, const void *b)
{
    return strcmp(((const struct label *)a)->name,
                  ((const struct label *)b)->name);
}

/* Parses "{a="x",b="y"}" (trailing comma allowed) at *p into l[]. */
static int parse_labels(struct check *c, const char **p, struct label *l,
                        int *nl)
{
    const char *s = *p + 1;
    *nl = 0;
    while (*s != '}') {
        if (*nl == MAX_LABELS)
            return fail(c, "more than %d labels", MAX_LABELS);
        struct label *x = &l[*nl];
        if (lex_name(c, &s, x->name, sizeof x->name, false,
                     "label name") < 0)
            return -1;
        if (strncmp(x->name, "__", 2) == 0)
            return fail(c, "reserved label name %s", x->name);
        if (s[0] != '=' || s[1] != '"')
            return fail(c, "label %s: expected =\"", x->name);
        s += 2;
        if (lex_escaped(c, &s, '"', "\\\"n", x->value, sizeof x->value) < 0)
            return -1;
        s++;
        for (int k = 0; k < *nl; k++)
            if (strcmp(l[k].name, x->name) == 0)
                return fail(c, "label %s given twice", x->name);
        (*nl)++;
        if (*s == ',')
            s++;
        else if (*s != '}')
            return fail(c, "expected , or } after label %s", x->name);
    }
    *p = s + 1;
    return 0;
}

/* Builds the canonical series key: name{sorted labels}. */
static char *series_key(const char *name, struct label *l, int nl)
{
    qsort(l, (size_t)nl, sizeof *l, cmp_label);
    size_t cap = strlen(name) + 3;
    for (int i = 0; i < nl; i++)
        cap += strlen(l[i].name) + strlen(l[i].value) + 4;
    char *k = malloc(cap);
    if (k == NULL) {
        perror("promcheck");
        exit(2);
    }
    size_t o = (size_t)snprintf(k, cap, "%s{", name);
    for (int i = 0; i < nl; i++)
        o += (size_t)snprintf(k + o, cap - o, "%s%s=\"%s\"", i ? "," : "",
                              l[i].name, l[i].value);
    snprintf(k + o, cap - o, "}");
    return k;
}

/* Parses "name{labels} value [timestamp]" into its key and value text. */
static int split_sample(struct check *c, const char *s, char *name,
                        char **key, char *value, size_t vcap)
{
    struct label l[MAX_LABELS];         /* ~135 KiB of stack */
    int nl = 0;
    if (lex_name(c, &s, name, 256, true, "metric name") < 0)
        return -1;
    if (*s == '{' && parse_labels(c, &s, l, &nl) < 0)
        return -1;
    if (*s != ' ' && *s != '\t')
        return fail(c, "%s: expected a blank before the value", name);
    s += strspn(s, " \t");
    size_t n = strcspn(s, " \t");
    if (n == 0 || n >= vcap)
        return fail(c, "%s: missing value", name);
    memcpy(value, s, n);
    value[n] = '\0';
    s += n;
    s += strspn(s, " \t");
    if (*s != '\0' && lex_timestamp(c, s) < 0)
        return -1;
    *key = series_key(name, l, nl);
    return 0;
}

static int check_sample_rules(struct check *c, int fi, const char *name,
                              double v)
{
    struct family *f = &c->fam[fi];
    if (!f->help || f->type[0] == '\0')
        return fail(c, "%s: sample without HELP and TYPE lines", name);
    if (f->closed)
        return fail(c, "%s: samples of %s are not together", name, f->name);
    if (strcmp(f->type, "counter") == 0) {
        size_t n = strlen(f->name);
        if (n < 6 || strcmp(f->name + n - 6, "_total") != 0)
            return fail(c, "counter %s: name must end in _total", f->name);
        if (!(v >= 0) || isinf(v))
            return fail(c, "counter %s: value must be finite and >= 0",
                        f->name);
    }
    return 0;
}

static int parse_sample(struct check *c, const char *s)
{
    char name[256], value[64];
    char *key = NULL;
    double v;
    if (split_sample(c, s, name, &key, value, sizeof value) < 0 ||
        lex_value(c, value, &v) < 0)
        goto bad;
    int fi = family_of(c, name);
    if (check_sample_rules(c, fi, name, v) < 0)
        goto bad;
    for (int i = 0; i < c->nsmp; i++)
        if (strcmp(c->smp[i].key, key) == 0) {
            fail(c, "duplicate series %s", key);
            goto bad;
        }
    if (c->last >= 0 && c->last != fi)
        c->fam[c->last].closed = true;
    c->last = fi;
    c->fam[fi].nsamples++;
    if (c->nsmp == c->capsmp)
        c->smp = grow(c->smp, &c->capsmp, sizeof *c->smp);
    c->smp[c->nsmp].key = key;
    c->smp[c->nsmp].value = strdup(value);
    c->nsmp++;
    return 0;
bad:
    free(key);
    return -1;
}

/* --------------------------------------------------------------- file */

static int check_line(struct check *c, const char *s)
{
    if (s[0] == '\0')
        return 0;                       /* empty lines are allowed */
    if (s[0] == '#')
        return parse_comment(c, s);
    return parse_sample(c, s);
}

static int check_text(struct check *c, char *text, size_t len)
{
    if (memchr(text, '\0', len) != NULL)
        return fail(c, "NUL byte in file");
    if (len > 0 && text[len - 1] != '\n')
        return fail(c, "no newline at the end of the file");
    char *p = text;
    while (p < text + len) {
        char *nl = strchr(p, '\n');
        *nl = '\0';
        c->line++;
        if (strchr(p, '\r') != NULL)
            return fail(c, "carriage return in line");
        if (nl - p >= MAX_LINE)
            return fail(c, "line longer than %d bytes", MAX_LINE);
        if (check_line(c, p) < 0)
            return -1;
        p = nl + 1;
    }
    for (int i = 0; i < c->nfam; i++)
        if (c->fam[i].type[0] == '\0' || !c->fam[i].help)
            return fail(c, "family %s lacks HELP or TYPE", c->fam[i].name);
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "promcheck: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *b = realloc(buf, cap * 2 + 1);
        if (b == NULL)
            free(buf);
        buf = b;
        cap *= 2;
    }
    int bad = buf == NULL || ferror(f);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "promcheck: %s: read error\n", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Prints the value of the series written in query, or reports it missing. */
static int lookup(struct check *c, const char *query)
{
    char name[256], *key = NULL, value[64];
    char line[MAX_LINE + 8];
    snprintf(line, sizeof line, "%s 0", query);
    c->line = 0;
    c->file = "query";
    if (split_sample(c, line, name, &key, value, sizeof value) < 0) {
        fprintf(stderr, "promcheck: %s\n", c->err);
        return -1;
    }
    for (int i = 0; i < c->nsmp; i++)
        if (strcmp(c->smp[i].key, key) == 0) {
            printf("%s\n", c->smp[i].value);
            free(key);
            return 0;
        }
    fprintf(stderr, "promcheck: no series %s\n", query);
    free(key);
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: promcheck FILE [SERIES...]\n");
        return 2;
    }
    struct check c = { .file = argv[1], .last = -1 };
    size_t len;
    char *text = read_file(argv[1], &len);
    if (text == NULL)
        return 2;
    if (check_text(&c, text, len) < 0) {
        fprintf(stderr, "%s\n", c.err);
        return 1;
    }
    int rc = 0;
    if (argc == 2)
        printf("%s: ok, %d families, %d samples\n", argv[1], c.nfam, c.nsmp);
    for (int i = 2; i < argc; i++)
        if (lookup(&c, argv[i]) < 0)
            rc = 1;
    for (int i = 0; i < c.nsmp; i++) {
        free(c.smp[i].key);
        free(c.smp[i].value);
    }
    free(c.smp);
    free(c.fam);
    free(text);
    return rc;
}
