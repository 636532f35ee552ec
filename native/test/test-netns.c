#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test-netns.h"

int netns_skipped(void) {
  const char *why = getenv("VECGATE_TEST_EMULATED") ? "emulated: no AF_PACKET or namespaces under qemu-user"
                    : geteuid() != 0 ? "needs root for network namespaces, AF_PACKET and TAP"
                    : system("ip -V >/dev/null 2>&1") != 0 ? "needs iproute2 (ip)"
                    : NULL;
  if (why) printf("    (skipped: %s)\n", why);
  return why != NULL;
}

int sh(const char *fmt, ...) {
  char cmd[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int rc = system(cmd);
  return rc == 0 ? 0 : -1;
}

uint64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

void ipv6_off(const char *ns, const char *ifname) {
  if (sh("%s%s sh -c 'echo 1 > /proc/sys/net/ipv6/conf/%s/disable_ipv6' 2>/dev/null",
         ns ? "ip netns exec " : "", ns ? ns : "", ifname)) {
    /* a kernel without IPv6 is quiet anyway */
  }
}

int link_make(link_t *l, int k, const char *cidr, int mtu) {
  snprintf(l->ns, sizeof l->ns, "vgtest-%d-%d", (int)getpid(), k);
  snprintf(l->host, sizeof l->host, "vg%dh%d", (int)getpid(), k);
  snprintf(l->peer, sizeof l->peer, "vg%dp%d", (int)getpid(), k);
  if (sh("ip netns add %s", l->ns)) return -1;
  ipv6_off(l->ns, "all");
  ipv6_off(l->ns, "default");
  if (sh("ip link add %s mtu %d type veth peer name %s mtu %d netns %s", l->host, mtu, l->peer,
         mtu, l->ns))
    return -1;
  ipv6_off(NULL, l->host);
  return sh("ip -n %s addr add %s dev %s && ip -n %s link set %s up", l->ns, cidr, l->peer, l->ns,
            l->peer);
}

void link_delete(const link_t *l) {
  if (l->ns[0] && sh("ip link del %s 2>/dev/null; ip netns del %s 2>/dev/null", l->host, l->ns)) {
    /* already gone */
  }
}


const char *capture(const char *fmt, ...) {
  static char out[8192];
  char cmd[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
  FILE *p = popen(cmd, "r");
  size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
  out[n] = 0;
  if (p) pclose(p);
  return out;
}
