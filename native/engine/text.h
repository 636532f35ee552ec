/* Text for the vg_*_format calls: printf into a caller's buffer that may be
 * too small (or NULL, to ask the size), counting the whole length. */
#ifndef VG_TEXT_H
#define VG_TEXT_H

#include <stdint.h>

typedef struct vg_text {
  char *buf;
  uint64_t size, len;
} vg_text_t;

void vg_text_printf(vg_text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Terminates what fitted; returns the length the whole text needs. */
int64_t vg_text_finish(vg_text_t *t);

#endif
