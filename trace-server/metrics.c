/*
 * metrics.c - request, statement and latency counters in Prometheus text
 * format (exposition format 0.0.4).  The route labels are the route
 * table's (router.c), passed in at rendering.
 */
#include <string.h>

#include "metrics.h"

static const int statuses[METRICS_STATUSES] = {
	200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 503,
};

/* Rejection reasons we name; the rest count as "other". */
static const char *const reasons[] = {
	"bad_signature", "bad_signature_encoding", "unknown_key", "key_revoked",
	"role_not_allowed", "outside_window", "gtin_not_covered", "head_moved",
	"seq_gap", "wrong_prev", "wrong_signer", "stale_time",
	"invalid_json", "invalid_text", "duplicate_key", "unknown_field",
	"missing_field", "wrong_type", "bad_field", "too_large",
	"float_not_allowed", "too_deep", "invalid_gtin", "invalid_value",
	"gtin_not_14", "bad_seq", "bad_prev", "bad_time", "bad_type",
	"bad_payload_type", "bad_payload_encoding", "key_exists",
	"already_revoked", "unknown_correction", "bad_range", "bad_keyid",
	"keyid_mismatch", "store_unavailable", "bad_target", "wrong_org",
	"regulator_only",
};

void
metrics_count_request(struct metrics *m, size_t route, int status,
    long long micros)
{
	/* Upper bounds in microseconds: 0.25 ms .. 1 s. */
	static const long long bounds[METRICS_BUCKETS] = {
		250, 500, 1000, 2000, 5000, 10000, 25000, 50000, 100000,
		250000, 500000, 1000000,
	};
	int s = METRICS_STATUSES, b = METRICS_BUCKETS;

	for (int i = 0; i < METRICS_STATUSES; i++)
		if (statuses[i] == status)
			s = i;
	if (route > METRICS_ROUTE_OTHER)
		route = METRICS_ROUTE_OTHER;
	atomic_fetch_add(&m->requests[route][s], 1);
	for (int i = 0; i < METRICS_BUCKETS; i++) {
		if (micros <= bounds[i]) {
			b = i;
			break;
		}
	}
	atomic_fetch_add(&m->latency_buckets[b], 1);
	atomic_fetch_add(&m->latency_count, 1);
	atomic_fetch_add(&m->latency_sum_us, (unsigned long long)micros);
}

void
metrics_count_rejected(struct metrics *m, const char *code)
{
	size_t n = sizeof(reasons) / sizeof(reasons[0]);

	for (size_t i = 0; i < n && i < METRICS_REASONS; i++) {
		if (strcmp(reasons[i], code) == 0) {
			atomic_fetch_add(&m->rejected[i], 1);
			return;
		}
	}
	atomic_fetch_add(&m->rejected[METRICS_REASONS], 1);
}

void
metrics_name_route(struct metrics *m, size_t route, const char *name)
{
	if (route < METRICS_ROUTES)
		m->route_names[route] = name;
}

void
metrics_render(struct metrics *m, struct buf *out)
{
	static const char *const bucket_names[METRICS_BUCKETS] = {
		"0.00025", "0.0005", "0.001", "0.002", "0.005", "0.01", "0.025",
		"0.05", "0.1", "0.25", "0.5", "1",
	};
	unsigned long long cumulative = 0;
	size_t n = sizeof(reasons) / sizeof(reasons[0]);

	buf_puts(out, "# HELP trace_http_requests_total HTTP requests by route "
	    "and status.\n# TYPE trace_http_requests_total counter\n");
	for (size_t r = 0; r <= METRICS_ROUTE_OTHER; r++) {
		const char *name = r < METRICS_ROUTE_OTHER ? m->route_names[r] :
		    NULL;

		if (name == NULL)
			name = "other";
		for (int s = 0; s <= METRICS_STATUSES; s++) {
			unsigned long long v = atomic_load(&m->requests[r][s]);

			if (v == 0)
				continue;
			if (s < METRICS_STATUSES)
				buf_printf(out, "trace_http_requests_total{route=\"%s\","
				    "status=\"%d\"} %llu\n", name, statuses[s], v);
			else
				buf_printf(out, "trace_http_requests_total{route=\"%s\","
				    "status=\"other\"} %llu\n", name, v);
		}
	}
	buf_printf(out, "# HELP trace_statements_accepted_total Statements "
	    "appended.\n# TYPE trace_statements_accepted_total counter\n"
	    "trace_statements_accepted_total %llu\n",
	    atomic_load(&m->accepted));
	buf_printf(out, "# HELP trace_statements_duplicate_total Resubmitted "
	    "statements answered from the store.\n"
	    "# TYPE trace_statements_duplicate_total counter\n"
	    "trace_statements_duplicate_total %llu\n",
	    atomic_load(&m->duplicates));
	buf_puts(out, "# HELP trace_statements_rejected_total Statements "
	    "refused, by reason.\n# TYPE trace_statements_rejected_total "
	    "counter\n");
	for (size_t i = 0; i <= METRICS_REASONS; i++) {
		unsigned long long v = atomic_load(&m->rejected[i]);

		if (i < n && i < METRICS_REASONS)
			buf_printf(out, "trace_statements_rejected_total{reason="
			    "\"%s\"} %llu\n", reasons[i], v);
		else if (i == METRICS_REASONS)
			buf_printf(out, "trace_statements_rejected_total{reason="
			    "\"other\"} %llu\n", v);
	}
	buf_printf(out, "# HELP trace_store_errors_total Redis calls that "
	    "failed.\n# TYPE trace_store_errors_total counter\n"
	    "trace_store_errors_total %llu\n", atomic_load(&m->store_errors));
	buf_puts(out, "# HELP trace_http_request_duration_seconds Request "
	    "latency.\n# TYPE trace_http_request_duration_seconds histogram\n");
	for (int b = 0; b < METRICS_BUCKETS; b++) {
		cumulative += atomic_load(&m->latency_buckets[b]);
		buf_printf(out, "trace_http_request_duration_seconds_bucket{le="
		    "\"%s\"} %llu\n", bucket_names[b], cumulative);
	}
	cumulative += atomic_load(&m->latency_buckets[METRICS_BUCKETS]);
	buf_printf(out, "trace_http_request_duration_seconds_bucket{le=\"+Inf\"} "
	    "%llu\ntrace_http_request_duration_seconds_sum %.6f\n"
	    "trace_http_request_duration_seconds_count %llu\n", cumulative,
	    (double)atomic_load(&m->latency_sum_us) / 1e6,
	    atomic_load(&m->latency_count));
}
