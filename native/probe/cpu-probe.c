/* CPU probe: which dataplane variant can this CPU run?
 *
 * Built with the architecture's baseline flags only, so it is safe to load on
 * any CPU of its family; the agent asks it before loading a tuned variant, so
 * a variant the CPU lacks is refused with words instead of SIGILL.
 * Features come from cpuid/xgetbv on x86 and from getauxval() (AT_HWCAP,
 * AT_HWCAP2) elsewhere: under qemu-user that is what the emulated CPU has,
 * unlike /proc/cpuinfo which shows the host.
 *
 * VECGATE_CPU_HIDE (space or comma separated feature names) hides features
 * from the probe, to see what a lesser CPU would get. It can only take
 * features away, so it can never lead to loading a variant the CPU lacks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vecgate-probe.h"

#if defined(__x86_64__)
#include <cpuid.h>
#define ARCH "x86_64"
#elif defined(__aarch64__)
#include <sys/auxv.h>
#define ARCH "arm64"
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
#include <sys/auxv.h>
#define ARCH "ppc64le"
#else
#error "unsupported architecture"
#endif

typedef struct {
  const char *name;
  const char *requires; /* space-separated feature names */
} variant_t;

/* Best first. The requirements are what the compiler may use under the
 * variant's -march/-mcpu flags (see native/Makefile). */
static const variant_t variants[] = {
#if defined(__x86_64__)
    {"x86_64-v4", "sse3 ssse3 sse4.1 sse4.2 popcnt cx16 avx avx2 bmi1 bmi2 fma f16c lzcnt movbe "
                  "avx512f avx512bw avx512cd avx512dq avx512vl"},
    {"x86_64-v3", "sse3 ssse3 sse4.1 sse4.2 popcnt cx16 avx avx2 bmi1 bmi2 fma f16c lzcnt movbe"},
    {"x86_64-v2", "sse3 ssse3 sse4.1 sse4.2 popcnt cx16"},
#elif defined(__aarch64__)
    {"arm64-v8.2-crypto", "fp asimd aes pmull sha1 sha2 crc32 atomics asimdrdm dcpop"},
    {"arm64-v8a", "fp asimd"},
#else
    {"ppc64le-power9", "altivec vsx arch_2_07 arch_3_00"},
#endif
};

static char features[512];

static int hidden(const char *name) {
  const char *hide = getenv("VECGATE_CPU_HIDE");
  size_t len = strlen(name);
  while (hide && *hide) {
    size_t n = strcspn(hide, " ,");
    if (n == len && memcmp(hide, name, len) == 0) return 1;
    hide += n;
    hide += strspn(hide, " ,");
  }
  return 0;
}

static void add(const char *name, int present) {
  if (!present || hidden(name)) return;
  size_t len = strlen(features);
  snprintf(features + len, sizeof features - len, "%s%s", len ? " " : "", name);
}

static void detect(void) {
  if (features[0]) return;
#if defined(__x86_64__)
  unsigned a, b, c, d, b7 = 0, c7 = 0, d7 = 0, c81 = 0;
  __cpuid(1, a, b, c, d);
  unsigned max = __get_cpuid_max(0, 0);
  if (max >= 7) __cpuid_count(7, 0, a, b7, c7, d7);
  if (__get_cpuid_max(0x80000000, 0) >= 0x80000001) {
    unsigned a1, b1, d1;
    __cpuid(0x80000001, a1, b1, c81, d1);
  }
  /* AVX and AVX-512 state must also be enabled by the OS (XCR0). */
  unsigned long long xcr0 = 0;
  if (c & bit_OSXSAVE) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = ((unsigned long long)hi << 32) | lo;
  }
  int avx_os = (xcr0 & 0x6) == 0x6, avx512_os = (xcr0 & 0xe6) == 0xe6;
  add("sse3", c & bit_SSE3);
  add("ssse3", c & bit_SSSE3);
  add("sse4.1", c & bit_SSE4_1);
  add("sse4.2", c & bit_SSE4_2);
  add("popcnt", c & bit_POPCNT);
  add("cx16", c & bit_CMPXCHG16B);
  add("aes", c & bit_AES);
  add("pclmulqdq", c & bit_PCLMUL);
  add("avx", avx_os && (c & bit_AVX));
  add("avx2", avx_os && (b7 & bit_AVX2));
  add("bmi1", b7 & bit_BMI);
  add("bmi2", b7 & bit_BMI2);
  add("fma", avx_os && (c & bit_FMA));
  add("f16c", avx_os && (c & bit_F16C));
  add("lzcnt", c81 & bit_LZCNT);
  add("movbe", c & bit_MOVBE);
  add("sha", b7 & bit_SHA);
  add("avx512f", avx512_os && (b7 & bit_AVX512F));
  add("avx512bw", avx512_os && (b7 & bit_AVX512BW));
  add("avx512cd", avx512_os && (b7 & bit_AVX512CD));
  add("avx512dq", avx512_os && (b7 & bit_AVX512DQ));
  add("avx512vl", avx512_os && (b7 & bit_AVX512VL));
  add("vaes", avx_os && (c7 & bit_VAES));
  add("vpclmulqdq", avx_os && (c7 & bit_VPCLMULQDQ));
#elif defined(__aarch64__)
  unsigned long hw = getauxval(AT_HWCAP);
  static const char *const names[] = {"fp", "asimd", "evtstrm", "aes", "pmull", "sha1", "sha2",
                                      "crc32", "atomics", "fphp", "asimdhp", "cpuid", "asimdrdm",
                                      "jscvt", "fcma", "lrcpc", "dcpop", "sha3", "sm3", "sm4",
                                      "asimddp", "sha512", "sve"};
  for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) add(names[i], (hw >> i) & 1);
#else
  unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  add("altivec", hw & 0x10000000);
  add("vsx", hw & 0x00000080);
  add("arch_2_07", hw2 & 0x80000000);
  add("crypto", hw2 & 0x02000000);
  add("arch_3_00", hw2 & 0x00800000);
  add("arch_3_1", hw2 & 0x00040000);
#endif
}

const char *vg_probe_arch(void) { return ARCH; }

const char *vg_probe_cpu_features(void) {
  detect();
  return features;
}

const char *vg_probe_variants(void) {
  static char list[256];
  if (!list[0])
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
      size_t len = strlen(list);
      snprintf(list + len, sizeof list - len, "%s%s", len ? " " : "", variants[i].name);
    }
  return list;
}

static int has_feature(const char *name, size_t len) {
  const char *p = features;
  while (*p) {
    size_t n = strcspn(p, " ");
    if (n == len && memcmp(p, name, len) == 0) return 1;
    p += n;
    while (*p == ' ') p++;
  }
  return 0;
}

int vg_probe_variant_missing(const char *variant, char *buf, size_t size) {
  detect();
  if (buf && size) buf[0] = 0;
  for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
    if (strcmp(variants[i].name, variant) != 0) continue;
    int missing = 0;
    const char *p = variants[i].requires;
    while (*p) {
      size_t n = strcspn(p, " ");
      if (!has_feature(p, n)) {
        missing++;
        if (buf && size) {
          size_t len = strlen(buf);
          snprintf(buf + len, size - len, "%s%.*s", len ? " " : "", (int)n, p);
        }
      }
      p += n;
      while (*p == ' ') p++;
    }
    return missing;
  }
  if (buf && size) snprintf(buf, size, "variant %s is not one of this %s CPU family's: %s", variant,
                            ARCH, vg_probe_variants());
  return -1;
}
