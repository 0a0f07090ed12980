/*
 * Listen addresses as written in config files and options: "host:port" or
 * "[v6]:port", with whether the host is a loopback address (the rule for
 * plain HTTP). Shared by the relay and the simulator.
 */
#ifndef GLIVI_NETADDR_H
#define GLIVI_NETADDR_H

/*
 * Splits "host:port" or "[v6]:port" and tells whether host is a loopback
 * address (127.0.0.0/8, ::1, localhost). host is allocated.
 */
int netaddr_parse(const char *, char **host, unsigned *port, int *loopback,
    char **cause);

struct sockaddr_storage;

/*
 * Parses a listen address and resolves it (numerically) to a socket
 * address to bind; *v6 tells whether it is IPv6, *loopback as above.
 */
int netaddr_resolve(const char *, struct sockaddr_storage *, unsigned *port,
    int *v6, int *loopback, char **cause);

#endif
