/* AES-GCM for short ESP payloads with VAES and VPCLMULQDQ (AVX-512): four
 * blocks per instruction and one GHASH reduction a packet. A library's
 * one-call GCM runs three dependent GHASH reductions (the AAD, the data,
 * the lengths) and its setup for every packet, and at 64 bytes that is
 * most of its time; here every block, the AAD and the length block
 * included, is multiplied by its own power of H (precomputed per SA) and
 * the products are summed before the one reduction. Built with target
 * attributes, so every x86-64 variant has it; used only when the CPU has
 * the instructions (vg_gcm_vaes_usable). The GHASH arithmetic is Intel's
 * (Gueron and Kounavis, "Intel Carry-Less Multiplication Instruction and
 * its Usage for Computing the GCM Mode", algorithms 1 and 5): blocks
 * byte-reflected, the 256-bit product shifted left by one and reduced. */
#if defined(__x86_64__)
#include "gcm-vaes.h"

#include <cpuid.h>
#include <immintrin.h>
#include <string.h>

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,vaes,vpclmulqdq,aes,pclmul,sse4.1")))

/* From cpuid and XCR0 (as probe/cpu-probe.c reads them): clang 14's
 * __builtin_cpu_supports knows neither VAES nor VPCLMULQDQ. */
int vg_gcm_vaes_usable(void) {
  unsigned a, b, c, d, b7 = 0, c7 = 0, d7 = 0;
  __cpuid(1, a, b, c, d);
  if (!(c & bit_OSXSAVE) || __get_cpuid_max(0, 0) < 7) return 0;
  __cpuid_count(7, 0, a, b7, c7, d7);
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  const unsigned need_b7 = bit_AVX512F | bit_AVX512DQ | bit_AVX512BW | bit_AVX512VL;
  return (lo & 0xe6) == 0xe6 && (b7 & need_b7) == need_b7 && (c7 & bit_VAES) && (c7 & bit_VPCLMULQDQ) &&
         (c & bit_AES) && (c & bit_PCLMUL) && (c & bit_SSE4_1);
}

TARGET static inline __m128i bswap128(__m128i x) {
  return _mm_shuffle_epi8(x, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

TARGET static inline __m512i bswap512(__m512i x) {
  return _mm512_shuffle_epi8(x, _mm512_broadcast_i32x4(_mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                                                     13, 14, 15)));
}

/* The 256-bit product hi:lo (reflected) shifted left by one and reduced
 * modulo x^128 + x^7 + x^2 + x + 1. */
TARGET static inline __m128i reduce(__m128i lo, __m128i hi) {
  __m128i c_lo = _mm_srli_epi32(lo, 31), c_hi = _mm_srli_epi32(hi, 31);
  lo = _mm_slli_epi32(lo, 1), hi = _mm_slli_epi32(hi, 1);
  __m128i top = _mm_srli_si128(c_lo, 12);
  c_hi = _mm_slli_si128(c_hi, 4), c_lo = _mm_slli_si128(c_lo, 4);
  lo = _mm_or_si128(lo, c_lo);
  hi = _mm_or_si128(_mm_or_si128(hi, c_hi), top);
  __m128i a = _mm_xor_si128(_mm_xor_si128(_mm_slli_epi32(lo, 31), _mm_slli_epi32(lo, 30)), _mm_slli_epi32(lo, 25));
  __m128i b = _mm_srli_si128(a, 4);
  lo = _mm_xor_si128(lo, _mm_slli_si128(a, 12));
  __m128i d = _mm_xor_si128(_mm_xor_si128(_mm_srli_epi32(lo, 1), _mm_srli_epi32(lo, 2)), _mm_srli_epi32(lo, 7));
  d = _mm_xor_si128(d, b);
  return _mm_xor_si128(hi, _mm_xor_si128(lo, d));
}

/* The same for a product with an operand stored times x^-1 (the powers
 * of H here, as intel-ipsec-mb keeps its hash keys): no shift, and the
 * reduction in two carry-less multiplications by the polynomial. */
TARGET static inline __m128i reduce_shifted(__m128i lo, __m128i hi) {
  const __m128i poly = _mm_set_epi64x((long long)0xc200000000000000ull, 0x00000001c2000000ll);
  lo = _mm_xor_si128(lo, _mm_slli_si128(_mm_clmulepi64_si128(poly, lo, 0x01), 8));
  __m128i t = _mm_srli_si128(_mm_clmulepi64_si128(poly, lo, 0x00), 4);
  __m128i u = _mm_slli_si128(_mm_clmulepi64_si128(poly, lo, 0x10), 4);
  return _mm_xor_si128(_mm_xor_si128(u, hi), t);
}

TARGET static __m128i gfmul(__m128i a, __m128i b) {
  __m128i lo = _mm_clmulepi64_si128(a, b, 0x00), hi = _mm_clmulepi64_si128(a, b, 0x11);
  __m128i mid = _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x10), _mm_clmulepi64_si128(a, b, 0x01));
  return reduce(_mm_xor_si128(lo, _mm_slli_si128(mid, 8)), _mm_xor_si128(hi, _mm_srli_si128(mid, 8)));
}

TARGET void vg_gcm_vaes_init(vg_gcm_vaes_key_t *k, const uint8_t *round_keys, uint32_t rounds) {
  memset(k, 0, sizeof *k);
  k->rounds = rounds;
  memcpy(k->rk, round_keys, 16 * (rounds + 1));
  /* H = AES_K(0): the zero block after the first AddRoundKey is that key. */
  __m128i h = _mm_load_si128((const __m128i *)k->rk[0]);
  for (uint32_t r = 1; r < rounds; r++) h = _mm_aesenc_si128(h, _mm_load_si128((const __m128i *)k->rk[r]));
  h = bswap128(_mm_aesenclast_si128(h, _mm_load_si128((const __m128i *)k->rk[rounds])));
  /* Stored times x^-1 (x^127 + x^6 + x + 1), for reduce_shifted. */
  const __m128i x_inv = _mm_set_epi64x((long long)0xc200000000000000ull, 1);
  __m128i p = h;
  for (uint32_t i = 1; i <= VG_GCM_VAES_POWERS; i++) {
    /* descending: H^n .. H^1, then zeros */
    _mm_storeu_si128((__m128i *)k->hpow[VG_GCM_VAES_POWERS - i], gfmul(p, x_inv));
    p = gfmul(p, h);
  }
}

/* Products of four blocks and four powers, unreduced, into lo, mid, hi. */
TARGET static inline void ghash4(__m512i x, __m512i h, __m512i *lo, __m512i *mid, __m512i *hi) {
  *lo = _mm512_xor_si512(*lo, _mm512_clmulepi64_epi128(x, h, 0x00));
  *hi = _mm512_xor_si512(*hi, _mm512_clmulepi64_epi128(x, h, 0x11));
  *mid = _mm512_xor_si512(*mid, _mm512_xor_si512(_mm512_clmulepi64_epi128(x, h, 0x10),
                                                 _mm512_clmulepi64_epi128(x, h, 0x01)));
}

TARGET static inline __m128i fold4(__m512i x) {
  __m256i y = _mm256_xor_si256(_mm512_castsi512_si256(x), _mm512_extracti64x4_epi64(x, 1));
  return _mm_xor_si128(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
}

/* The whole of it for n_aes vectors of counter blocks (a constant in each
 * caller, so the keystream stays in registers). */
TARGET static inline __attribute__((always_inline)) void crypt_n(const vg_gcm_vaes_key_t *k, __m128i j0x,
                                                                 const uint8_t *aad, uint32_t aad_len,
                                                                 uint8_t *data, uint32_t len, uint8_t tag[16],
                                                                 int enc, const uint32_t n_aes) {
  uint32_t n_blocks = (len + 15) / 16, rounds = k->rounds;
  /* Counter blocks J0 + b for b = 0 .. n_blocks: J0 (b = 0) masks the tag. */
  __m512i j0 = _mm512_broadcast_i32x4(j0x);
  __m512i inc = _mm512_set_epi32(3 << 24, 0, 0, 0, 2 << 24, 0, 0, 0, 1 << 24, 0, 0, 0, 0, 0, 0, 0);
  __m512i step = _mm512_broadcast_i32x4(_mm_set_epi32(4 << 24, 0, 0, 0));
  __m512i ks[VG_GCM_VAES_MAX_LEN / 64 + 2];
  __m512i ctr = _mm512_add_epi32(j0, inc);
  __m512i rk0 = _mm512_broadcast_i32x4(_mm_load_si128((const __m128i *)k->rk[0]));
  for (uint32_t a = 0; a < n_aes; a++, ctr = _mm512_add_epi32(ctr, step)) ks[a] = _mm512_xor_si512(ctr, rk0);
  for (uint32_t r = 1; r < rounds; r++) {
    __m512i rk = _mm512_broadcast_i32x4(_mm_load_si128((const __m128i *)k->rk[r]));
    for (uint32_t a = 0; a < n_aes; a++) ks[a] = _mm512_aesenc_epi128(ks[a], rk);
  }
  __m512i rkl = _mm512_broadcast_i32x4(_mm_load_si128((const __m128i *)k->rk[rounds]));
  for (uint32_t a = 0; a < n_aes; a++) ks[a] = _mm512_aesenclast_epi128(ks[a], rkl);
  ks[n_aes] = _mm512_setzero_si512();
  /* GHASH over the blocks AAD, C1 .. Cn, lengths: the i-th (from 0)
   * times H^(n + 2 - i), four at a time, the ciphertext moved up a lane
   * behind the AAD. */
  __m512i ct[VG_GCM_VAES_MAX_LEN / 64 + 2];
  uint32_t n_ct = 0;
  for (uint32_t c = 0; c < n_aes; c++) {
    if (c * 64 >= len) break;
    uint32_t left = len - c * 64;
    __mmask64 m = left >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << left) - 1;
    __m512i in = _mm512_maskz_loadu_epi8(m, data + 64 * c);
    __m512i out = _mm512_xor_si512(in, _mm512_alignr_epi64(ks[c + 1], ks[c], 2));
    if (left >= 64) _mm512_storeu_si512(data + 64 * c, out);
    else _mm512_mask_storeu_epi8(data + 64 * c, m, out);
    ct[n_ct++] = bswap512(enc ? _mm512_maskz_mov_epi8(m, out) : in);
  }
  ct[n_ct] = _mm512_setzero_si512();
  __m128i a = bswap128(_mm_maskz_loadu_epi8((__mmask16)((1u << aad_len) - 1), aad));
  __m512i prev = _mm512_inserti32x4(_mm512_setzero_si512(), a, 3);
  __m512i lens = _mm512_broadcast_i32x4(_mm_set_epi64x((long long)aad_len * 8, (long long)len * 8));
  uint32_t last = n_blocks + 1; /* the length block's place */
  __m512i lo = _mm512_setzero_si512(), mid = lo, hi = lo;
  const uint8_t *pow = k->hpow[VG_GCM_VAES_POWERS - n_blocks - 2];
  for (uint32_t c = 0; c <= n_aes; c++) {
    if (c * 4 > last) break;
    __m512i x = _mm512_alignr_epi64(ct[c], prev, 6);
    prev = ct[c];
    if (last / 4 == c) x = _mm512_mask_mov_epi64(x, (__mmask8)(3u << (2 * (last % 4))), lens);
    ghash4(x, _mm512_loadu_si512((const void *)(pow + 64 * c)), &lo, &mid, &hi);
  }
  __m128i l = fold4(lo), mi = fold4(mid), hh = fold4(hi);
  __m128i s = reduce_shifted(_mm_xor_si128(l, _mm_slli_si128(mi, 8)), _mm_xor_si128(hh, _mm_srli_si128(mi, 8)));
  _mm_storeu_si128((__m128i *)tag, _mm_xor_si128(bswap128(s), _mm512_castsi512_si128(ks[0])));
}

TARGET void vg_gcm_vaes_crypt(const vg_gcm_vaes_key_t *k, uint32_t salt, const uint8_t iv[8], const uint8_t *aad,
                              uint32_t aad_len, uint8_t *data, uint32_t len, uint8_t tag[16], int enc) {
  uint32_t iv0, iv1;
  memcpy(&iv0, iv, 4), memcpy(&iv1, iv + 4, 4);
  __m128i j0 = _mm_set_epi32(0x01000000, (int)iv1, (int)iv0, (int)salt);
  switch ((len + 15) / 16 / 4) { /* counter vectors: the blocks and J0 */
  case 0: crypt_n(k, j0, aad, aad_len, data, len, tag, enc, 1); break;
  case 1: crypt_n(k, j0, aad, aad_len, data, len, tag, enc, 2); break;
  case 2: crypt_n(k, j0, aad, aad_len, data, len, tag, enc, 3); break;
  case 3: crypt_n(k, j0, aad, aad_len, data, len, tag, enc, 4); break;
  default: crypt_n(k, j0, aad, aad_len, data, len, tag, enc, 5); break;
  }
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int vg_no_gcm_vaes_t;
#endif
