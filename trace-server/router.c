/*
 * router.c - the route table: every path trace-server answers, the
 * methods each allows, the handler that answers it and the label its
 * requests are counted under, in one place (Redis's command table and
 * kcgi's page array are the models).  It is also the map of where each
 * behaviour lives: each row names its handler's file.
 *
 * Owns dispatch: the first row whose path matches takes the request; a
 * method the row does not allow is answered 405 with Allow here, before any
 * handler runs, so no handler checks its method.  Paths are matched raw
 * (civetweb runs with decode_url=no), so "%2F" inside a lot stays data.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "admission.h"
#include "log.h"
#include "monotonic.h"
#include "pages.h"
#include "recalls.h"
#include "server.h"
#include "units.h"

enum route_match {
	MATCH_EXACT,        /* the path is the pattern */
	MATCH_UNDER,        /* the pattern ends in '/': the path starts with
	                       it, whatever follows (even nothing) */
	MATCH_SEGMENT,      /* the path is the pattern, or continues with '/' */
	MATCH_COMPRESSED,   /* "/" and one segment of URI-safe base64: a
	                       compressed Digital Link (pattern unused) */
	MATCH_UNDER_CODE,   /* starts with the pattern and ends in "/code":
	                       a unit's code entry (SPEC 12) */
};

/* Methods as bits.  civetweb refuses methods it does not know (400)
 * before the router sees them; the others it knows (WebDAV's among them)
 * are METHOD_OTHER. */
enum {
	METHOD_GET = 1u << 0,
	METHOD_HEAD = 1u << 1,
	METHOD_POST = 1u << 2,
	METHOD_PUT = 1u << 3,
	METHOD_DELETE = 1u << 4,
	METHOD_PATCH = 1u << 5,
	METHOD_OPTIONS = 1u << 6,
	METHOD_OTHER = 1u << 7,
	/* Rows whose handlers never looked at the method: every method gets
	 * the handler's answer, as before the table (issue 16 changes no
	 * answer but 400 method_not_allowed, now 405). */
	METHOD_ANY = (1u << 8) - 1,
	/* Not a method: read-only data any origin may fetch (SPEC 10).
	 * GET and HEAD answers get Access-Control-Allow-Origin: *, OPTIONS
	 * a preflight answer.  Never on a row whose handler writes on GET. */
	CROSS_ORIGIN = 1u << 8,
};

struct route {
	unsigned methods;
	enum route_match match;
	const char *path;
	void (*handler)(struct request *req);
	const char *name;                /* metrics label */
};

#define GET_HEAD (METHOD_GET | METHOD_HEAD)
/* Digital Link URIs: GS1-Conformant Resolver 1.2 wants OPTIONS too. */
#define RESOLVER_METHODS (METHOD_GET | METHOD_HEAD | METHOD_OPTIONS)

/*
 * Order matters only where paths overlap: the compressed Digital Link row
 * matches any one-segment path of base64 letters, so it comes last.  A row's methods
 * are what its handler answered before the table existed: GET and HEAD
 * for reads, but GET alone where HEAD was refused (the key registry, the
 * recall stream).  Each row: methods, match, path; handler, label; the
 * handler's file.
 */
static const struct route routes[] = {
	{ METHOD_POST, MATCH_EXACT, "/api/v1/events",
	    ingest_handle_events, "events" },                   /* ingest.c */
	{ METHOD_ANY | CROSS_ORIGIN, MATCH_UNDER, "/api/v1/events/",
	    chains_handle_event, "event" },                     /* chains.c */
	{ GET_HEAD | CROSS_ORIGIN, MATCH_UNDER, "/api/v1/chains/",
	    chains_handle_chain, "chain" },                     /* chains.c */
	{ METHOD_GET | CROSS_ORIGIN, MATCH_EXACT, "/api/v1/recalls/stream",
	    recalls_handle_stream, "recalls_stream" },          /* recallstream.c */
	{ GET_HEAD | CROSS_ORIGIN, MATCH_EXACT, "/api/v1/recalls",
	    recalls_handle_list, "recalls" },                   /* recalls.c */
	{ GET_HEAD, MATCH_EXACT, "/recalls",
	    recalls_handle_board, "recall_board" },             /* recallboard.c */
	{ GET_HEAD | CROSS_ORIGIN, MATCH_EXACT, "/api/v1/epcis/events",
	    epcis_handle_events, "epcis" },                     /* epcis.c */
	{ GET_HEAD | CROSS_ORIGIN, MATCH_EXACT, "/api/v1/log",
	    log_handle_log, "log" },                            /* log.c */
	{ GET_HEAD | CROSS_ORIGIN, MATCH_EXACT, "/api/v1/checkpoint",
	    log_handle_checkpoint, "checkpoint" },              /* log.c */
	{ GET_HEAD | CROSS_ORIGIN, MATCH_UNDER, "/api/v1/proofs/",
	    log_handle_proofs, "proofs" },                      /* log.c */
	{ GET_HEAD | METHOD_PUT | CROSS_ORIGIN, MATCH_UNDER, "/api/v1/blobs/",
	    blobs_handle, "blobs" },                            /* blobs.c */
	{ GET_HEAD | CROSS_ORIGIN, MATCH_UNDER, "/api/v1/bundles/",
	    bundles_handle_bundle, "bundle" },                  /* bundles.c */
	{ GET_HEAD | CROSS_ORIGIN, MATCH_UNDER, "/tlog/",
	    tiles_handle, "tlog" },                             /* tiles.c */
	{ METHOD_GET | METHOD_POST | CROSS_ORIGIN, MATCH_EXACT, "/api/v1/keys",
	    registry_handle_keys, "keys" },                     /* registry.c */
	{ METHOD_GET | CROSS_ORIGIN, MATCH_UNDER, "/api/v1/keys/",
	    registry_handle_keys, "key" },                      /* registry.c */
	{ METHOD_ANY, MATCH_EXACT, "/healthz",
	    health_handle, "healthz" },                         /* health.c */
	{ METHOD_ANY, MATCH_EXACT, "/readyz",
	    health_handle, "readyz" },                          /* health.c */
	{ METHOD_ANY, MATCH_EXACT, "/metrics",
	    health_handle, "metrics" },                         /* health.c */
	{ METHOD_POST, MATCH_UNDER, "/api/v1/codes/",
	    units_handle_upload, "codes" },                     /* units.c */
	{ METHOD_POST, MATCH_UNDER_CODE, "/01/",
	    units_handle_code, "unit_code" },                   /* units.c */
	{ RESOLVER_METHODS, MATCH_SEGMENT, "/01",
	    resolver_handle, "resolver" },                      /* resolver.c */
	{ GET_HEAD, MATCH_SEGMENT, "/inspect",
	    inspector_handle, "inspector" },                    /* inspector.c */
	{ GET_HEAD, MATCH_SEGMENT, "/qr",
	    qrcode_handle, "qr" },                              /* qrcode.c */
	{ GET_HEAD, MATCH_SEGMENT, "/labels",
	    labels_handle, "labels" },                          /* labels.c */
	{ METHOD_ANY, MATCH_UNDER, "/static/",
	    page_handle_static, "static" },                     /* page.c */
	{ METHOD_ANY, MATCH_EXACT, "/.well-known/gs1resolver",
	    resolver_handle_description, "gs1resolver" },       /* resolver.c */
	{ RESOLVER_METHODS, MATCH_COMPRESSED, "",
	    resolver_handle_compressed, "resolver_compressed" }, /* resolver.c */
};

#define ROUTE_COUNT (sizeof(routes) / sizeof(routes[0]))

_Static_assert(ROUTE_COUNT <= METRICS_ROUTES,
    "every route needs its own row of counters (metrics.h)");

static bool
route_matches(const struct route *r, const char *path)
{
	size_t n = strlen(r->path);

	switch (r->match) {
	case MATCH_EXACT:
		return strcmp(path, r->path) == 0;
	case MATCH_UNDER:
		return strncmp(path, r->path, n) == 0;
	case MATCH_SEGMENT:
		return strncmp(path, r->path, n) == 0 &&
		    (path[n] == '\0' || path[n] == '/');
	case MATCH_UNDER_CODE: {
		/* A serial segment between "/21/" and "/code": a lot or a
		 * serial called "code" still reaches the resolver. */
		const char *s21 = strstr(path, "/21/");
		size_t len = strlen(path);

		return strncmp(path, r->path, n) == 0 && s21 != NULL &&
		    len > 5 && (size_t)(s21 - path) + 4 < len - 5 &&
		    strcmp(path + len - 5, "/code") == 0;
	}
	case MATCH_COMPRESSED:
		n = strlen(path);
		return n >= 2 && n <= 1 + GS1_COMPRESSED_MAX &&
		    path[0] == '/' && strspn(path + 1, "ABCDEFGHIJKLMNOPQRSTUV"
		    "WXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n - 1;
	}
	return false;
}

static unsigned
method_bit(const char *method)
{
	static const struct {
		const char *name;
		unsigned bit;
	} methods[] = {
		{ "GET", METHOD_GET }, { "HEAD", METHOD_HEAD },
		{ "POST", METHOD_POST }, { "PUT", METHOD_PUT },
		{ "DELETE", METHOD_DELETE }, { "PATCH", METHOD_PATCH },
		{ "OPTIONS", METHOD_OPTIONS },
	};

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(method, methods[i].name) == 0)
			return methods[i].bit;
	return METHOD_OTHER;
}

/* "GET, HEAD" for an Allow header.  Only rows that check their methods
 * answer 405, and those allow some of GET, HEAD, POST, PUT and OPTIONS. */
static void
allow_text(unsigned methods, char *out, size_t size)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ METHOD_GET, "GET" }, { METHOD_HEAD, "HEAD" },
		{ METHOD_POST, "POST" }, { METHOD_PUT, "PUT" },
		{ METHOD_OPTIONS, "OPTIONS" },
	};
	size_t used = 0;

	methods &= ~(unsigned)CROSS_ORIGIN;
	assert(methods != 0 &&
	    (methods & ~(unsigned)(METHOD_GET | METHOD_HEAD | METHOD_POST |
	    METHOD_PUT | METHOD_OPTIONS)) == 0);
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i].name);

		if ((methods & names[i].bit) == 0 || used + n + 3 > size)
			continue;
		if (used > 0) {
			memcpy(out + used, ", ", 2);
			used += 2;
		}
		memcpy(out + used, names[i].name, n + 1);
		used += n;
	}
}

/* The rate limit of the costly routes (admission.h): false when it
 * answered 429 with Retry-After. */
static bool
admission_allows(struct request *req, const char *route)
{
	static const char body[] = "{\"error\":{\"code\":\"rate_limited\","
	    "\"message\":\"too many requests from this address; retry after "
	    "Retry-After seconds\"}}";
	char headers[64];
	int retry_after;

	if (!admission_route_limited(route) ||
	    admission_take(req->info->remote_addr, &retry_after))
		return true;
	snprintf(headers, sizeof(headers), "Retry-After: %d\r\n"
	    "Cache-Control: no-store\r\n", retry_after);
	http_send(req, 429, "application/json", body, sizeof(body) - 1,
	    headers);
	return false;
}

void
router_name_routes(struct metrics *m)
{
	for (size_t i = 0; i < ROUTE_COUNT; i++)
		metrics_name_route(m, i, routes[i].name);
}

int
router_dispatch(struct mg_connection *conn, struct server *srv)
{
	struct request req;
	struct trace_error err;
	size_t route = METRICS_ROUTE_OTHER;
	long long start = monotonic_us();

	memset(&req, 0, sizeof(req));
	req.conn = conn;
	req.info = mg_get_request_info(conn);
	req.srv = srv;
	req.worker = mg_get_thread_pointer(conn);
	req.path = req.info->local_uri_raw != NULL ? req.info->local_uri_raw :
	    req.info->local_uri;
	req.query = req.info->query_string;
	for (size_t i = 0; i < ROUTE_COUNT && route == METRICS_ROUTE_OTHER;
	    i++)
		if (route_matches(&routes[i], req.path))
			route = i;
	/* Most workers taken: this answer frees its worker (admission.h). */
	if (admission_should_close(conn)) {
		req.close = true;
		mg_disable_connection_keep_alive(conn);
	}
	if (req.worker == NULL || req.worker->store == NULL) {
		route = METRICS_ROUTE_OTHER;
		trace_error_set(&err, TRACE_ENOMEM, NULL, NULL,
		    "worker not initialised");
		http_send_error(&req, &err);
	} else if (route == METRICS_ROUTE_OTHER) {
		trace_error_set(&err, TRACE_ENOTFOUND, "not_found", NULL,
		    "no such resource");
		http_send_error(&req, &err);
	} else if ((routes[route].methods & CROSS_ORIGIN) != 0 &&
	    method_bit(req.info->request_method) == METHOD_OPTIONS) {
		http_send_preflight(&req);
	} else if ((routes[route].methods &
	    method_bit(req.info->request_method)) == 0) {
		char allow[32];

		allow_text(routes[route].methods, allow, sizeof(allow));
		http_send_method_not_allowed(&req, allow);
	} else if (!admission_allows(&req, routes[route].name)) {
		/* answered 429 */
	} else {
		if ((routes[route].methods & CROSS_ORIGIN) != 0 &&
		    (method_bit(req.info->request_method) & GET_HEAD) != 0)
			snprintf(req.also_headers, sizeof(req.also_headers),
			    "%s", HTTP_CORS_READ);
		routes[route].handler(&req);
	}
	metrics_count_request(&srv->metrics, route, req.status,
	    monotonic_us() - start);
	return req.status != 0 ? req.status : 500;
}
