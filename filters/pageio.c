/*
 * pageio.c — the format-independent half of page reading: opens the file,
 * recognises its format by its first bytes (never by its name) and hands it
 * to the TIFF, PNM or PNG reader.
 */
#include "pageio_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum format { FMT_UNKNOWN, FMT_TIFF, FMT_PNM, FMT_PNG };

static enum format sniff(const unsigned char *b, size_t n)
{
    static const unsigned char png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    if (n >= 4 && ((b[0] == 'I' && b[1] == 'I' && (b[2] == 42 || b[2] == 43) && b[3] == 0) ||
                   (b[0] == 'M' && b[1] == 'M' && b[2] == 0 && (b[3] == 42 || b[3] == 43))))
        return FMT_TIFF;
    if (n >= 8 && memcmp(b, png, 8) == 0)
        return FMT_PNG;
    if (n >= 3 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6' &&
        (b[2] == ' ' || b[2] == '\t' || b[2] == '\n' || b[2] == '\r' ||
         b[2] == '\v' || b[2] == '\f' || b[2] == '#'))
        return FMT_PNM;
    return FMT_UNKNOWN;
}

/* Reads the first bytes of fd (at offset 0) and classifies them. */
static int detect(int fd, enum format *fmt, errbuf *e)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return err_errno(e, errno, "cannot stat");
    if (S_ISDIR(st.st_mode))
        return err_set(e, "is a directory");
    if (!S_ISREG(st.st_mode))
        return err_set(e, "not a regular file");
    if (st.st_size == 0)
        return err_set(e, "empty file");
    unsigned char magic[8];
    ssize_t n;
    do
        n = pread(fd, magic, sizeof magic, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return err_errno(e, errno, "cannot read");
    *fmt = sniff(magic, (size_t)n);
    if (*fmt == FMT_UNKNOWN)
        return err_set(e, "not an image file (not TIFF, PNG or PNM)");
    return 0;
}

int page_reader_open_fd(struct page_reader **out, int fd, const char *name,
                        const struct read_opts *o, errbuf *e)
{
    *out = NULL;
    enum format fmt = FMT_UNKNOWN;
    if (detect(fd, &fmt, e) < 0)
        return -1;
    struct page_reader *rd = calloc(1, sizeof *rd);
    if (rd == NULL)
        return err_set(e, "out of memory");
    int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) {
        free(rd);
        return err_errno(e, errno, "cannot duplicate descriptor");
    }
    int rc = fmt == FMT_TIFF ? tiff_reader_open(rd, own, name, o, e)
           : fmt == FMT_PNG  ? png_reader_open(rd, own, name, o, e)
           :                   pnm_reader_open(rd, own, name, o, e);
    if (rc < 0) {
        free(rd);
        return -1;
    }
    *out = rd;
    return 0;
}

int page_reader_open(struct page_reader **out, const char *path,
                     const struct read_opts *o, errbuf *e)
{
    *out = NULL;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is then
     * refused as not a regular file); reads of regular files ignore it */
    int fl = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    if (o != NULL && o->no_follow)
        fl |= O_NOFOLLOW;
    int fd = open(path, fl);
    if (fd < 0)
        return err_errno(e, errno, errno == ELOOP && (fl & O_NOFOLLOW)
                         ? "cannot open (a symbolic link)" : "cannot open");
    int rc = page_reader_open_fd(out, fd, path, o, e);
    close(fd);  /* read-only; the reader holds its own duplicate */
    return rc;
}

int page_reader_count(const struct page_reader *rd)
{
    return rd->npages;
}

const char *page_reader_format(const struct page_reader *rd)
{
    return rd->ops->format;
}

int page_reader_read(struct page_reader *rd, int index, page *pg, errbuf *e)
{
    memset(pg, 0, sizeof *pg);
    if (index < 0 || index >= rd->npages)
        return err_set(e, "no page %d (the file has %d)", index + 1,
                       rd->npages);
    return rd->ops->read(rd->impl, index, pg, e);
}

void page_reader_close(struct page_reader *rd)
{
    if (rd == NULL)
        return;
    rd->ops->close(rd->impl);
    free(rd);
}
