/*
 * jsoncheck.h — a strict JSON (RFC 8259) validator for tests: used by the
 * unit tests of the report format and by tests/tools/jsonlcheck.c, which
 * checks JSON Lines files in integration tests (no python3 or jq needed).
 *
 * json_check(text, len, &err) returns 0 when text is exactly one JSON value
 * (surrounding white space allowed), or -1 with err pointing at the first
 * offending character.  Nesting is limited to 64 levels.
 */
#ifndef SPOOLD_JSONCHECK_H
#define SPOOLD_JSONCHECK_H

#include <stddef.h>
#include <string.h>

struct json_cursor {
    const char *p, *end;
    int depth;
};

static inline void json_ws(struct json_cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' ||
                             *c->p == '\r'))
        c->p++;
}

static inline int json_is_digit(struct json_cursor *c)
{
    return c->p < c->end && *c->p >= '0' && *c->p <= '9';
}

static inline int json_number(struct json_cursor *c)
{
    if (c->p < c->end && *c->p == '-')
        c->p++;
    if (!json_is_digit(c))
        return -1;
    if (*c->p == '0')
        c->p++;
    else
        while (json_is_digit(c))
            c->p++;
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (!json_is_digit(c))
            return -1;
        while (json_is_digit(c))
            c->p++;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (!json_is_digit(c))
            return -1;
        while (json_is_digit(c))
            c->p++;
    }
    return 0;
}

static inline int json_string(struct json_cursor *c)
{
    if (c->p >= c->end || *c->p != '"')
        return -1;
    c->p++;
    while (c->p < c->end && *c->p != '"') {
        unsigned char ch = (unsigned char)*c->p;
        if (ch < 0x20)
            return -1;
        if (ch == '\\') {
            c->p++;
            if (c->p >= c->end)
                return -1;
            if (*c->p == 'u') {
                for (int i = 0; i < 4; i++) {
                    c->p++;
                    if (c->p >= c->end || !strchr("0123456789abcdefABCDEF", *c->p))
                        return -1;
                }
            } else if (!strchr("\"\\/bfnrt", *c->p)) {
                return -1;
            }
        }
        c->p++;
    }
    if (c->p >= c->end)
        return -1;
    c->p++;
    return 0;
}

static inline int json_value(struct json_cursor *c);

static inline int json_members(struct json_cursor *c, char close, int keyed)
{
    c->p++;
    json_ws(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return 0;
    }
    for (;;) {
        json_ws(c);
        if (keyed) {
            if (json_string(c) < 0)
                return -1;
            json_ws(c);
            if (c->p >= c->end || *c->p != ':')
                return -1;
            c->p++;
        }
        if (json_value(c) < 0)
            return -1;
        json_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == close) {
            c->p++;
            return 0;
        }
        return -1;
    }
}

static inline int json_value(struct json_cursor *c)
{
    json_ws(c);
    if (c->p >= c->end)
        return -1;
    int rc;
    switch (*c->p) {
    case '{':
    case '[':
        if (++c->depth > 64)
            return -1;
        rc = json_members(c, *c->p == '{' ? '}' : ']', *c->p == '{');
        c->depth--;
        return rc;
    case '"':
        return json_string(c);
    case 't':
    case 'f':
    case 'n': {
        const char *w = *c->p == 't' ? "true" : *c->p == 'f' ? "false" : "null";
        size_t n = strlen(w);
        if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
            return -1;
        c->p += n;
        return 0;
    }
    default:
        return json_number(c);
    }
}

static inline int json_check(const char *text, size_t len, const char **err)
{
    struct json_cursor c = { text, text + len, 0 };
    int rc = json_value(&c);
    if (rc == 0) {
        json_ws(&c);
        if (c.p != c.end)
            rc = -1;
    }
    if (err)
        *err = c.p;
    return rc;
}

#endif
