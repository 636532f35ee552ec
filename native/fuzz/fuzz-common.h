/* Shared set-up for the fuzz targets: one dataplane for the whole run, and
 * a check after every input that no buffer leaked. */
#ifndef VG_FUZZ_COMMON_H
#define VG_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/vg.h"

vg_dp_t *fuzz_dp(void);

/* Sends one frame into `node` (traced when asked) and runs the graph until
 * it is consumed. */
void fuzz_inject(vg_dp_t *dp, const char *node, const uint8_t *data, size_t size, int trace);
/* The same, as received on port `rx` (fuzz_inject: the port fuzz0). */
void fuzz_inject_on(vg_dp_t *dp, const char *node, uint32_t rx, const uint8_t *data, size_t size, int trace);
/* Aborts when buffers went missing. */
void fuzz_check_pool(vg_dp_t *dp);

#endif
