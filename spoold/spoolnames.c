/*
 * spoolnames.c — the names of the spool: node names, ignored names, claim
 * names (P@N, P@N+K, P@+K parsed from the last '@'), output base names,
 * server-time formatting and one-line reasons.  Pure functions, no I/O.
 */
#include "spoolint.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

spool_ns spool_ns_from_s(double seconds)
{
    return (spool_ns)(seconds * 1e9 + (seconds >= 0 ? 0.5 : -0.5));
}

spool_ns spool_ns_mtime(const struct stat *st)
{
    return (spool_ns)st->st_mtim.tv_sec * SPOOL_NS_PER_S + st->st_mtim.tv_nsec;
}

bool spool_node_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > SPOOL_NODE_MAX || name[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!(isascii(c) && isalnum(c)) && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

bool spool_name_ignored(const char *name)
{
    return name[0] == '\0' || name[0] == '.' || ends_with(name, ".part") ||
           ends_with(name, ".tmp");
}

/* Parses a canonical attempt number: digits, no leading zero (except "0"
 * itself), <= SPOOL_ATTEMPT_MAX.  -1 if malformed. */
static int parse_attempt(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 6 || (n > 1 && s[0] == '0'))
        return -1;
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        k = k * 10 + (s[i] - '0');
    }
    return k;
}

static bool pack_name_ok(const char *p, size_t n)
{
    return n >= 1 && n <= SPOOL_PACK_MAX && p[0] != '.' &&
           memchr(p, '/', n) == NULL;
}

/*
 * spool_claim_parse — split "P@SUFFIX" at the last '@'.  SUFFIX is
 * "+K" (released, K >= 0), "N" (attempt 1) or "N+K" (K >= 2).  Only the
 * canonical form is accepted, so parse and format are inverse.
 */
int spool_claim_parse(const char *name, struct spool_claim *c)
{
    memset(c, 0, sizeof *c);
    const char *at = strrchr(name, '@');
    if (at == NULL || !pack_name_ok(name, (size_t)(at - name)))
        return -1;
    const char *suf = at + 1;
    const char *plus = strchr(suf, '+');
    size_t nodelen = plus ? (size_t)(plus - suf) : strlen(suf);
    if (nodelen > SPOOL_NODE_MAX)
        return -1;
    memcpy(c->node, suf, nodelen);
    c->node[nodelen] = '\0';
    if (nodelen > 0 && !spool_node_name_ok(c->node))
        return -1;
    if (plus == NULL) {
        if (nodelen == 0)
            return -1;
        c->attempt = 1;
    } else {
        c->attempt = parse_attempt(plus + 1);
        if (c->attempt < 0 || (nodelen > 0 && c->attempt < 2))
            return -1;
    }
    memcpy(c->pack, name, (size_t)(at - name));
    c->pack[at - name] = '\0';
    return 0;
}

int spool_claim_format(const struct spool_claim *c, char *buf, size_t cap)
{
    size_t plen = strnlen(c->pack, sizeof c->pack);
    if (!pack_name_ok(c->pack, plen) || plen == sizeof c->pack)
        return -1;
    if (c->attempt < 0 || c->attempt > SPOOL_ATTEMPT_MAX)
        return -1;
    int n;
    if (c->node[0] == '\0')
        n = snprintf(buf, cap, "%s@+%d", c->pack, c->attempt);
    else if (!spool_node_name_ok(c->node) || c->attempt < 1)
        return -1;
    else if (c->attempt == 1)
        n = snprintf(buf, cap, "%s@%s", c->pack, c->node);
    else
        n = snprintf(buf, cap, "%s@%s+%d", c->pack, c->node, c->attempt);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    return n;
}

int spool_output_base(const char *pack, bool is_dir, char *buf, size_t cap)
{
    size_t n = strlen(pack);
    if (!is_dir) {
        if (n > 4 && strcasecmp(pack + n - 4, ".tif") == 0)
            n -= 4;
        else if (n > 5 && strcasecmp(pack + n - 5, ".tiff") == 0)
            n -= 5;
    }
    if (n == 0 || pack[0] == '.' || n + 1 > cap || memchr(pack, '/', n))
        return -1;
    memcpy(buf, pack, n);
    buf[n] = '\0';
    return (int)n;
}

void sp_format_time(spool_ns t, char *buf, size_t cap)
{
    time_t s = (time_t)(t / SPOOL_NS_PER_S);
    struct tm tm;
    if (gmtime_r(&s, &tm) == NULL || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, cap, "@%lld", (long long)s);
}

void sp_one_line(const char *s, char *buf, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    buf[i] = '\0';
}
