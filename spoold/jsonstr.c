/*
 * jsonstr.c — a C string as a JSON string (see jsonstr.h).
 */
#include "jsonstr.h"

#include <stdbool.h>
#include <string.h>

/* Length of the UTF-8 sequence at p (1..4), or 0 if it is not one. */
static int utf8_len(const unsigned char *p)
{
    int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 :
            (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0 || (n == 2 && *p < 0xc2))
        return 0;
    for (int k = 1; k < n; k++)
        if ((p[k] & 0xc0) != 0x80)
            return 0;
    return n;
}

void json_put_str(FILE *fp, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', fp);
    while (*p != '\0') {
        int n = utf8_len(p);
        if (n == 0) {
            fputs("\\ufffd", fp);
            p++;
        } else if (n > 1) {
            fwrite(p, 1, (size_t)n, fp);
            p += n;
        } else {
            if (*p == '"' || *p == '\\')
                fprintf(fp, "\\%c", *p);
            else if (*p < 0x20 || *p == 0x7f)
                fprintf(fp, "\\u%04x", *p);
            else
                fputc(*p, fp);
            p++;
        }
    }
    fputc('"', fp);
}

int json_report_head(const char *pack, char *buf, size_t cap)
{
    if (cap == 0)
        return -1;
    FILE *fp = fmemopen(buf, cap, "w");
    if (fp == NULL)
        return -1;
    fputs("{\"pack\":", fp);
    json_put_str(fp, pack);
    fputc(',', fp);
    long n = ftell(fp);
    bool bad = ferror(fp) != 0;
    if (fclose(fp) != 0 || bad || n < 0 || (size_t)n >= cap)
        return -1;
    buf[n] = '\0';
    return (int)n;
}
