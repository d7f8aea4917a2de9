/*
 * admit.c — admission arithmetic and the few /proc and statvfs reads it
 * needs (see admit.h).
 */
#include "admit.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "config.h"

int admit_parse_meminfo(const char *text, uint64_t *avail, errbuf *e)
{
    const char *p = text;
    while (p != NULL && *p != '\0') {
        if (strncmp(p, "MemAvailable:", 13) == 0) {
            char *end;
            errno = 0;
            unsigned long long kb = strtoull(p + 13, &end, 10);
            while (*end == ' ' || *end == '\t')
                end++;
            if (errno != 0 || end == p + 13 || strncmp(end, "kB", 2) != 0 ||
                kb > UINT64_MAX / 1024)
                return err_set(e, "meminfo: malformed MemAvailable line");
            *avail = (uint64_t)kb * 1024;
            return 0;
        }
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return err_set(e, "meminfo: no MemAvailable line (kernel older than 3.14?)");
}

int admit_mem_available(const char *path, uint64_t *avail, errbuf *e)
{
    if (path == NULL)
        path = "/proc/meminfo";
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return err_errno(e, errno, "%s", path);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    int rerr = ferror(fp) ? errno : 0;
    fclose(fp);
    if (rerr != 0)
        return err_errno(e, rerr, "%s: read error", path);
    buf[n] = '\0';
    return admit_parse_meminfo(buf, avail, e);
}

int admit_disk_free(const char *dir, uint64_t *bytes, errbuf *e)
{
    struct statvfs vs;
    if (statvfs(dir, &vs) < 0)
        return err_errno(e, errno, "statvfs %s", dir);
    *bytes = (uint64_t)vs.f_bavail * (uint64_t)vs.f_frsize;
    return 0;
}

uint64_t admit_rss(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/statm", (long)pid);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return 0;
    unsigned long long size, resident;
    int n = fscanf(fp, "%llu %llu", &size, &resident);
    fclose(fp);
    long pg = sysconf(_SC_PAGESIZE);
    if (n != 2 || pg <= 0)
        return 0;
    return (uint64_t)resident * (uint64_t)pg;
}

uint64_t admit_estimate(uint64_t max_page_pixels, int threads,
                        uint64_t memory_limit)
{
    if (max_page_pixels == 0)
        max_page_pixels = ADMIT_DEFAULT_PX;
    if (threads < 1)
        threads = 1;
    uint64_t page_bytes = max_page_pixels / 8 + (max_page_pixels % 8 != 0);
    uint64_t need = ADMIT_BASE_BYTES;
    uint64_t per = page_bytes * ADMIT_PAGE_COPIES;
    if (per / ADMIT_PAGE_COPIES != page_bytes ||
        per > (UINT64_MAX - need) / (uint64_t)threads)
        need = UINT64_MAX;
    else
        need += per * (uint64_t)threads;
    if (memory_limit != 0 && need > memory_limit)
        need = memory_limit;
    return need;
}

bool admit_ok(const struct admit_input *in, char *why, size_t len)
{
    char a[16], b[16], c[16], d[16];
    uint64_t used = in->mem_reserved + in->need;
    if (used < in->need || in->mem_available < used ||
        in->mem_available - used < in->min_free_memory) {
        snprintf(why, len, "memory: MemAvailable %s, pack needs ~%s, "
                 "running workers ~%s more, min_free_memory %s",
                 conf_format_size(in->mem_available, a, sizeof a),
                 conf_format_size(in->need, b, sizeof b),
                 conf_format_size(in->mem_reserved, c, sizeof c),
                 conf_format_size(in->min_free_memory, d, sizeof d));
        return false;
    }
    if (in->disk_free < in->out_bytes ||
        in->disk_free - in->out_bytes < in->min_free_disk) {
        snprintf(why, len, "disk: %s free on the output file system, pack "
                 "~%s, min_free_disk %s",
                 conf_format_size(in->disk_free, a, sizeof a),
                 conf_format_size(in->out_bytes, b, sizeof b),
                 conf_format_size(in->min_free_disk, c, sizeof c));
        return false;
    }
    if (len > 0)
        why[0] = '\0';
    return true;
}
