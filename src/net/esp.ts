/* The ESP algorithms vecgate speaks (RFC 4303 with RFC 3602, 4106, 2404,
 * 4868): their names in documents and on the console, their numbers in the
 * C API (vecgate.h VG_IPSEC_CRYPTO_* / VG_IPSEC_INTEG_*), and their key sizes. */

export const CRYPTO_ALGS = ['aes-128-cbc', 'aes-192-cbc', 'aes-256-cbc', 'aes-128-gcm', 'aes-256-gcm'] as const;
export const INTEGRITY_ALGS = ['none', 'hmac-sha1-96', 'hmac-sha-256-128', 'hmac-sha-384-192', 'hmac-sha-512-256'] as const;
export type CryptoAlg = (typeof CRYPTO_ALGS)[number];
export type IntegrityAlg = (typeof INTEGRITY_ALGS)[number];

/* The C API's number of each is its place in the list (crypto from 1). */
export const cryptoId = (a: CryptoAlg) => CRYPTO_ALGS.indexOf(a) + 1;
export const integrityId = (a: IntegrityAlg) => INTEGRITY_ALGS.indexOf(a);
export const cryptoName = (id: number): CryptoAlg | undefined => CRYPTO_ALGS[id - 1];
export const integrityName = (id: number): IntegrityAlg | undefined => INTEGRITY_ALGS[id];

/* Key bytes: the AES key (GCM: followed by the 4-byte salt, RFC 4106 8.1);
 * an HMAC key is as long as its hash's output (RFC 2404, RFC 4868 2.1.1). */
export const CRYPTO_KEY_BYTES: Record<CryptoAlg, number> = {
  'aes-128-cbc': 16,
  'aes-192-cbc': 24,
  'aes-256-cbc': 32,
  'aes-128-gcm': 20,
  'aes-256-gcm': 36,
};
export const INTEGRITY_KEY_BYTES: Record<IntegrityAlg, number> = {
  none: 0,
  'hmac-sha1-96': 20,
  'hmac-sha-256-128': 32,
  'hmac-sha-384-192': 48,
  'hmac-sha-512-256': 64,
};

export const isGcm = (a: CryptoAlg) => a.endsWith('-gcm');

export const NAT_T_PORT = 4500; /* RFC 3948 */
