/* key=value specs: the one parser behind every option and spec string. */
#include <string.h>

#include "vg.h"

int vg_kv_next(const char **cursor, vg_kv_t *kv, const char *what) {
  const char *p = *cursor;
  while (*p == ' ' || *p == '\t' || *p == '\n') p++;
  if (!*p) {
    *cursor = p;
    return 0;
  }
  const char *tok = p;
  while (*p && *p != ' ' && *p != '\t' && *p != '\n') p++;
  const char *eq = memchr(tok, '=', (size_t)(p - tok));
  if (!eq || eq == tok)
    return vg_error(VG_E_INVAL, "%s: '%.*s' is not key=value", what, (int)(p - tok), tok);
  kv->key = tok;
  kv->key_len = (uint32_t)(eq - tok);
  kv->val = eq + 1;
  kv->val_len = (uint32_t)(p - eq - 1);
  *cursor = p;
  return 1;
}

int vg_kv_is(const vg_kv_t *kv, const char *key) {
  return strlen(key) == kv->key_len && memcmp(kv->key, key, kv->key_len) == 0;
}

int vg_parse_u64(const char *s, uint32_t len, int binary, uint64_t *out) {
  uint64_t v = 0;
  uint32_t i = 0;
  int hex = len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  if (hex) i = 2;
  if (i == len) return VG_E_INVAL;
  for (; i < len; i++) {
    char c = s[i];
    unsigned d;
    if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
    else if (hex && c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
    else if (hex && c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
    else break;
    uint64_t base = hex ? 16 : 10;
    if (v > (UINT64_MAX - d) / base) return VG_E_INVAL;
    v = v * base + d;
  }
  if (i < len) {
    if (hex || i + 1 != len) return VG_E_INVAL;
    uint64_t k = binary ? 1024 : 1000, m;
    switch (s[i]) {
    case 'k': case 'K': m = k; break;
    case 'm': case 'M': m = k * k; break;
    case 'g': case 'G': m = k * k * k; break;
    default: return VG_E_INVAL;
    }
    if (v > UINT64_MAX / m) return VG_E_INVAL;
    v *= m;
  }
  *out = v;
  return 0;
}
