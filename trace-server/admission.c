/*
 * admission.c - connection accounting, keep-alive shedding and the rate
 * limit of the costly routes (admission.h says why).
 *
 * The keep-alive rule: an answer closes its connection when more than
 * three quarters of the workers hold a connection, or when more than five
 * eighths do and the client's address holds more than an eighth of them
 * (at least 2).  A closed connection frees its worker at once; a client that wants
 * another request reconnects, which costs it a round trip and nobody else
 * anything.  Below those marks keep-alive is untouched, so a busy but
 * healthy server (the bench's 64 connections on 128 threads) keeps its
 * connections.
 *
 * The local host (127.0.0.1, ::1) is exempt from the per-address rules:
 * it is the reverse proxy on the same machine, whose connections carry
 * many clients (nginx limits those per client: deploy/nginx), or the
 * operator.  A proxy on another host is not recognised: run its instances
 * with --rate-limit 0 (deploy/trace-server.env).
 *
 * Buckets are refilled from the monotonic clock (STYLE: timeouts and rates
 * never read wall time).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "libtrace/buf.h"
#include "admission.h"
#include "monotonic.h"
#include "slothash.h"

#define ADDR_SLOTS 4096
#define BUCKET_SLOTS 4096

struct bucket {
	char addr[48];
	double tokens;
	long long refilled_ms;
};

static int threads = 16;
static int rate;                         /* per second; 0: no limit */
static atomic_int open_connections;
static atomic_ullong shed, limited;
static atomic_int addr_connections[ADDR_SLOTS];
static struct bucket buckets[BUCKET_SLOTS];
static pthread_mutex_t buckets_lock = PTHREAD_MUTEX_INITIALIZER;

void
admission_init(int worker_threads, int per_second)
{
	threads = worker_threads > 0 ? worker_threads : 1;
	rate = per_second > 0 ? per_second : 0;
}

bool
admission_addr_is_local(const char *addr)
{
	return strcmp(addr, "127.0.0.1") == 0 || strcmp(addr, "::1") == 0;
}

static size_t
addr_slot(const char *addr)
{
	return (size_t)(slot_hash(addr, NULL) % ADDR_SLOTS);
}

int
admission_connection_open(const struct mg_connection *conn, void **conn_data)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *addr = ri != NULL ? ri->remote_addr : "";
	size_t slot = addr_slot(addr);

	atomic_fetch_add(&open_connections, 1);
	/* A mark that this connection was counted: 1 for the local host
	 * (no count of its own), else 2 + its address's slot. */
	*conn_data = (void *)(uintptr_t)(admission_addr_is_local(addr) ? 1 :
	    2 + slot);
	if (!admission_addr_is_local(addr))
		atomic_fetch_add(&addr_connections[slot], 1);
	return 0;
}

void
admission_connection_close(const struct mg_connection *conn)
{
	uintptr_t mark = (uintptr_t)mg_get_user_connection_data(conn);

	if (mark == 0 || mark > ADDR_SLOTS + 1)
		return;
	if (mark >= 2)
		atomic_fetch_sub(&addr_connections[mark - 2], 1);
	atomic_fetch_sub(&open_connections, 1);
	/* Counted once: civetweb may call this again for the same conn. */
	mg_set_user_connection_data(conn, NULL);
}

bool
admission_should_close(const struct mg_connection *conn)
{
	int open = atomic_load(&open_connections), share = threads / 8;
	uintptr_t mark = (uintptr_t)mg_get_user_connection_data(conn);
	bool close;

	if (share < 2)
		share = 2;
	close = 4 * open > 3 * threads || (8 * open > 5 * threads &&
	    mark >= 2 && mark <= ADDR_SLOTS + 1 &&
	    atomic_load(&addr_connections[mark - 2]) > share);
	if (close)
		atomic_fetch_add(&shed, 1);
	return close;
}

bool
admission_route_limited(const char *route)
{
	static const char *const costly[] = {
		"bundle", "inspector", "recall_board", "recalls", "epcis",
		"chain", "labels",
	};

	if (rate == 0 || route == NULL)
		return false;
	for (size_t i = 0; i < sizeof(costly) / sizeof(costly[0]); i++)
		if (strcmp(route, costly[i]) == 0)
			return true;
	return false;
}

bool
admission_take(const char *addr, int *retry_after)
{
	struct bucket *b;
	long long now = monotonic_ms();
	double burst = (double)rate * ADMISSION_BURST_SECONDS;
	bool ok;

	*retry_after = 0;
	if (rate == 0 || admission_addr_is_local(addr))
		return true;
	b = &buckets[slot_hash(addr, NULL) % BUCKET_SLOTS];
	pthread_mutex_lock(&buckets_lock);
	if (strncmp(b->addr, addr, sizeof(b->addr)) != 0) {
		/* A new address (or one that shares the slot, which a keyed
		 * hash keeps from being chosen): a full bucket. */
		snprintf(b->addr, sizeof(b->addr), "%s", addr);
		b->tokens = burst;
		b->refilled_ms = now;
	}
	b->tokens += (double)(now - b->refilled_ms) * rate / 1000.0;
	if (b->tokens > burst)
		b->tokens = burst;
	b->refilled_ms = now;
	ok = b->tokens >= 1.0;
	if (ok)
		b->tokens -= 1.0;
	else
		*retry_after = 1 + (int)((1.0 - b->tokens) / rate);
	pthread_mutex_unlock(&buckets_lock);
	if (!ok)
		atomic_fetch_add(&limited, 1);
	return ok;
}

int
admission_open_connections(void)
{
	return atomic_load(&open_connections);
}

void
admission_metrics_render(struct buf *out)
{
	buf_printf(out, "# HELP trace_connections_open HTTP connections "
	    "open (each holds a worker).\n# TYPE trace_connections_open "
	    "gauge\ntrace_connections_open %d\n",
	    atomic_load(&open_connections));
	buf_printf(out, "# HELP trace_keepalive_shed_total Answers that "
	    "closed their connection to free a worker.\n# TYPE "
	    "trace_keepalive_shed_total counter\ntrace_keepalive_shed_total "
	    "%llu\n", atomic_load(&shed));
	buf_printf(out, "# HELP trace_rate_limited_total Requests answered "
	    "429 (rate limit per address).\n# TYPE trace_rate_limited_total "
	    "counter\ntrace_rate_limited_total %llu\n", atomic_load(&limited));
}
