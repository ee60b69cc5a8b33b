/*
 * units.h - trace-server's side of SPEC section 12 (issued serials and
 * scratch-off codes): the store calls (store_units.c), the two handlers
 * and what the unit page and the unit JSON add (units.c).
 */
#ifndef TRACE_SERVER_UNITS_H
#define TRACE_SERVER_UNITS_H

#include <stdbool.h>
#include <stddef.h>

#include "libtrace/units.h"
#include "clientaddr.h"
#include "pages.h"
#include "server.h"

/* SPEC 12 limits on wrong entries, per hour. */
#define UNITS_WRONG_PER_SERIAL_CLIENT 5
#define UNITS_WRONG_PER_SERIAL 1000
#define UNITS_WRONG_PER_CLIENT 30
#define UNITS_WINDOW_SECONDS 3600
/* A copied label: the first correct entry is older than this when the
 * code is entered again. */
#define UNITS_COPY_AFTER_SECONDS (24 * 3600)
/* A codes upload's body: UNITS_UPLOAD_MAX pairs of about 100 bytes. */
#define UNITS_BODY_MAX (32 * 1024 * 1024)

/* ---- store_units.c ------------------------------------------------------ */

/*
 * Store the MACs of serials[0..n) (mac: n * 32 bytes) for chain, and the
 * sorted serial set set[0..set_count) under root_hex unless one is there.
 * All or nothing: *conflict (with the first such serial copied to
 * conflict_serial) if any serial has another code already.
 */
enum trace_status store_unit_codes_put(struct store *s, const char *chain,
    const char *const *serials, const unsigned char *mac, size_t n,
    const char *const *set, size_t set_count, const char *root_hex,
    bool *conflict, char conflict_serial[GS1_ATTR_MAX + 1],
    struct trace_error *err);

/* The same check without writing: *conflict if a serial has another
 * code (its MAC differs; the same MAC again is a resubmission). */
enum trace_status store_unit_codes_check(struct store *s, const char *chain,
    const char *const *serials, const unsigned char *mac, size_t n,
    bool *conflict, char conflict_serial[GS1_ATTR_MAX + 1],
    struct trace_error *err);

enum unit_check_outcome {
	UNIT_CHECK_NO_CODE,
	UNIT_CHECK_LIMITED,
	UNIT_CHECK_VALID,
	UNIT_CHECK_WRONG,
};

struct unit_check {
	enum unit_check_outcome outcome;
	long long retry_after;           /* LIMITED: seconds */
	bool first;                      /* VALID: this was the first */
	long long first_verified;        /* VALID: unix seconds */
};

/* One code entry, atomically (store.lua unit_code_check). */
enum trace_status store_unit_code_check(struct store *s, const char *chain,
    const char *serial, const unsigned char mac[32], const char *client,
    long long now, struct unit_check *out, struct trace_error *err);

/* A serial set as stored: count strings, one malloc'd block. */
struct unit_serial_set {
	char **serials;
	size_t count;
};

/*
 * Whether serial has a code, and for each of roots_hex[0..nroots) its
 * stored serial set (count 0 if none), into sets (nroots entries the
 * caller clears with store_unit_sets_clear).
 */
enum trace_status store_unit_read(struct store *s, const char *chain,
    const char *serial, const char *const *roots_hex, size_t nroots,
    bool *has_code, struct unit_serial_set *sets, struct trace_error *err);

void store_unit_sets_clear(struct unit_serial_set *sets, size_t n);

/* ---- unitsets.c: root sets kept in memory ------------------------------- */

struct unit_set_entry;

/* The kept set (chain, root hex) with a reference, or NULL. */
const struct unit_set_entry *unit_set_get(const char *chain,
    const char *root_hex);

/*
 * Build the set from its stored serials (taken: *stored is emptied), keep
 * it if its root is root_hex, and return a reference; NULL if the root
 * differs or memory ran out.
 */
const struct unit_set_entry *unit_set_build(const char *chain,
    const char *root_hex, struct unit_serial_set *stored);

const struct units_tree *unit_set_tree(const struct unit_set_entry *e);

/* Drop a reference (accepts NULL). */
void unit_set_release(const struct unit_set_entry *e);

/* ---- units.c ------------------------------------------------------------ */

/* Read the pepper file (0600, at least 32 bytes); false with a message on
 * stderr if it is missing, short, or readable by group or others. */
bool units_load_pepper(const char *path, unsigned char *pepper,
    size_t *len);

/* POST /api/v1/codes/01/{gtin}/10/{lot} */
void units_handle_upload(struct request *req);
/* POST /01/{gtin}/10/{lot}/21/{serial}/code */
void units_handle_code(struct request *req);

/* What a unit page and the unit JSON know about a serial of view. */
struct unit_facts {
	enum fold_issued_answer issued;
	bool has_code;
	struct units_proof *proofs;      /* one per root set with a list */
	size_t proof_count;
};

/* Has the lot a codes.issued statement (so some serial may have a code)? */
bool units_lot_has_codes(const struct chain_view *view);

/* Read them (one store round trip when the lot has codes or a root set
 * not held in memory).  The caller clears facts with unit_facts_clear. */
enum trace_status unit_facts_load(struct request *req,
    const struct chain_view *view, struct unit_facts *facts,
    struct trace_error *err);
void unit_facts_clear(struct unit_facts *facts);

/* The unit page's card: "never issued", the code form. */
void units_card(struct buf *b, enum page_lang lang,
    const struct chain_view *view, const struct unit_facts *facts);

/* ,"serialIssued":...,"serialProofs":[...] for the unit JSON. */
void units_write_json(struct buf *b, const struct unit_facts *facts);

#endif
