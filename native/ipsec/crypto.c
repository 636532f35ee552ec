/* Which ESP crypto engine a dataplane uses (crypto.h). */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

static const vg_esp_engine_t *const engines[] = {
#ifdef VG_HAVE_IPSEC_MB
    &vg_esp_engine_ipsec_mb,
#endif
    &vg_esp_engine_openssl,
};

const vg_esp_engine_t *vg_esp_engine_find(const char *name) {
  for (size_t i = 0; i < VG_ARRAY_LEN(engines); i++)
    if (!strcmp(engines[i]->name, name)) return engines[i];
  return NULL;
}

const vg_esp_engine_t *vg_esp_engine_default(void) {
  const char *want = getenv("VECGATE_ESP_ENGINE");
  const vg_esp_engine_t *e = want && *want ? vg_esp_engine_find(want) : NULL;
  return e ? e : engines[0];
}

int vg_ipsec_set_engine(vg_main_t *dp, const char *name) {
  pthread_mutex_lock(&dp->api_lock);
  vg_ipsec_main_t *im = vg_ipsec_main(dp);
  const vg_esp_engine_t *e = vg_esp_engine_find(name);
  int rc = 0;
  if (!im) rc = vg_last_error_code();
  else if (!e) rc = vg_error(VG_E_UNSUPPORTED, "ipsec: no crypto engine %s in this build", name);
  else if (im->n_sas) rc = vg_error(VG_E_STATE, "ipsec: the crypto engine is chosen before the first SA");
  else if (e != im->engine) {
    /* No SA yet, so no packet reaches the engine: no barrier needed. */
    im->engine->free(dp, im);
    rc = e->init(dp, im);
    if (rc < 0) {
      im->engine = &vg_esp_engine_openssl;
      im->engine->init(dp, im);
    } else {
      im->engine = e;
    }
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}
