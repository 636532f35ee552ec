/* CPU probe library (libvecgate-probe.so), built with baseline flags only.
 * Load it first; then load the best variant it reports as supported. */
#ifndef VECGATE_PROBE_H
#define VECGATE_PROBE_H
#include <stddef.h>

const char *vg_probe_arch(void);         /* "x86_64", "arm64", "ppc64le" */
const char *vg_probe_cpu_features(void); /* space-separated features this CPU has */
const char *vg_probe_variants(void);     /* this family's variants, best first, space-separated */
/* 0: the CPU runs `variant`; n > 0: n required features are missing (their
 * names written to buf); -1: not a variant of this family (message in buf). */
int vg_probe_variant_missing(const char *variant, char *buf, size_t size);

#endif
