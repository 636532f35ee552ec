/* Any bytes as an ESP packet for an address of the box: ip4-local,
 * esp-decrypt and whatever a decrypted packet reaches (ip4-input, routing
 * through the tunnel, ICMP errors) must count and drop or forward it, never
 * crash or leak. The target builds a valid outer Ethernet and IPv4 header
 * (protocol 50, or UDP to 4500 or 4501) around the input after its first
 * two bytes. The SAs: GCM tunnel (SPI 0x100, bound to a tunnel), CBC+HMAC
 * tunnel with ESN and a 1024 window (0x200), GCM transport in UDP on 4500
 * (0x300), CBC+SHA1 transport, ESN, in UDP on 4501 (0x400). A fuzzer cannot
 * forge ICVs, so byte 1 picks an SA and asks for the input's bytes after
 * the ESP header to be encrypted and authenticated here (then the padding,
 * next header and inner packet are the fuzzer's, checked behind a good
 * ICV): bits 0-1 the SA, bit 2 seal, bit 3 a traced packet. Byte 0: bit 0
 * UDP, bit 1 port 4501, bits 2-3 an IPv4 total length up to 3 bytes short
 * (Ethernet padding). */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>

#include "../engine/checksum.h"
#include "../ip4/ip4.h"
#include "fuzz-common.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define LOCAL IP(10, 1, 0, 1)
#define PEER IP(10, 1, 0, 2)

static uint32_t port;
static uint8_t port_mac[6];

typedef struct {
  uint32_t spi, crypto, integ, flags;
} fuzz_sa_t;

static const fuzz_sa_t sas[4] = {
    {0x100, VG_IPSEC_CRYPTO_AES_128_GCM, VG_IPSEC_INTEG_NONE, VG_IPSEC_SA_TUNNEL | VG_IPSEC_SA_ANTI_REPLAY},
    {0x200, VG_IPSEC_CRYPTO_AES_256_CBC, VG_IPSEC_INTEG_HMAC_SHA_256_128,
     VG_IPSEC_SA_TUNNEL | VG_IPSEC_SA_ESN | VG_IPSEC_SA_ANTI_REPLAY},
    {0x300, VG_IPSEC_CRYPTO_AES_128_GCM, VG_IPSEC_INTEG_NONE, VG_IPSEC_SA_UDP_ENCAP},
    {0x400, VG_IPSEC_CRYPTO_AES_128_CBC, VG_IPSEC_INTEG_HMAC_SHA1_96,
     VG_IPSEC_SA_UDP_ENCAP | VG_IPSEC_SA_ESN | VG_IPSEC_SA_ANTI_REPLAY},
};
static const uint32_t key_len[] = {0, 16, 24, 32, 20, 36}, ikey_len[] = {0, 20, 32, 48, 64};

static vg_ipsec_sa_config_t config_of(const fuzz_sa_t *s, int inbound) {
  vg_ipsec_sa_config_t c = {.spi = s->spi, .flags = s->flags, .crypto_alg = s->crypto, .integ_alg = s->integ,
                            .crypto_key_len = key_len[s->crypto], .integ_key_len = ikey_len[s->integ]};
  for (int i = 0; i < VG_IPSEC_KEY_MAX; i++) c.crypto_key[i] = (uint8_t)(s->spi + i), c.integ_key[i] = (uint8_t)i;
  if (inbound) c.flags |= VG_IPSEC_SA_INBOUND;
  if (s->flags & VG_IPSEC_SA_TUNNEL) c.tunnel_src = inbound ? PEER : LOCAL, c.tunnel_dst = inbound ? LOCAL : PEER;
  if (s->spi == 0x200) c.replay_window = 1024;
  if (s->spi == 0x400) c.udp_dport = 4501;
  return c;
}

static void setup(vg_dp_t *dp) {
  int a = vg_pcap_interface_create(dp, "A", NULL, 0, "/dev/null");
  int b = vg_pcap_interface_create(dp, "B", NULL, 0, "/dev/null");
  static const uint8_t peer[6] = {0x02, 0xaa, 0, 0, 0, 2}, host[6] = {0x02, 0xbb, 0, 0, 0, 2};
  if (a < 0 || b < 0 || vg_interface_add_ip4(dp, (uint32_t)a, LOCAL, 24) ||
      vg_ip4_neighbor_add(dp, (uint32_t)a, PEER, peer, 1) || vg_interface_add_ip4(dp, (uint32_t)b, IP(10, 9, 0, 1), 24) ||
      vg_ip4_neighbor_add(dp, (uint32_t)b, IP(10, 9, 0, 2), host, 1))
    abort();
  for (uint32_t i = 0; i < 4; i++) {
    vg_ipsec_sa_config_t in = config_of(&sas[i], 1);
    if (vg_ipsec_sa_add(dp, 10 + i, &in) < 0) abort();
  }
  /* SA 10 is a tunnel's; what comes through it may be routed back into it. */
  vg_ipsec_sa_config_t out = config_of(&sas[0], 0);
  out.spi = 0x101;
  uint32_t in = 10;
  int t = vg_ipsec_tunnel_add(dp, NULL, LOCAL, PEER, 0);
  vg_next_hop_t nh = {0, (uint32_t)t, 1};
  if (t < 0 || vg_ipsec_sa_add(dp, 20, &out) || vg_ipsec_tunnel_protect(dp, (uint32_t)t, 20, &in, 1) ||
      vg_ip4_route_add(dp, 0, IP(172, 16, 0, 0), 12, &nh, 1, 0))
    abort();
  port = (uint32_t)a;
  vg_interface_get_mac(dp, port, port_mac);
}

/* Encrypts and authenticates esp[8 + iv ..) as SA s would have sent it with
 * sequence number seq (its low half already in esp[4..8)); len covers the
 * ESP header to the end of the ICV. Returns whether it could. */
static int seal(const fuzz_sa_t *s, uint8_t *esp, uint32_t len) {
  vg_ipsec_sa_config_t c = config_of(s, 0);
  int gcm = s->crypto >= VG_IPSEC_CRYPTO_AES_128_GCM;
  uint32_t iv = gcm ? 8 : 16, icv = gcm ? 16 : ikey_len[s->integ] / 2;
  if (s->integ == VG_IPSEC_INTEG_HMAC_SHA1_96) icv = 12;
  if (len < 8 + iv + icv) return 0;
  uint32_t ct = len - 8 - iv - icv, block = gcm ? 4 : 16;
  if (ct % block) return 0;
  uint8_t hi[4] = {0}; /* the high half the SA infers first: 0 */
  int esn = (s->flags & VG_IPSEC_SA_ESN) != 0, n;
  EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
  int ok = 1;
  if (gcm) {
    uint8_t nonce[12], aad[12];
    memcpy(nonce, c.crypto_key + 16, 4);
    memcpy(nonce + 4, esp + 8, 8);
    memcpy(aad, esp, 4);
    memcpy(aad + 4, esn ? hi : esp + 4, 4);
    memcpy(aad + 8, esp + 4, 4);
    ok = EVP_EncryptInit_ex(x, EVP_aes_128_gcm(), NULL, c.crypto_key, nonce) &&
         EVP_EncryptUpdate(x, NULL, &n, aad, esn ? 12 : 8) && EVP_EncryptUpdate(x, esp + 16, &n, esp + 16, (int)ct) &&
         EVP_EncryptFinal_ex(x, esp + 16 + ct, &n) &&
         EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, esp + 16 + ct);
  } else {
    const EVP_CIPHER *cipher = s->crypto == VG_IPSEC_CRYPTO_AES_256_CBC ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
    const EVP_MD *md = s->integ == VG_IPSEC_INTEG_HMAC_SHA1_96 ? EVP_sha1() : EVP_sha256();
    ok = EVP_EncryptInit_ex(x, cipher, NULL, c.crypto_key, esp + 8) && EVP_CIPHER_CTX_set_padding(x, 0) &&
         EVP_EncryptUpdate(x, esp + 24, &n, esp + 24, (int)ct);
    uint8_t mac[64], buf[2048];
    unsigned ml;
    memcpy(buf, esp, 24 + ct);
    memcpy(buf + 24 + ct, hi, 4);
    ok = ok && HMAC(md, c.integ_key, (int)c.integ_key_len, buf, 24 + ct + (esn ? 4 : 0), mac, &ml);
    memcpy(esp + 24 + ct, mac, icv);
  }
  EVP_CIPHER_CTX_free(x);
  return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vg_dp_t *dp = fuzz_dp();
  static int ready;
  if (!ready) setup(dp), ready = 1;
  if (size < 2) return 0;
  uint8_t frame[2048];
  int udp = data[0] & 1;
  uint32_t hdr = 14 + 20 + (udp ? 8 : 0);
  size_t n = size - 2 < sizeof frame - hdr ? size - 2 : sizeof frame - hdr;
  memcpy(frame, port_mac, 6);
  memcpy(frame + 6, (const uint8_t[]){0x02, 0xaa, 0, 0, 0, 2, 0x08, 0x00}, 8);
  uint8_t *ip = frame + 14, *esp = frame + hdr;
  memcpy(esp, data + 2, n);
  const fuzz_sa_t *s = &sas[data[1] & 3];
  if ((data[1] & 4) && n >= 8) {
    vg_wr_be32(esp, s->spi);
    if (!seal(s, esp, (uint32_t)n)) return 0;
  }
  uint32_t short_by = (data[0] >> 2) & 3, total = (uint32_t)(hdr - 14 + n);
  total = total - short_by < hdr - 14 ? hdr - 14 : total - short_by;
  memset(ip, 0, 20);
  ip[0] = 0x45, ip[8] = 64, ip[9] = udp ? 17 : 50;
  vg_put_be16(ip + 2, (uint16_t)total);
  vg_wr_be32(ip + 12, PEER);
  vg_wr_be32(ip + 16, LOCAL);
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, 20)));
  if (udp) {
    vg_put_be16(ip + 20, 4500);
    vg_put_be16(ip + 22, data[0] & 2 ? 4501 : 4500);
    vg_put_be16(ip + 24, (uint16_t)(total - 20));
    ip[26] = ip[27] = 0;
  }
  fuzz_inject_on(dp, "ethernet-input", port, frame, hdr + n, data[1] & 8);
  vg_dp_run_until_idle(dp, 8);
  fuzz_check_pool(dp);
  return 0;
}
