/* VXLAN tunnels (RFC 7348): the tunnel table the vxlan nodes read.
 * Written only under the barrier. A tunnel is an interface of type "vxlan"
 * whose device (itf->dev) is its vg_vxlan_tunnel_t: what it sends goes
 * through vxlan-encap; vxlan-input finds it by (encap VRF, local address,
 * remote address, VNI) and hands its inner frames to ethernet-input. */
#ifndef VG_VXLAN_H
#define VG_VXLAN_H

#include "../engine/vg.h"

#define VG_VXLAN_HDR 36 /* outer IPv4 20 + UDP 8 + VXLAN 8 */

typedef struct {
  uint32_t sw_if_index;
  uint32_t src, dst;  /* local and remote VTEP, host order */
  uint32_t vni;
  uint32_t encap_vrf;
  uint32_t fib_index; /* of encap_vrf: where the outer packet is looked up */
  uint16_t dport;
  /* The outer headers vxlan-encap copies: IPv4, UDP and VXLAN with the
   * lengths, identification, source port and IPv4 checksum left 0, and the
   * ones' complement sum of that IPv4 header, so each packet adds only its
   * length and identification to it. */
  uint8_t rewrite[VG_VXLAN_HDR];
  uint32_t rewrite_sum;
} vg_vxlan_tunnel_t;

typedef struct vg_vxlan_main {
  vg_vxlan_tunnel_t **tunnels; /* [n_tunnels], any order */
  uint32_t n_tunnels;
  vg_vxlan_tunnel_t **slots;   /* hash by (local, remote, vni): open addressing, NULL empty */
  uint32_t slot_mask;
  uint8_t ports[65536 / 8];    /* UDP ports some tunnel listens on */
  uint32_t encap_node;         /* vxlan-encap's node index */
  uint16_t ip_id[VG_MAX_THREADS]; /* outer IPv4 identification, per thread */
} vg_vxlan_main_t;

extern const char vg_vxlan_type[]; /* "vxlan": the interface type, compared by pointer */

static inline uint32_t vg_vxlan_key_hash(uint32_t local, uint32_t remote, uint32_t vni) {
  uint64_t h = ((uint64_t)local << 32 | remote) * 0x9e3779b97f4a7c15ull;
  h ^= (uint64_t)(vni + 1) * 0xc2b2ae3d27d4eb4full;
  return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* The tunnel a VXLAN packet to local from remote with vni on dport, received
 * in fib_index, belongs to; NULL when none. */
static inline vg_vxlan_tunnel_t *vg_vxlan_find(const vg_vxlan_main_t *vm, uint32_t fib_index,
                                               uint32_t local, uint32_t remote, uint32_t vni,
                                               uint16_t dport) {
  if (!vm->slots) return NULL;
  for (uint32_t s = vg_vxlan_key_hash(local, remote, vni) & vm->slot_mask;; s = (s + 1) & vm->slot_mask) {
    vg_vxlan_tunnel_t *t = vm->slots[s];
    if (!t) return NULL;
    if (t->src == local && t->dst == remote && t->vni == vni && t->fib_index == fib_index &&
        t->dport == dport)
      return t;
  }
}

static inline int vg_vxlan_port_used(const vg_vxlan_main_t *vm, uint16_t port) {
  return vm->ports[port >> 3] >> (port & 7) & 1;
}

void vg_vxlan_free(vg_main_t *dp);

#endif
