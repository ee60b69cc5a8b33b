/*
 * slothash.c - SipHash-2-4 (Aumasson and Bernstein, 2012) under a per-process
 * key: the slot of an untrusted name in a fixed table (slothash.h says why).
 */
#include <string.h>
#include <sys/random.h>

#include "slothash.h"

static uint64_t key0, key1;

int
slot_hash_init(void)
{
	uint64_t k[2];

	if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k))
		return -1;
	key0 = k[0];
	key1 = k[1];
	return 0;
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

struct sip {
	uint64_t v0, v1, v2, v3;
	uint64_t tail;                 /* bytes not yet in a word */
	size_t total;
};

static void
sip_word(struct sip *s, uint64_t m)
{
	uint64_t v0 = s->v0, v1 = s->v1, v2 = s->v2, v3 = s->v3;

	v3 ^= m;
	SIPROUND;
	SIPROUND;
	v0 ^= m;
	s->v0 = v0; s->v1 = v1; s->v2 = v2; s->v3 = v3;
}

static void
sip_byte(struct sip *s, unsigned char c)
{
	s->tail |= (uint64_t)c << (8 * (s->total % 8));
	s->total++;
	if (s->total % 8 == 0) {
		sip_word(s, s->tail);
		s->tail = 0;
	}
}

uint64_t
slot_hash(const char *a, const char *b)
{
	struct sip s = {
		.v0 = 0x736f6d6570736575ULL ^ key0,
		.v1 = 0x646f72616e646f6dULL ^ key1,
		.v2 = 0x6c7967656e657261ULL ^ key0,
		.v3 = 0x7465646279746573ULL ^ key1,
	};
	uint64_t v0, v1, v2, v3;

	for (const unsigned char *p = (const unsigned char *)a; *p; p++)
		sip_byte(&s, *p);
	if (b != NULL) {
		sip_byte(&s, 0);
		for (const unsigned char *p = (const unsigned char *)b; *p; p++)
			sip_byte(&s, *p);
	}
	sip_word(&s, s.tail | (uint64_t)(s.total & 0xff) << 56);
	v0 = s.v0; v1 = s.v1; v2 = s.v2; v3 = s.v3;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}
