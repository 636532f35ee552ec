/* Linux hosts for the tests: network namespaces joined to the dataplane
 * by veth pairs. Tests that use them need root and a real kernel. */
#ifndef VG_TEST_NETNS_H
#define VG_TEST_NETNS_H

#include <net/if.h>
#include <stdint.h>

/* Prints why and returns 1 when namespaces cannot be used here. */
int netns_skipped(void);
/* Runs a shell command; 0 when it exits 0. */
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t now_ms(void);
/* Runs a command and returns what it printed, stdout and stderr (a static
 * buffer, overwritten by the next call). */
const char *capture(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ipv6_off(const char *ns, const char *ifname);

/* A veth pair: `host` stays in this namespace (the af_packet interface's
 * host_if), `peer` lives in namespace `ns` with an address. */
typedef struct {
  char ns[32], host[IFNAMSIZ], peer[IFNAMSIZ];
} link_t;

/* Namespace k of this run with `cidr` on its end, both ends of mtu. */
int link_make(link_t *l, int k, const char *cidr, int mtu);
void link_delete(const link_t *l);

#endif
