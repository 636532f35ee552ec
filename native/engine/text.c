#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

void vg_text_printf(vg_text_t *t, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) n = sizeof line - 1;
  if (t->buf && t->len < t->size) {
    uint64_t room = t->size - t->len;
    memcpy(t->buf + t->len, line, (uint64_t)n < room ? (size_t)n : (size_t)room);
  }
  t->len += (uint64_t)n;
}

int64_t vg_text_finish(vg_text_t *t) {
  if (t->buf && t->size) t->buf[t->len < t->size ? t->len : t->size - 1] = 0;
  return (int64_t)t->len;
}
