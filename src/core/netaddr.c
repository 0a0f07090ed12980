/*
 * Listen address parsing; numeric addresses and "localhost" only, so no
 * name lookup ever happens at start-up.
 */
#include "core/netaddr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

int
netaddr_parse(const char *s, char **host, unsigned *port, int *loopback,
    char **cause)
{
	const char *colon;
	char *h, *end;
	unsigned long p;
	struct in_addr a4;
	struct in6_addr a6;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':') {
			*cause = xasprintf("listen '%s': expected [v6]:port", s);
			return -1;
		}
		h = xstrndup(s + 1, (size_t)(close - s - 1));
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || colon == s) {
			*cause = xasprintf("listen '%s': expected host:port", s);
			return -1;
		}
		h = xstrndup(s, (size_t)(colon - s));
	}
	p = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p > 65535) {
		*cause = xasprintf("listen '%s': bad port", s);
		free(h);
		return -1;
	}
	if (inet_pton(AF_INET, h, &a4) == 1)
		*loopback = (ntohl(a4.s_addr) >> 24) == 127;
	else if (inet_pton(AF_INET6, h, &a6) == 1)
		*loopback = IN6_IS_ADDR_LOOPBACK(&a6);
	else if (strcmp(h, "localhost") == 0)
		*loopback = 1;
	else {
		*cause = xasprintf("listen '%s': host must be an IP address or "
		    "localhost", s);
		free(h);
		return -1;
	}
	*host = h;
	*port = (unsigned)p;
	return 0;
}

int
netaddr_resolve(const char *listen, struct sockaddr_storage *ss,
    unsigned *port, int *v6, int *loopback, char **cause)
{
	struct addrinfo hints, *ai = NULL;
	char *host = NULL, portstr[8];
	int rc;

	if (netaddr_parse(listen, &host, port, loopback, cause) != 0)
		return -1;
	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof portstr, "%u", *port);
	rc = getaddrinfo(host, portstr, &hints, &ai);
	free(host);
	if (rc != 0 || ai == NULL) {
		*cause = xasprintf("listen %s: %s", listen, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*v6 = ai->ai_family == AF_INET6;
	freeaddrinfo(ai);
	return 0;
}
