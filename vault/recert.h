/*
 * Internal to libbgvault: the RACI as a jansson object, for the reports
 * (report.c) that carry it.  Not a public header.
 */
#ifndef BG_RECERT_H
#define BG_RECERT_H

#include <jansson.h>

#include "breakglass/vault.h"

/* *outp: a new reference (the object bg_vault_raci_json prints). */
int bg_raci_to_json(const bg_vault_raci_t *r, json_t **outp);

#endif /* BG_RECERT_H */
