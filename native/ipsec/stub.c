/* SPD API, not implemented yet: every call refuses with VG_E_UNSUPPORTED. */
#include "ipsec.h"

#define NOT_YET(what) vg_error(VG_E_UNSUPPORTED, "%s: not yet implemented", what)

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
void vg_ipsec_spd_free(vg_main_t *dp) {}
