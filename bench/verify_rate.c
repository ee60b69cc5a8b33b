/*
 * verify_rate.c - the Ed25519 verification baselines of the benchmarks
 * (the targets of docs/PERFORMANCE.md): how fast Ed25519 verification runs
 * on this machine, with libgcrypt (ed25519_verify_libgcrypt: the yardstick
 * SPEC 7 names, "the machine's Ed25519 verification ceiling (libgcrypt,
 * all cores)") or with what Trace verifies with (ed25519_verify: the same
 * checks, libsodium's equation).
 *
 *   verify_rate ceiling THREADS SECONDS [libtrace]
 *                         verifications/s over THREADS threads (one per
 *                         core): the ingest ceiling
 *   verify_rate count N [libtrace]
 *                         wall and CPU seconds for N verifications in one
 *                         thread: the offline-verify baseline
 *
 * Both use libgcrypt unless the last argument is "libtrace".
 *
 * The message is a PAE of typical event size (about 600 bytes), signed
 * once before timing starts; each thread verifies the same signature, as
 * a server verifies different ones: the cost does not depend on the data.
 * Prints its figures on one line of stdout.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libtrace/crypto.h"

#define MSG_LEN 600

static unsigned char msg[MSG_LEN];
static unsigned char public_key[ED25519_PUBLIC_LEN];
static unsigned char sig[ED25519_SIG_LEN];
static atomic_int stop_flag;
static atomic_int failures;
static bool (*verify)(const unsigned char *, size_t, const void *, size_t,
    const unsigned char *, size_t) = ed25519_verify_libgcrypt;

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
verify_loop(void *arg)
{
	unsigned long long *count = arg;

	while (!atomic_load(&stop_flag)) {
		if (!verify(public_key, sizeof(public_key), msg, sizeof(msg),
		    sig, sizeof(sig)))
			atomic_fetch_add(&failures, 1);
		(*count)++;
	}
	return NULL;
}

static int
run_ceiling(int threads, double seconds)
{
	pthread_t tid[64];
	unsigned long long counts[64] = { 0 }, total = 0;
	struct timespec pause = { (time_t)seconds,
		(long)((seconds - (double)(time_t)seconds) * 1e9) };
	double start, elapsed;

	if (threads < 1 || threads > 64 || seconds <= 0)
		return 2;
	start = now_seconds();
	for (int i = 0; i < threads; i++)
		if (pthread_create(&tid[i], NULL, verify_loop, &counts[i]) != 0)
			return 1;
	nanosleep(&pause, NULL);
	atomic_store(&stop_flag, 1);
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		total += counts[i];
	}
	elapsed = now_seconds() - start;
	printf("%.0f\n", (double)total / elapsed);
	return atomic_load(&failures) == 0 ? 0 : 1;
}

static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prints "<wall seconds> <CPU seconds>": on a shared machine the CPU time
 * is the steadier of the two. */
static int
run_count(long n)
{
	double start = now_seconds(), cpu = cpu_seconds();
	long bad = 0;

	for (long i = 0; i < n; i++)
		if (!verify(public_key, sizeof(public_key), msg, sizeof(msg),
		    sig, sizeof(sig)))
			bad++;
	printf("%.4f %.4f\n", now_seconds() - start, cpu_seconds() - cpu);
	return bad == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	unsigned char secret[ED25519_SECRET_LEN];
	struct trace_error err;

	if (!crypto_init())
		return 1;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)('a' + i % 26);
	if (ed25519_generate(secret, public_key, &err) != TRACE_OK ||
	    ed25519_sign(secret, msg, sizeof(msg), sig, &err) != TRACE_OK) {
		fprintf(stderr, "verify_rate: cannot make a signature\n");
		return 1;
	}
	if (argc >= 2 && strcmp(argv[argc - 1], "libtrace") == 0) {
		verify = ed25519_verify;
		argc--;
	}
	if (argc == 4 && strcmp(argv[1], "ceiling") == 0)
		return run_ceiling(atoi(argv[2]), atof(argv[3]));
	if (argc == 3 && strcmp(argv[1], "count") == 0)
		return run_count(atol(argv[2]));
	fprintf(stderr, "usage: verify_rate ceiling THREADS SECONDS [libtrace] | "
	    "count N [libtrace]\n");
	return 2;
}
