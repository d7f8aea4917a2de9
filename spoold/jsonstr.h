/*
 * jsonstr.h — writing a C string as a JSON string, shared by the pack
 * report (pipeline.c) and the publish step's check of whose report an
 * existing output holds (spoolpub.c).  Both must escape alike.
 */
#ifndef SPOOLD_JSONSTR_H
#define SPOOLD_JSONSTR_H

#include <stddef.h>
#include <stdio.h>

/* Writes s to fp as a JSON string (with its quotes).  Bytes that are not
 * UTF-8 become \ufffd; '"', '\\' and control bytes are escaped. */
void json_put_str(FILE *fp, const char *s);

/* The first bytes of a pack report: {"pack":<s as a JSON string>,
 * into buf (NUL-terminated).  Returns its length, or -1 if it does not fit
 * (cap >= 6 * strlen(s) + 12 always fits). */
int json_report_head(const char *pack, char *buf, size_t cap);

#endif
