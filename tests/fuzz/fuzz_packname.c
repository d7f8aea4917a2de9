/*
 * fuzz_packname.c — libFuzzer target for the spool's name and heartbeat
 * parsers.  Properties checked (abort on violation):
 *  - spool_claim_parse accepts only canonical names: format(parse(s)) == s;
 *    the pack part never starts with '.', the node part is a valid node;
 *  - any pack/node split of the input that formats, parses back to the
 *    same pack, node and attempt (names with '@', '+', newlines, bytes);
 *  - spool_output_base never yields an empty or hidden name;
 *  - spool_heartbeat_parse never crashes; what it accepts formats and
 *    parses back to the same counters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_claim_name(const char *s)
{
    struct spool_claim c;
    char buf[SPOOL_CLAIM_NAME_MAX + 1];
    if (spool_claim_parse(s, &c) < 0)
        return;
    if (c.pack[0] == '.' || c.pack[0] == '\0' ||
        (c.node[0] && !spool_node_name_ok(c.node)))
        abort();
    if (spool_claim_format(&c, buf, sizeof buf) < 0 || strcmp(buf, s) != 0)
        abort();
}

/* Splits s at its first byte 0x01 into pack and node, attempt from the
 * first byte, and checks format -> parse. */
static void check_split(const uint8_t *data, size_t size, const char *s)
{
    struct spool_claim c = {0}, back;
    const char *sep = strchr(s, '\x01');
    size_t plen = sep ? (size_t)(sep - s) : strlen(s);
    if (plen >= sizeof c.pack)
        return;
    memcpy(c.pack, s, plen);
    if (sep && strlen(sep + 1) < sizeof c.node)
        strcpy(c.node, sep + 1);
    c.attempt = size ? data[0] % 7 : 1;
    char buf[SPOOL_CLAIM_NAME_MAX + 1];
    if (spool_claim_format(&c, buf, sizeof buf) < 0)
        return;
    if (spool_claim_parse(buf, &back) < 0 || strcmp(back.pack, c.pack) != 0 ||
        strcmp(back.node, c.node) != 0 || back.attempt != c.attempt)
        abort();
}

static void check_heartbeat(const uint8_t *data, size_t size)
{
    struct spool_heartbeat hb, back;
    errbuf e;
    if (spool_heartbeat_parse((const char *)data, size, &hb, &e) < 0)
        return;
    char buf[SPOOL_HEARTBEAT_MAX * 2];
    int n = spool_heartbeat_format(&hb, buf, sizeof buf, &e);
    if (n < 0)
        return;             /* e.g. a '\r' in a string field */
    if (spool_heartbeat_parse(buf, (size_t)n, &back, &e) < 0)
        abort();
    if (back.pid != hb.pid || back.pages_done != hb.pages_done ||
        back.bytes_done != hb.bytes_done || back.workers != hb.workers ||
        strcmp(back.node, hb.node) != 0 || strcmp(back.note, hb.note) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';         /* names end at the first NUL, as in a dirent */
    check_claim_name(s);
    check_split(data, size, s);
    char base[256];
    if (spool_output_base(s, size % 2, base, sizeof base) >= 0 &&
        (base[0] == '\0' || base[0] == '.'))
        abort();
    (void)spool_name_ignored(s);
    (void)spool_node_name_ok(s);
    check_heartbeat(data, size);
    free(s);
    return 0;
}
