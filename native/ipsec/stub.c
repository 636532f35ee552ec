/* IPsec API, not implemented yet: every call refuses with VG_E_UNSUPPORTED
 * so the binding can be written against vecgate.h while the dataplane side
 * is built. */
#include "../engine/vg.h"

#define NOT_YET(what) vg_error(VG_E_UNSUPPORTED, "%s: not yet implemented", what)

int vg_ipsec_sa_add(vg_dp_t *dp, uint32_t sa_id, const vg_ipsec_sa_config_t *c) { return NOT_YET("ipsec sa add"); }
int vg_ipsec_sa_delete(vg_dp_t *dp, uint32_t sa_id) { return NOT_YET("ipsec sa delete"); }
int vg_ipsec_sa_dump(vg_dp_t *dp, vg_ipsec_sa_info_t *out, uint32_t max) { return 0; }
int vg_ipsec_tunnel_add(vg_dp_t *dp, const char *name, uint32_t src, uint32_t dst, uint32_t vrf) {
  return NOT_YET("ipsec tunnel add");
}
int vg_ipsec_tunnel_delete(vg_dp_t *dp, uint32_t sw_if_index) { return NOT_YET("ipsec tunnel delete"); }
int vg_ipsec_tunnel_protect(vg_dp_t *dp, uint32_t sw_if_index, uint32_t sa_out, const uint32_t *sa_in,
                            uint32_t n_in) {
  return NOT_YET("ipsec tunnel protect");
}
int vg_ipsec_tunnel_unprotect(vg_dp_t *dp, uint32_t sw_if_index) { return NOT_YET("ipsec tunnel unprotect"); }
int vg_ipsec_tunnel_dump(vg_dp_t *dp, vg_ipsec_tunnel_info_t *out, uint32_t max) { return 0; }
int vg_ipsec_spd_add(vg_dp_t *dp, uint32_t spd_id) { return NOT_YET("ipsec spd add"); }
int vg_ipsec_spd_delete(vg_dp_t *dp, uint32_t spd_id) { return NOT_YET("ipsec spd delete"); }
int vg_ipsec_spd_bind(vg_dp_t *dp, uint32_t sw_if_index, uint32_t spd_id) { return NOT_YET("ipsec spd bind"); }
int vg_ipsec_spd_entry_add(vg_dp_t *dp, uint32_t spd_id, const vg_ipsec_policy_t *p) {
  return NOT_YET("ipsec spd entry add");
}
int vg_ipsec_spd_entry_delete(vg_dp_t *dp, uint32_t spd_id, uint32_t entry_id) {
  return NOT_YET("ipsec spd entry delete");
}
int vg_ipsec_spd_dump(vg_dp_t *dp, vg_ipsec_spd_info_t *out, uint32_t max) { return 0; }
int vg_ipsec_spd_entry_dump(vg_dp_t *dp, uint32_t spd_id, vg_ipsec_spd_entry_info_t *out, uint32_t max) {
  return NOT_YET("ipsec spd entry dump");
}
int vg_ipsec_spd_binding_dump(vg_dp_t *dp, vg_ipsec_spd_binding_t *out, uint32_t max) { return 0; }
