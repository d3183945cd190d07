/*
 * How the store keeps the model's nested parts (grants, policies) in one
 * column: compact JSON with a fixed key order. Shared by every store
 * implementation so their rows read the same.
 */
#ifndef FIRMA_STORE_CODEC_H
#define FIRMA_STORE_CODEC_H

#include "firma/errors.h"
#include "firma/model.h"

/* Heap strings; the caller frees them. */
char *fm__grants_encode(const fm_grant *g, size_t n);
char *fm__policies_encode(const fm_policies *p);
/* Fill `out` from `json`; FM_ESTORE with a message if the column is damaged. */
int fm__grants_decode(const char *json, fm_grant **out, size_t *n, fm_error *err);
int fm__policies_decode(const char *json, fm_policies *out, fm_error *err);

#endif
