/*
 * fuzz_clientaddr.c - libFuzzer harness for the client key of a code entry
 * (trace-server/clientaddr.c): X-Forwarded-For and the peer address are
 * text from the network.  The first byte picks what the rest is:
 *
 *   'x'  an X-Forwarded-For value sent through a trusted proxy
 *   'p'  a peer address (with the rest after a NUL, if any, as its header)
 *   'c'  a --trusted-proxy CIDR, then the peer 10.1.2.3 is judged by it
 *
 * Besides not crashing: a key is "4:" and a dotted quad, or "6:" and 16
 * hex digits, NUL-terminated within CLIENT_KEY_MAX; an untrusted peer's
 * header never changes its key.
 */
#include <stdlib.h>
#include <string.h>

#include "trace-server/clientaddr.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void
check_key(const char *key)
{
	size_t n = strnlen(key, CLIENT_KEY_MAX + 1);

	if (n > CLIENT_KEY_MAX)
		abort();
	if (n == 0)
		return;
	if (strncmp(key, "4:", 2) == 0) {
		if (strspn(key + 2, "0123456789.") != n - 2)
			abort();
	} else if (strncmp(key, "6:", 2) != 0 || n != 18 ||
	    strspn(key + 2, "0123456789abcdef") != 16) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct client_proxies p = { 0 };
	char *text, key[CLIENT_KEY_MAX + 1], alone[CLIENT_KEY_MAX + 1];
	const char *header;

	if (size < 1 || size > 4096)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	text[size] = '\0';
	switch (data[0]) {
	case 'x':
		client_proxies_add(&p, "127.0.0.0/8");
		client_key(&p, "127.0.0.1", text, key);
		check_key(key);
		break;
	case 'p':
		header = text + strlen(text) + 1;
		if (header > text + size - 1)
			header = NULL;
		client_key(&p, text, header, key);
		check_key(key);
		/* No trusted proxy: the header changes nothing. */
		client_key(&p, text, NULL, alone);
		if (strcmp(key, alone) != 0)
			abort();
		break;
	case 'c':
		client_proxies_add(&p, text);
		client_key(&p, "10.1.2.3", "192.0.2.1", key);
		check_key(key);
		break;
	default:
		break;
	}
	free(text);
	return 0;
}
