/*
 * clientaddr.h - who a request comes from, for the code-entry rate limits
 * (SPEC 12): the TCP peer, or the last X-Forwarded-For hop when the peer
 * is a trusted proxy (--trusted-proxy CIDR); an IPv6 client counts per
 * /64 (one subscriber's whole prefix is one client).  Needs neither
 * civetweb nor Redis, so unit tests link it alone.
 */
#ifndef TRACE_CLIENTADDR_H
#define TRACE_CLIENTADDR_H

#include <stdbool.h>
#include <stddef.h>

#define CLIENT_PROXIES_MAX 16
/* "4:a.b.c.d" or "6:" and 16 hex digits: the key's longest form. */
#define CLIENT_KEY_MAX 24

struct client_cidr {
	int family;                      /* 4 or 6 */
	unsigned char addr[16];
	unsigned bits;
};

struct client_proxies {
	struct client_cidr cidr[CLIENT_PROXIES_MAX];
	size_t count;
};

/* Add "ADDR" or "ADDR/BITS" (IPv4 or IPv6); false if it is neither or the
 * list is full. */
bool client_proxies_add(struct client_proxies *p, const char *text);

/*
 * The client key of a request from peer (an IP address as text) with
 * X-Forwarded-For xff (NULL: none): "4:<dotted quad>" or "6:<the first 64
 * bits in hex>".  The peer's own key unless the peer is inside a trusted
 * CIDR and the header's last hop is an address.  False (out is "") if
 * neither the peer nor a trusted hop is an address.
 */
bool client_key(const struct client_proxies *p, const char *peer,
    const char *xff, char out[CLIENT_KEY_MAX + 1]);

#endif
