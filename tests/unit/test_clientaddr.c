/*
 * test_clientaddr.c - the client key of a code entry (trace-server/
 * clientaddr.h, SPEC 12): the peer, or the last X-Forwarded-For hop only
 * from a trusted proxy; IPv6 per /64; a proxy spoofing hops.
 */
#include "check.h"
#include "trace-server/clientaddr.h"

int
main(void)
{
	struct client_proxies p = { 0 };
	char key[CLIENT_KEY_MAX + 1];

	CHECK(client_proxies_add(&p, "10.0.0.0/8"));
	CHECK(client_proxies_add(&p, "2001:db8:1::/48"));
	CHECK(client_proxies_add(&p, "192.0.2.7"));
	CHECK(!client_proxies_add(&p, "10.0.0.0/33"));
	CHECK(!client_proxies_add(&p, "proxy.example"));
	CHECK(!client_proxies_add(&p, "10.0.0.0/"));

	/* Untrusted peer: its header is ignored. */
	CHECK(client_key(&p, "198.51.100.4", "203.0.113.9", key));
	CHECK_STR(key, "4:198.51.100.4");
	/* Trusted peer: the last hop. */
	CHECK(client_key(&p, "10.1.2.3", "1.1.1.1, 203.0.113.9", key));
	CHECK_STR(key, "4:203.0.113.9");
	CHECK(client_key(&p, "192.0.2.7", " 203.0.113.10 ", key));
	CHECK_STR(key, "4:203.0.113.10");
	/* A last hop that is no address: the proxy itself. */
	CHECK(client_key(&p, "10.1.2.3", "1.1.1.1, unknown", key));
	CHECK_STR(key, "4:10.1.2.3");
	CHECK(client_key(&p, "10.1.2.3", NULL, key));
	CHECK_STR(key, "4:10.1.2.3");
	/* IPv6 per /64: one subscriber's addresses are one client. */
	CHECK(client_key(&p, "2001:db8:aa:bb:1::1", NULL, key));
	CHECK_STR(key, "6:20010db800aa00bb");
	CHECK(client_key(&p, "2001:db8:aa:bb:ffff:1:2:3", NULL, key));
	CHECK_STR(key, "6:20010db800aa00bb");
	CHECK(client_key(&p, "2001:db8:aa:bc::1", NULL, key));
	CHECK_STR(key, "6:20010db800aa00bc");
	/* An IPv6 proxy forwarding an IPv6 client. */
	CHECK(client_key(&p, "2001:db8:1:5::9", "2001:db8:99:1::5", key));
	CHECK_STR(key, "6:20010db800990001");
	/* IPv4-mapped peers are IPv4. */
	CHECK(client_key(&p, "::ffff:10.9.9.9", "203.0.113.1", key));
	CHECK_STR(key, "4:203.0.113.1");
	CHECK(!client_key(&p, "not an address", NULL, key));
	CHECK_STR(key, "");
	CHECK_DONE();
}
