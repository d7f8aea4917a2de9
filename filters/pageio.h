/*
 * pageio.h — the I/O edge of the filter library: reading pages from image
 * files and writing them as one multi-page CCITT G4 TIFF.
 *
 * Readers take every page of a file in order.  Writers write to a temporary
 * name in the target's directory and rename it into place on commit, so a
 * failed run never leaves a partial file under the target name.
 */
#ifndef SPOOLD_PAGEIO_H
#define SPOOLD_PAGEIO_H

#include "chain.h"
#include "page.h"

struct page_reader;
struct page_writer;

/* Opens an image file (format detected from its content, not its name):
 * TIFF (bilevel in any compression libtiff decodes, strips or tiles; 8/16-bit
 * grey, palette and RGB binarized with o->binarize), PBM/PGM/PPM (P1-P6,
 * several images per file allowed) and PNG.  Pages larger than
 * o->max_pixels are refused before anything of their size is allocated.
 * With o->no_follow a symbolic link is refused (O_NOFOLLOW); a FIFO or a
 * device is always refused, without blocking. */
int page_reader_open(struct page_reader **rd, const char *path,
                     const struct read_opts *o, errbuf *e);

/* The same on an open, seekable descriptor (which stays the caller's; the
 * reader works on a duplicate that shares its file offset, so do not read
 * from fd or open a second reader on it while this one is open).  name is
 * used in messages only. */
int page_reader_open_fd(struct page_reader **rd, int fd, const char *name,
                        const struct read_opts *o, errbuf *e);

/* "TIFF", "PNM" or "PNG". */
const char *page_reader_format(const struct page_reader *rd);

/* Number of pages in the file. */
int page_reader_count(const struct page_reader *rd);

/* Reads page `index` (0-based) into *pg (which must not own a buffer).
 * On failure *e holds the reason without file name or page number. */
int page_reader_read(struct page_reader *rd, int index, page *pg, errbuf *e);

void page_reader_close(struct page_reader *rd);

/* Starts a multi-page G4 TIFF that will appear at `path` on commit.  The
 * temporary file is `.BASENAME.XXXXXX` in path's directory (dot-prefixed so
 * that directory scanners can skip it), created with mode 0666 & ~umask. */
int page_writer_open(struct page_writer **wr, const char *path, errbuf *e);

/* Appends one page (resolution preserved). */
int page_writer_add(struct page_writer *wr, const page *pg, errbuf *e);

/* Flushes, fsyncs, closes and renames into place, then fsyncs the
 * directory (a filesystem that cannot sync directories, such as some FUSE
 * ones, is not an error); frees wr in every case.  On failure before the
 * rename the temporary file is removed and nothing appears at path. */
int page_writer_commit(struct page_writer *wr, errbuf *e);

/* Removes the temporary file and frees wr. */
void page_writer_abort(struct page_writer *wr);

#endif
