/*
 * jsonlcheck.c — checks that a file is valid JSON Lines: every line one
 * JSON object.  For integration tests (the report of spoolfilter), so that
 * they need neither python3 nor jq.
 *
 *   jsonlcheck [-n LINES] [FILE]     (stdin when FILE is absent or '-')
 *
 * Exit 0 if valid (and, with -n, exactly LINES lines), 1 otherwise with the
 * line number and column of the first error on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/jsoncheck.h"

int main(int argc, char **argv)
{
    long want = -1;
    int argi = 1;
    if (argi + 1 < argc && strcmp(argv[argi], "-n") == 0) {
        want = strtol(argv[argi + 1], NULL, 10);
        argi += 2;
    }
    const char *name = argi < argc ? argv[argi] : "-";
    FILE *f = strcmp(name, "-") == 0 ? stdin : fopen(name, "r");
    if (f == NULL) {
        perror(name);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lines = 0;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lines++;
        if (n == 0 || line[n - 1] != '\n') {
            fprintf(stderr, "%s:%ld: line does not end with a newline\n", name, lines);
            rc = 1;
            break;
        }
        const char *err;
        if (line[0] != '{' || json_check(line, (size_t)n - 1, &err) < 0) {
            fprintf(stderr, "%s:%ld:%ld: not a JSON object\n", name, lines,
                    line[0] != '{' ? 1L : (long)(err - line) + 1);
            rc = 1;
            break;
        }
    }
    free(line);
    if (f != stdin)
        fclose(f);
    if (rc == 0 && want >= 0 && lines != want) {
        fprintf(stderr, "%s: %ld lines, expected %ld\n", name, lines, want);
        rc = 1;
    }
    return rc;
}
