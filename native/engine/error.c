/* Error codes and the per-thread message of the last failed call. */
#include <stdarg.h>
#include <stdio.h>

#include "vg.h"

static _Thread_local char last_error[512];
static _Thread_local int last_code;

const char *vg_last_error(void) { return last_error; }
int vg_last_error_code(void) { return last_code; }

int vg_error(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  last_code = code;
  return code;
}

const char *vg_strerror(int code) {
  switch (code) {
  case VG_OK: return "ok";
  case VG_E_INVAL: return "invalid argument";
  case VG_E_NOMEM: return "out of memory";
  case VG_E_NOTFOUND: return "not found";
  case VG_E_EXISTS: return "already exists";
  case VG_E_IO: return "i/o error";
  case VG_E_FORMAT: return "bad format";
  case VG_E_STATE: return "wrong state";
  case VG_E_UNSUPPORTED: return "unsupported";
  case VG_E_LIMIT: return "limit exceeded";
  default: return "unknown error";
  }
}
