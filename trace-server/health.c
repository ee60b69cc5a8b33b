/*
 * health.c - /healthz (the process answers), /readyz (Redis reachable and
 * our Functions loaded; with witnesses, their lag and state: still 200,
 * SPEC 9) and /metrics (Prometheus text).
 */
#include <string.h>

#include "admission.h"
#include "log.h"
#include "pages.h"
#include "server.h"

void
health_handle(struct request *req)
{
	struct trace_error err;
	struct buf out;

	buf_init(&out, 0);
	if (strcmp(req->path, "/healthz") == 0) {
		http_send(req, 200, "text/plain", "ok\n", 3, NULL);
	} else if (strcmp(req->path, "/readyz") == 0) {
		if (store_check_ready(req->worker->store, &err) == TRACE_OK) {
			char refusal[512];
			struct buf witnesses;
			long long lag = 0;

			/* Still ready (reads and ingest work), but say why
			 * the log stopped signing, and how far the witnessed
			 * checkpoint is behind the signed one (SPEC 9). */
			log_refusal_get(refusal, sizeof(refusal));
			buf_puts(&out, "ready\n");
			if (refusal[0] != '\0')
				buf_printf(&out, "log: %s\n", refusal);
			buf_init(&witnesses, 0);
			if (witness_status(&witnesses, &lag)) {
				buf_printf(&out, "witnessLagSeconds: %lld\n",
				    lag);
				buf_append(&out, witnesses.data, witnesses.len);
			}
			buf_free(&witnesses);
			http_send(req, 200, "text/plain", out.data, out.len,
			    NULL);
		} else {
			atomic_fetch_add(&req->srv->metrics.store_errors, 1);
			buf_printf(&out, "not ready: %s\n", err.message);
			http_send(req, 503, "text/plain", out.data, out.len, NULL);
		}
	} else {
		metrics_render(&req->srv->metrics, &out);
		log_metrics_render(&out);
		witness_metrics_render(&out);
		admission_metrics_render(&out);
		verdict_metrics_render(&out);
		pagecache_metrics_render(&out);
		if (out.failed)
			http_send(req, 500, "text/plain", "", 0, NULL);
		else
			http_send(req, 200, "text/plain; version=0.0.4", out.data,
			    out.len, NULL);
	}
	buf_free(&out);
}
