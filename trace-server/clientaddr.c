/*
 * clientaddr.c - the client key of a request (clientaddr.h).
 *
 * X-Forwarded-For is written by whoever sent the request: only the hop a
 * trusted proxy appended (the last one) says who connected to it, and
 * only when the peer is that proxy.  Anyone else's header is ignored, so a
 * client cannot spread its wrong guesses over invented addresses.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clientaddr.h"

/* Parse an address; IPv4-mapped IPv6 (::ffff:a.b.c.d) reads as IPv4. */
static bool
parse_addr(const char *s, size_t len, int *family, unsigned char addr[16])
{
	char text[64];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0xff, 0xff };

	if (len == 0 || len >= sizeof(text))
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1) {
		*family = 4;
		return true;
	}
	if (inet_pton(AF_INET6, text, addr) != 1)
		return false;
	if (memcmp(addr, mapped, 12) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = 4;
		return true;
	}
	*family = 6;
	return true;
}

bool
client_proxies_add(struct client_proxies *p, const char *text)
{
	const char *slash = strchr(text, '/');
	size_t len = slash != NULL ? (size_t)(slash - text) : strlen(text);
	struct client_cidr c;
	char *end;

	if (p->count >= CLIENT_PROXIES_MAX ||
	    !parse_addr(text, len, &c.family, c.addr))
		return false;
	c.bits = c.family == 4 ? 32 : 128;
	if (slash != NULL) {
		long bits = strtol(slash + 1, &end, 10);

		if (slash[1] == '\0' || *end != '\0' || bits < 0 ||
		    bits > (long)c.bits)
			return false;
		c.bits = (unsigned)bits;
	}
	p->cidr[p->count++] = c;
	return true;
}

static bool
cidr_contains(const struct client_cidr *c, int family,
    const unsigned char addr[16])
{
	unsigned full = c->bits / 8, rest = c->bits % 8;

	if (c->family != family || memcmp(c->addr, addr, full) != 0)
		return false;
	return rest == 0 || ((c->addr[full] ^ addr[full]) &
	    (unsigned char)(0xff << (8 - rest))) == 0;
}

static void
key_of(int family, const unsigned char addr[16], char out[CLIENT_KEY_MAX + 1])
{
	if (family == 4) {
		snprintf(out, CLIENT_KEY_MAX + 1, "4:%u.%u.%u.%u", addr[0],
		    addr[1], addr[2], addr[3]);
		return;
	}
	/* SPEC 12: IPv6 counts per /64. */
	snprintf(out, CLIENT_KEY_MAX + 1, "6:%02x%02x%02x%02x%02x%02x%02x%02x",
	    addr[0], addr[1], addr[2], addr[3], addr[4], addr[5], addr[6],
	    addr[7]);
}

bool
client_key(const struct client_proxies *p, const char *peer, const char *xff,
    char out[CLIENT_KEY_MAX + 1])
{
	unsigned char addr[16], hop[16];
	int family, hop_family;
	bool trusted = false;

	out[0] = '\0';
	if (peer == NULL || !parse_addr(peer, strlen(peer), &family, addr))
		return false;
	for (size_t i = 0; p != NULL && i < p->count && !trusted; i++)
		trusted = cidr_contains(&p->cidr[i], family, addr);
	if (trusted && xff != NULL) {
		const char *last = strrchr(xff, ',');
		const char *s = last != NULL ? last + 1 : xff;
		size_t len;

		s += strspn(s, " \t");
		len = strcspn(s, " \t");
		if (parse_addr(s, len, &hop_family, hop)) {
			key_of(hop_family, hop, out);
			return true;
		}
	}
	key_of(family, addr, out);
	return true;
}
