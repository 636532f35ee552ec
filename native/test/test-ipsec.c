/* IPsec ESP: two boxes, A (10.0.0.1 on u0, 192.168.1.0/24 on p1) and B
 * (10.0.0.2 on u0, 192.168.2.0/24 on p1), each with an ipsec tunnel to the
 * other. What A's u0 sends is read back from its pcap file and given to
 * B's u0, so every round trip is A's esp-encrypt against B's esp-decrypt.
 * Known answers come from scapy (esp-vectors.h), an implementation that
 * is not ours; bad packets (padding, next header) are built here with
 * OpenSSL directly. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../engine/checksum.h"
#include "../ip4/ip4.h"
#include "../ipsec/crypto.h"
#include "../ipsec/ipsec.h"
#include "esp-vectors.h"
#include "test-util.h"
#include "test.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define A_ADDR IP(10, 0, 0, 1)
#define B_ADDR IP(10, 0, 0, 2)
#define SA_OUT 1
#define SA_IN 2

static const uint8_t HOST_MAC[6] = {2, 0, 0, 0, 0, 0x77}; /* the hosts on p1, both boxes */

typedef struct {
  vg_dp_t *dp;
  int u0, p1, tun;
  uint32_t self, peer;
  char u0_pcap[64], p1_pcap[64];
  uint32_t u0_read, p1_read; /* frames of the pcap files already taken */
} box_t;

static int box_setup(box_t *x, char name, const char *options) {
  memset(x, 0, sizeof *x);
  x->self = name == 'A' ? A_ADDR : B_ADDR;
  x->peer = name == 'A' ? B_ADDR : A_ADDR;
  snprintf(x->u0_pcap, sizeof x->u0_pcap, "%s", tmp_path(name == 'A' ? "ipsec-a-u0.pcap" : "ipsec-b-u0.pcap"));
  snprintf(x->p1_pcap, sizeof x->p1_pcap, "%s", tmp_path(name == 'A' ? "ipsec-a-p1.pcap" : "ipsec-b-p1.pcap"));
  x->dp = vg_dp_create(options ? options : "buffers=4096");
  if (!x->dp) return 0;
  uint8_t peer_mac[6] = {2, 0, 0, 0, 0, name == 'A' ? 0xbb : 0xaa};
  uint32_t lan = name == 'A' ? IP(192, 168, 1, 0) : IP(192, 168, 2, 0);
  uint32_t far = name == 'A' ? IP(192, 168, 2, 0) : IP(192, 168, 1, 0);
  uint32_t host = name == 'A' ? IP(192, 168, 1, 2) : IP(192, 168, 2, 5);
  x->u0 = vg_pcap_interface_create(x->dp, "u0", NULL, 0, x->u0_pcap);
  x->p1 = vg_pcap_interface_create(x->dp, "p1", NULL, 0, x->p1_pcap);
  if (x->u0 < 0 || x->p1 < 0 || vg_interface_add_ip4(x->dp, (uint32_t)x->u0, x->self, 24) < 0 ||
      vg_ip4_neighbor_add(x->dp, (uint32_t)x->u0, x->peer, peer_mac, 1) < 0 ||
      vg_interface_add_ip4(x->dp, (uint32_t)x->p1, lan | 1, 24) < 0 ||
      vg_ip4_neighbor_add(x->dp, (uint32_t)x->p1, host, HOST_MAC, 1) < 0 ||
      (x->tun = vg_ipsec_tunnel_add(x->dp, NULL, x->self, x->peer, 0)) < 0) {
    test_fail(__FILE__, __LINE__, "set-up: %s", vg_last_error());
    return 0;
  }
  vg_next_hop_t nh = {0, (uint32_t)x->tun, 1};
  if (vg_ip4_route_add(x->dp, 0, far, 24, &nh, 1, 0) < 0) {
    test_fail(__FILE__, __LINE__, "route: %s", vg_last_error());
    return 0;
  }
  return 1;
}

/* A config for sa in direction dir of box self<->peer; keys from seed. */
static vg_ipsec_sa_config_t sa_config(uint32_t crypto, uint32_t integ, uint32_t flags, uint32_t spi,
                                      uint32_t src, uint32_t dst, uint8_t seed) {
  static const uint32_t ckey[] = {0, 16, 24, 32, 20, 36}, ikey[] = {0, 20, 32, 48, 64};
  vg_ipsec_sa_config_t c = {.spi = spi, .flags = flags, .crypto_alg = crypto, .integ_alg = integ,
                            .crypto_key_len = ckey[crypto], .integ_key_len = ikey[integ]};
  for (uint32_t i = 0; i < VG_IPSEC_KEY_MAX; i++) {
    c.crypto_key[i] = (uint8_t)(seed + i);
    c.integ_key[i] = (uint8_t)(seed * 3 + i);
  }
  if (flags & VG_IPSEC_SA_TUNNEL) c.tunnel_src = src, c.tunnel_dst = dst;
  return c;
}

/* SA_OUT and SA_IN on both boxes, A's out being B's in, protecting the tunnels. */
static int protect_pair(box_t *a, box_t *b, uint32_t crypto, uint32_t integ, uint32_t flags) {
  uint32_t in[1] = {SA_IN};
  vg_ipsec_sa_config_t ao = sa_config(crypto, integ, flags | VG_IPSEC_SA_TUNNEL, 0x1111, A_ADDR, B_ADDR, 7);
  vg_ipsec_sa_config_t bo = sa_config(crypto, integ, flags | VG_IPSEC_SA_TUNNEL, 0x2222, B_ADDR, A_ADDR, 9);
  vg_ipsec_sa_config_t ai = bo, bi = ao;
  ai.flags |= VG_IPSEC_SA_INBOUND | VG_IPSEC_SA_ANTI_REPLAY;
  bi.flags |= VG_IPSEC_SA_INBOUND | VG_IPSEC_SA_ANTI_REPLAY;
  if (vg_ipsec_sa_add(a->dp, SA_OUT, &ao) < 0 || vg_ipsec_sa_add(a->dp, SA_IN, &ai) < 0 ||
      vg_ipsec_sa_add(b->dp, SA_OUT, &bo) < 0 || vg_ipsec_sa_add(b->dp, SA_IN, &bi) < 0 ||
      vg_ipsec_tunnel_protect(a->dp, (uint32_t)a->tun, SA_OUT, in, 1) < 0 ||
      vg_ipsec_tunnel_protect(b->dp, (uint32_t)b->tun, SA_OUT, in, 1) < 0) {
    test_fail(__FILE__, __LINE__, "protect: %s", vg_last_error());
    return 0;
  }
  return 1;
}

/* The next frame box x sent out of u0 (or p1); 0 when there is none. */
static uint32_t next_sent(box_t *x, int on_p1, uint8_t *out, uint32_t max) {
  vg_interface_flush(x->dp, (uint32_t)(on_p1 ? x->p1 : x->u0));
  uint32_t len = read_pcap_frame(on_p1 ? x->p1_pcap : x->u0_pcap, on_p1 ? x->p1_read : x->u0_read, out, max);
  if (len) (*(on_p1 ? &x->p1_read : &x->u0_read))++;
  return len;
}

/* One frame into node as received on rx; the graph runs until idle. */
static void inject(vg_dp_t *dp, const char *node, uint32_t rx, const uint8_t *data, uint32_t len,
                   uint32_t sa_slot) {
  vg_thread_t *th = &dp->threads[0];
  uint32_t bi;
  if (!vg_buffer_alloc(th, &bi, 1)) {
    test_fail(__FILE__, __LINE__, "no buffer");
    return;
  }
  vg_buffer_t *b = vg_buffer(dp, bi);
  memset(b, 0, sizeof *b);
  b->sw_if_index[VG_RX] = rx;
  b->sw_if_index[VG_TX] = VG_NONE;
  *vg_esp_sa_slot(b) = sa_slot;
  vg_buffer_append(th, bi, data, len);
  uint32_t ni = (uint32_t)vg_node_index(dp, node);
  vg_trace_maybe_start(th, &dp->nodes[ni], b); /* when vg_trace_add names node */
  vg_enqueue(th, ni, &bi, 1);
  vg_dp_run_until_idle(dp, 0);
}

/* An Ethernet frame to x's port (u0 or p1) around an IPv4 packet. */
static void send_ip(box_t *x, int on_p1, const uint8_t *ip, uint32_t len) {
  uint8_t f[2048];
  vg_interface_get_mac(x->dp, (uint32_t)(on_p1 ? x->p1 : x->u0), f);
  memcpy(f + 6, HOST_MAC, 6);
  f[12] = 0x08, f[13] = 0;
  memcpy(f + 14, ip, len);
  inject(x->dp, "ethernet-input", (uint32_t)(on_p1 ? x->p1 : x->u0), f, 14 + len, VG_NONE);
}

/* Hands what A sent out of u0 to B's u0 (the wire between them). */
static uint32_t wire(box_t *from, box_t *to, uint8_t *frame, uint32_t max) {
  uint32_t len = next_sent(from, 0, frame, max);
  if (len) send_ip(to, 0, frame + 14, len - 14);
  return len;
}

/* A UDP packet from src to dst with n bytes of payload (pattern from seed). */
static uint32_t udp_packet(uint8_t *ip, uint32_t src, uint32_t dst, uint32_t n, uint8_t seed) {
  uint32_t total = 28 + n;
  memset(ip, 0, 28);
  ip[0] = 0x45, ip[8] = 64, ip[9] = 17;
  vg_put_be16(ip + 2, (uint16_t)total);
  vg_put_be16(ip + 4, seed);
  vg_wr_be32(ip + 12, src);
  vg_wr_be32(ip + 16, dst);
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, 20)));
  vg_put_be16(ip + 20, 4000 + seed);
  vg_put_be16(ip + 22, 53);
  vg_put_be16(ip + 24, (uint16_t)(8 + n));
  for (uint32_t i = 0; i < n; i++) ip[28 + i] = (uint8_t)(seed + i * 7);
  return total;
}

/* Whether got is want forwarded `hops` times (TTL and checksum apart). */
static int same_but_ttl(const uint8_t *got, const uint8_t *want, uint32_t len, int hops) {
  if (got[8] != want[8] - hops || vg_csum_fold(vg_csum_add(0, got, 20)) != 0) return 0;
  return memcmp(got, want, 8) == 0 && got[9] == want[9] && memcmp(got + 12, want + 12, len - 12) == 0;
}

static vg_ipsec_sa_info_t sa_info(vg_dp_t *dp, uint32_t sa_id) {
  vg_ipsec_sa_info_t all[8] = {0}, none = {0};
  int n = vg_ipsec_sa_dump(dp, all, 8);
  for (int i = 0; i < n && i < 8; i++)
    if (all[i].sa_id == sa_id) return all[i];
  return none;
}

static void box_free(box_t *x) { vg_dp_destroy(x->dp); }

/* ---- round trips ---- */

static void round_trip(uint32_t crypto, uint32_t integ, uint32_t flags) {
  box_t a, b;
  if (!box_setup(&a, 'A', NULL) || !box_setup(&b, 'B', NULL) || !protect_pair(&a, &b, crypto, integ, flags)) return;
  static const uint32_t sizes[] = {0, 1, 13, 14, 15, 16, 100, 1300};
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < VG_ARRAY_LEN(sizes); i++) {
    uint8_t ip[1500], f[2048], got[2048];
    uint32_t len = udp_packet(ip, IP(192, 168, 1, 2), IP(192, 168, 2, 5), sizes[i], (uint8_t)i);
    bytes += len;
    send_ip(&a, 1, ip, len);
    uint32_t flen = wire(&a, &b, f, sizeof f);
    if (!flen) {
      test_fail(__FILE__, __LINE__, "crypto %u integ %u flags 0x%x size %u: A sent nothing", crypto, integ,
                flags, sizes[i]);
      break;
    }
    const uint8_t *o = f + 14;
    CHECK_EQ(o[9], flags & VG_IPSEC_SA_UDP_ENCAP ? 17 : 50);
    CHECK_EQ(vg_rd_be32(o + 12), A_ADDR);
    CHECK_EQ(vg_rd_be32(o + 16), B_ADDR);
    CHECK_EQ(o[8], 63);
    CHECK_EQ(vg_csum_fold(vg_csum_add(0, o, 20)), 0);
    const uint8_t *esp = o + 20 + (flags & VG_IPSEC_SA_UDP_ENCAP ? 8 : 0);
    if (flags & VG_IPSEC_SA_UDP_ENCAP) {
      CHECK_EQ(o[20] << 8 | o[21], 4500);
      CHECK_EQ(o[22] << 8 | o[23], 4500);
      CHECK_EQ(o[24] << 8 | o[25], flen - 14 - 20);
    }
    CHECK_EQ(vg_rd_be32(esp), 0x1111);
    CHECK_EQ(vg_rd_be32(esp + 4), i + 1);
    uint32_t glen = next_sent(&b, 1, got, sizeof got);
    if (glen != 14 + len || !same_but_ttl(got + 14, ip, len, 2))
      test_fail(__FILE__, __LINE__, "crypto %u integ %u flags 0x%x size %u: B delivered %u bytes, not the packet",
                crypto, integ, flags, sizes[i], glen);
  }
  uint32_t n = VG_ARRAY_LEN(sizes);
  vg_ipsec_sa_info_t ao = sa_info(a.dp, SA_OUT), bi = sa_info(b.dp, SA_IN);
  CHECK_EQ(ao.packets, n);
  CHECK_EQ(ao.seq, n);
  CHECK_EQ(bi.packets, n);
  CHECK_EQ(bi.seq, n);
  CHECK_EQ(bi.bytes, ao.bytes);
  CHECK_EQ(ao.bytes, bytes);
  CHECK_EQ(bi.integ_fails + bi.replay_drops + bi.decrypt_errors, 0);
  CHECK_EQ(stat_elem(a.dp, "/if/tx-packets", "ipsec0"), n);
  CHECK_EQ(stat_elem(b.dp, "/if/rx-packets", "ipsec0"), n);
  CHECK_EQ(stat_elem(b.dp, "/if/rx-bytes", "ipsec0"), bytes);
  CHECK_EQ(stat_elem(a.dp, "/ipsec/sa/packets", "1"), n);
  CHECK_EQ(stat_elem(b.dp, "/ipsec/sa/packets", "2"), n);
  CHECK_EQ(stat_error(b.dp, "esp-decrypt/packets decrypted"), n);
  box_free(&a);
  box_free(&b);
}

static const struct {
  uint32_t crypto, integ;
} algs[] = {
    {VG_IPSEC_CRYPTO_AES_128_GCM, VG_IPSEC_INTEG_NONE},
    {VG_IPSEC_CRYPTO_AES_256_GCM, VG_IPSEC_INTEG_NONE},
    {VG_IPSEC_CRYPTO_AES_128_CBC, VG_IPSEC_INTEG_HMAC_SHA1_96},
    {VG_IPSEC_CRYPTO_AES_192_CBC, VG_IPSEC_INTEG_HMAC_SHA_256_128},
    {VG_IPSEC_CRYPTO_AES_256_CBC, VG_IPSEC_INTEG_HMAC_SHA_384_192},
    {VG_IPSEC_CRYPTO_AES_128_CBC, VG_IPSEC_INTEG_HMAC_SHA_512_256},
};

TEST(ipsec_tunnel_round_trip_every_algorithm) {
  for (uint32_t i = 0; i < VG_ARRAY_LEN(algs); i++) round_trip(algs[i].crypto, algs[i].integ, 0);
}

TEST(ipsec_tunnel_round_trip_udp_encapsulated_and_esn) {
  for (uint32_t i = 0; i < VG_ARRAY_LEN(algs); i++) {
    round_trip(algs[i].crypto, algs[i].integ, VG_IPSEC_SA_UDP_ENCAP);
    round_trip(algs[i].crypto, algs[i].integ, VG_IPSEC_SA_ESN | VG_IPSEC_SA_COPY_DF);
  }
}

/* Transport mode is reached by esp-encrypt with the SA in the buffer (as
 * ipsec4-output sends it): A pings B inside ESP; B answers in clear. */
static void transport_round_trip(uint32_t crypto, uint32_t integ, uint32_t flags) {
  box_t a, b;
  if (!box_setup(&a, 'A', NULL) || !box_setup(&b, 'B', NULL)) return;
  vg_ipsec_sa_config_t out = sa_config(crypto, integ, flags, 0x3333, 0, 0, 5), in = out;
  in.flags |= VG_IPSEC_SA_INBOUND | VG_IPSEC_SA_ANTI_REPLAY;
  in.tunnel_dst = B_ADDR;
  REQUIRE(vg_ipsec_sa_add(a.dp, 5, &out) == 0);
  REQUIRE(vg_ipsec_sa_add(b.dp, 6, &in) == 0);
  uint8_t ip[128], f[2048];
  memset(ip, 0, sizeof ip);
  ip[0] = 0x45, ip[3] = 28 + 40, ip[8] = 64, ip[9] = 1;
  vg_wr_be32(ip + 12, A_ADDR);
  vg_wr_be32(ip + 16, B_ADDR);
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, 20)));
  ip[20] = 8, ip[24] = 0x12, ip[25] = 0x34, ip[27] = 1;
  for (int i = 0; i < 40; i++) ip[28 + i] = (uint8_t)(0xa0 + i);
  vg_put_be16(ip + 22, vg_csum_fold(vg_csum_add(0, ip + 20, 48)));
  inject(a.dp, "esp-encrypt", VG_NONE, ip, 68, (uint32_t)vg_ipsec_sa_slot(a.dp, 5));
  uint32_t flen = wire(&a, &b, f, sizeof f);
  REQUIRE(flen > 14 + 68);
  CHECK_EQ(f[14 + 9], flags & VG_IPSEC_SA_UDP_ENCAP ? 17 : 50);
  CHECK_EQ(f[14 + 4] << 8 | f[14 + 5], 0); /* the header kept its identification */
  CHECK_EQ(stat_error(b.dp, "esp-decrypt/packets decrypted"), 1);
  CHECK_EQ(stat_error(b.dp, "ip4-local/echo requests answered"), 1);
  CHECK_EQ(sa_info(b.dp, 6).bytes, 48);
  uint8_t reply[256];
  uint32_t rlen = next_sent(&b, 0, reply, sizeof reply);
  REQUIRE(rlen == 14 + 68);
  CHECK_EQ(reply[14 + 9], 1);
  CHECK_EQ(reply[14 + 20], 0); /* echo reply */
  CHECK(memcmp(reply + 14 + 28, ip + 28, 40) == 0);
  box_free(&a);
  box_free(&b);
}

TEST(ipsec_transport_round_trip_every_algorithm_plain_and_in_udp) {
  for (uint32_t i = 0; i < VG_ARRAY_LEN(algs); i++) {
    transport_round_trip(algs[i].crypto, algs[i].integ, 0);
    transport_round_trip(algs[i].crypto, algs[i].integ, VG_IPSEC_SA_UDP_ENCAP | VG_IPSEC_SA_ESN);
  }
}

/* ---- one crypto engine against the other ---- */

/* Frames into node as one vector, received on rx; the graph runs until idle. */
static void inject_vector(vg_dp_t *dp, const char *node, uint32_t rx, uint8_t (*frames)[2048],
                          const uint32_t *lens, uint32_t n) {
  vg_thread_t *th = &dp->threads[0];
  uint32_t bi[VG_FRAME_SIZE];
  REQUIRE(n <= VG_FRAME_SIZE);
  for (uint32_t i = 0; i < n; i++) {
    REQUIRE((bi[i] = rx_buffer(dp, rx, frames[i], lens[i])) != VG_BUFFER_INVALID);
    *vg_esp_sa_slot(vg_buffer(dp, bi[i])) = VG_NONE;
  }
  vg_enqueue(th, (uint32_t)vg_node_index(dp, node), bi, n);
  vg_dp_run_until_idle(dp, 0);
}

#define BURST 64

/* A (engine enc) encrypts a vector of BURST packets of many sizes, B
 * (engine dec) decrypts them as one vector and delivers each unchanged.
 * With ESN the sequence numbers cross 2^32 inside the burst, so the high
 * half goes into every ICV or AAD on both sides. A multi-buffer engine
 * finishes the jobs of one vector out of order. */
static void cross_engine(const char *enc, const char *dec, uint32_t crypto, uint32_t integ, uint32_t flags) {
  box_t a, b;
  if (!box_setup(&a, 'A', NULL) || !box_setup(&b, 'B', NULL)) return;
  if (vg_ipsec_set_engine(a.dp, enc) < 0 || vg_ipsec_set_engine(b.dp, dec) < 0) {
    test_fail(__FILE__, __LINE__, "engines %s -> %s: %s", enc, dec, vg_last_error());
    goto out;
  }
  uint32_t in[1] = {SA_IN};
  uint64_t first = flags & VG_IPSEC_SA_ESN ? 0xffffffffull - BURST / 2 : 0;
  vg_ipsec_sa_config_t ao = sa_config(crypto, integ, flags | VG_IPSEC_SA_TUNNEL, 0x1111, A_ADDR, B_ADDR, 7);
  ao.initial_seq = first;
  vg_ipsec_sa_config_t bo = sa_config(crypto, integ, flags | VG_IPSEC_SA_TUNNEL, 0x2222, B_ADDR, A_ADDR, 9);
  vg_ipsec_sa_config_t ai = bo, bi = ao;
  ai.flags |= VG_IPSEC_SA_INBOUND | VG_IPSEC_SA_ANTI_REPLAY;
  bi.flags |= VG_IPSEC_SA_INBOUND | VG_IPSEC_SA_ANTI_REPLAY;
  if (vg_ipsec_sa_add(a.dp, SA_OUT, &ao) < 0 || vg_ipsec_sa_add(a.dp, SA_IN, &ai) < 0 ||
      vg_ipsec_sa_add(b.dp, SA_OUT, &bo) < 0 || vg_ipsec_sa_add(b.dp, SA_IN, &bi) < 0 ||
      vg_ipsec_tunnel_protect(a.dp, (uint32_t)a.tun, SA_OUT, in, 1) < 0 ||
      vg_ipsec_tunnel_protect(b.dp, (uint32_t)b.tun, SA_OUT, in, 1) < 0) {
    test_fail(__FILE__, __LINE__, "protect: %s", vg_last_error());
    goto out;
  }
  static uint8_t ip[BURST][1500], frames[BURST][2048], got[2048];
  uint32_t lens[BURST], flens[BURST];
  for (uint32_t i = 0; i < BURST; i++) {
    lens[i] = udp_packet(ip[i], IP(192, 168, 1, 2), IP(192, 168, 2, 5), (i * 89 + i / 8) % 1381, (uint8_t)i);
    vg_interface_get_mac(a.dp, (uint32_t)a.p1, frames[i]);
    memcpy(frames[i] + 6, HOST_MAC, 6);
    frames[i][12] = 0x08, frames[i][13] = 0;
    memcpy(frames[i] + 14, ip[i], lens[i]);
    flens[i] = 14 + lens[i];
  }
  inject_vector(a.dp, "ethernet-input", (uint32_t)a.p1, frames, flens, BURST);
  for (uint32_t i = 0; i < BURST; i++) {
    flens[i] = next_sent(&a, 0, frames[i], sizeof frames[i]);
    REQUIRE(flens[i] > 14);
    vg_interface_get_mac(b.dp, (uint32_t)b.u0, frames[i]);
  }
  inject_vector(b.dp, "ethernet-input", (uint32_t)b.u0, frames, flens, BURST);
  for (uint32_t i = 0; i < BURST; i++) {
    uint32_t glen = next_sent(&b, 1, got, sizeof got);
    if (glen != 14 + lens[i] || !same_but_ttl(got + 14, ip[i], lens[i], 2)) {
      test_fail(__FILE__, __LINE__, "%s -> %s crypto %u integ %u flags 0x%x packet %u (%u bytes): B delivered %u",
                enc, dec, crypto, integ, flags, i, lens[i], glen);
      break;
    }
  }
  vg_ipsec_sa_info_t info = sa_info(b.dp, SA_IN);
  CHECK_EQ(info.packets, BURST);
  CHECK_EQ(info.seq, first + BURST);
  CHECK_EQ(info.integ_fails + info.replay_drops + info.decrypt_errors, 0);
out:
  box_free(&a);
  box_free(&b);
}

TEST(ipsec_each_crypto_engine_decrypts_what_the_other_encrypted) {
#ifdef VG_HAVE_IPSEC_MB
  static const char *const pairs[][2] = {{"ipsec-mb", "openssl"}, {"openssl", "ipsec-mb"}, {"ipsec-mb", "ipsec-mb"}};
#else
  static const char *const pairs[][2] = {{"openssl", "openssl"}};
#endif
  for (uint32_t p = 0; p < VG_ARRAY_LEN(pairs); p++)
    for (uint32_t i = 0; i < VG_ARRAY_LEN(algs); i++) {
      cross_engine(pairs[p][0], pairs[p][1], algs[i].crypto, algs[i].integ, 0);
      cross_engine(pairs[p][0], pairs[p][1], algs[i].crypto, algs[i].integ, VG_IPSEC_SA_ESN);
    }
}

TEST(ipsec_set_engine_only_before_the_first_sa) {
  box_t a;
  if (!box_setup(&a, 'A', NULL)) return;
  CHECK(vg_ipsec_set_engine(a.dp, "no-such-engine") < 0);
  CHECK(vg_ipsec_set_engine(a.dp, "openssl") == 0);
  vg_ipsec_sa_config_t c = sa_config(VG_IPSEC_CRYPTO_AES_128_GCM, VG_IPSEC_INTEG_NONE, 0, 0x4444, 0, 0, 1);
  REQUIRE(vg_ipsec_sa_add(a.dp, 9, &c) == 0);
  CHECK(vg_ipsec_set_engine(a.dp, "openssl") < 0);
  CHECK(strstr(vg_last_error(), "before the first SA") != NULL);
  box_free(&a);
}

/* ---- known answers from scapy ---- */

static void kat_sa(box_t *a, uint32_t id, uint32_t spi, uint32_t crypto, const uint8_t *key, uint32_t key_len,
                   uint32_t integ, const uint8_t *ikey, uint32_t ikey_len, uint32_t flags, uint64_t top) {
  vg_ipsec_sa_config_t c = {.spi = spi, .flags = flags | VG_IPSEC_SA_INBOUND | VG_IPSEC_SA_ANTI_REPLAY,
                            .crypto_alg = crypto, .integ_alg = integ, .crypto_key_len = key_len,
                            .integ_key_len = ikey_len, .initial_seq = top};
  memcpy(c.crypto_key, key, key_len);
  if (ikey_len) memcpy(c.integ_key, ikey, ikey_len);
  if (flags & VG_IPSEC_SA_TUNNEL) c.tunnel_src = B_ADDR, c.tunnel_dst = A_ADDR;
  if (vg_ipsec_sa_add(a->dp, id, &c) < 0) test_fail(__FILE__, __LINE__, "kat sa %u: %s", id, vg_last_error());
}

TEST(ipsec_decrypts_what_scapy_encrypted) {
  box_t a;
  REQUIRE(box_setup(&a, 'A', NULL));
  uint8_t k[64];
  for (int i = 0; i < 16; i++) k[i] = (uint8_t)(1 + i);
  memcpy(k + 16, "\xa1\xa2\xa3\xa4", 4);
  kat_sa(&a, 11, 0x1001, VG_IPSEC_CRYPTO_AES_128_GCM, k, 20, 0, NULL, 0, VG_IPSEC_SA_TUNNEL, 0);
  uint8_t ik[64];
  for (int i = 0; i < 16; i++) k[i] = (uint8_t)(0x20 + i);
  for (int i = 0; i < 32; i++) ik[i] = (uint8_t)(0x40 + i);
  kat_sa(&a, 12, 0x1002, VG_IPSEC_CRYPTO_AES_128_CBC, k, 16, VG_IPSEC_INTEG_HMAC_SHA_256_128, ik, 32,
         VG_IPSEC_SA_TUNNEL, 0);
  /* ESN: scapy sent 2^32 + 9; the window top is 2^32 + 3, so the high half is inferred to be 1. */
  for (int i = 0; i < 32; i++) k[i] = (uint8_t)(0x60 + i);
  memcpy(k + 32, "\xb1\xb2\xb3\xb4", 4);
  kat_sa(&a, 13, 0x1003, VG_IPSEC_CRYPTO_AES_256_GCM, k, 36, 0, NULL, 0, VG_IPSEC_SA_TUNNEL | VG_IPSEC_SA_ESN,
         (1ull << 32) + 3);
  for (int i = 0; i < 32; i++) k[i] = (uint8_t)(0x80 + i);
  for (int i = 0; i < 20; i++) ik[i] = (uint8_t)(0xc0 + i);
  kat_sa(&a, 14, 0x1004, VG_IPSEC_CRYPTO_AES_256_CBC, k, 32, VG_IPSEC_INTEG_HMAC_SHA1_96, ik, 20,
         VG_IPSEC_SA_UDP_ENCAP, 0);
  uint8_t got[2048];
  const struct {
    const uint8_t *p;
    uint32_t len;
    uint32_t sa;
  } tunnel[] = {{kat_gcm128_tunnel, sizeof kat_gcm128_tunnel, 11},
                {kat_cbc128_sha256_tunnel, sizeof kat_cbc128_sha256_tunnel, 12},
                {kat_gcm256_esn_tunnel, sizeof kat_gcm256_esn_tunnel, 13}};
  /* The first one traced from ethernet-input (as an input node would mark it). */
  a.dp->threads[0].trace_node = (uint32_t)vg_node_index(a.dp, "ethernet-input");
  a.dp->threads[0].trace_remaining = 1;
  for (uint32_t i = 0; i < VG_ARRAY_LEN(tunnel); i++) {
    send_ip(&a, 0, tunnel[i].p, tunnel[i].len);
    uint32_t n = next_sent(&a, 1, got, sizeof got);
    if (n != 14 + sizeof kat_inner || !same_but_ttl(got + 14, kat_inner, sizeof kat_inner, 1))
      test_fail(__FILE__, __LINE__, "vector %u (sa %u): %u bytes out of p1, not the inner packet", i,
                tunnel[i].sa, n);
    CHECK_EQ(sa_info(a.dp, tunnel[i].sa).packets, 1);
  }
  CHECK_EQ(sa_info(a.dp, 13).seq, (1ull << 32) + 9);
  static char trace[16384];
  CHECK(vg_trace_format(a.dp, trace, sizeof trace) > 0);
  CHECK_STR_CONTAINS(trace, "esp-decrypt");
  CHECK_STR_CONTAINS(trace, "esp 10.0.0.2 -> 10.0.0.1 spi 0x00001001 sa 11 seq 7: decrypted, next header 4, 52 bytes");
  /* Transport in UDP: a UDP packet to a closed port of A, answered with ICMP. */
  send_ip(&a, 0, kat_cbc256_sha1_transport_udp, sizeof kat_cbc256_sha1_transport_udp);
  CHECK_EQ(sa_info(a.dp, 14).packets, 1);
  CHECK_EQ(sa_info(a.dp, 14).bytes, sizeof kat_transport_inner - 20);
  CHECK_EQ(stat_error(a.dp, "ip4-local/UDP to a closed port"), 1);
  uint32_t n = next_sent(&a, 0, got, sizeof got);
  REQUIRE(n >= 14 + 28 + 28);
  CHECK_EQ(got[14 + 20], 3); /* unreachable, quoting the decrypted header */
  CHECK_EQ(got[14 + 21], 3);
  CHECK(memcmp(got + 14 + 28 + 12, kat_transport_inner + 12, 8 + 8) == 0);
  CHECK_EQ(got[14 + 28 + 9], 17);
  /* Once more: a replay now. */
  send_ip(&a, 0, kat_gcm128_tunnel, sizeof kat_gcm128_tunnel);
  CHECK_EQ(sa_info(a.dp, 11).replay_drops, 1);
  CHECK_EQ(stat_error(a.dp, "esp-decrypt/replayed packet"), 1);
  box_free(&a);
}

/* ---- ESN, anti-replay, bad packets ---- */

/* Encrypts ip with a fresh outbound SA on x whose next sequence number is
 * seq, and returns the ESP frame x sent. */
static uint32_t esp_with_seq(box_t *x, const vg_ipsec_sa_config_t *c, uint64_t seq, const uint8_t *ip,
                             uint32_t len, uint8_t *f, uint32_t max) {
  vg_ipsec_sa_config_t o = *c;
  o.initial_seq = seq - 1;
  if (vg_ipsec_sa_add(x->dp, 99, &o) < 0) {
    test_fail(__FILE__, __LINE__, "sa: %s", vg_last_error());
    return 0;
  }
  inject(x->dp, "esp-encrypt", VG_NONE, ip, len, (uint32_t)vg_ipsec_sa_slot(x->dp, 99));
  vg_ipsec_sa_delete(x->dp, 99);
  return next_sent(x, 0, f, max);
}

typedef struct {
  box_t a, b;
  vg_ipsec_sa_config_t out;
  uint8_t ip[256];
  uint32_t len;
} replay_t;

static int replay_setup(replay_t *r, uint32_t window, uint32_t flags, uint64_t top) {
  if (!box_setup(&r->a, 'A', NULL) || !box_setup(&r->b, 'B', NULL)) return 0;
  r->out = sa_config(VG_IPSEC_CRYPTO_AES_128_CBC, VG_IPSEC_INTEG_HMAC_SHA_256_128, VG_IPSEC_SA_TUNNEL | flags,
                     0x4444, A_ADDR, B_ADDR, 3);
  vg_ipsec_sa_config_t in = r->out;
  in.flags |= VG_IPSEC_SA_INBOUND | VG_IPSEC_SA_ANTI_REPLAY;
  in.replay_window = window;
  in.initial_seq = top;
  if (vg_ipsec_sa_add(r->b.dp, SA_IN, &in) < 0) return test_fail(__FILE__, __LINE__, "%s", vg_last_error()), 0;
  r->len = udp_packet(r->ip, IP(192, 168, 1, 2), IP(192, 168, 2, 5), 20, 1);
  return 1;
}

/* Sends the packet with sequence number seq from A to B; returns whether B
 * delivered it. */
static int send_seq(replay_t *r, uint64_t seq) {
  uint8_t f[512], got[512];
  uint32_t n = esp_with_seq(&r->a, &r->out, seq, r->ip, r->len, f, sizeof f);
  if (!n) return 0;
  send_ip(&r->b, 0, f + 14, n - 14);
  return next_sent(&r->b, 1, got, sizeof got) != 0;
}

TEST(ipsec_anti_replay_window_1024) {
  replay_t r;
  REQUIRE(replay_setup(&r, 1024, 0, 0));
  for (uint64_t s = 1; s <= 10; s++) CHECK(send_seq(&r, s));
  CHECK(!send_seq(&r, 5)); /* replayed */
  CHECK(send_seq(&r, 1500)); /* far ahead: the window jumps */
  CHECK(!send_seq(&r, 400)); /* 1100 behind: too old */
  CHECK(send_seq(&r, 600));  /* 900 behind and new */
  CHECK(!send_seq(&r, 600));
  CHECK(send_seq(&r, 477));  /* the oldest still in the window (1500 - 1023) */
  CHECK(!send_seq(&r, 476));
  CHECK(send_seq(&r, 5000)); /* more than the bitmap ahead */
  CHECK(send_seq(&r, 4000));
  CHECK(!send_seq(&r, 1500));
  CHECK_EQ(stat_error(r.b.dp, "esp-decrypt/replayed packet"), 2);
  CHECK_EQ(stat_error(r.b.dp, "esp-decrypt/sequence number older than the replay window"), 3);
  vg_ipsec_sa_info_t i = sa_info(r.b.dp, SA_IN);
  CHECK_EQ(i.replay_drops, 5);
  CHECK_EQ(i.packets, 15);
  CHECK_EQ(i.seq, 5000);
  CHECK_EQ(stat_elem(r.b.dp, "/ipsec/sa/replay-drops", "2"), 5);
  box_free(&r.a);
  box_free(&r.b);
}

TEST(ipsec_esn_high_half_inferred_across_the_2_32_boundary) {
  replay_t r;
  REQUIRE(replay_setup(&r, 64, VG_IPSEC_SA_ESN, 0xfffffff0ull));
  uint8_t f[512];
  CHECK(send_seq(&r, 0xfffffffeull));
  CHECK(send_seq(&r, 0xffffffffull));
  /* On the wire the low half wraps to 0; the ICV covers the high half. */
  uint32_t n = esp_with_seq(&r.a, &r.out, 1ull << 32, r.ip, r.len, f, sizeof f);
  REQUIRE(n > 14 + 20 + 8);
  CHECK_EQ(vg_rd_be32(f + 14 + 20 + 4), 0);
  send_ip(&r.b, 0, f + 14, n - 14);
  CHECK(next_sent(&r.b, 1, f, sizeof f) > 0);
  CHECK_EQ(sa_info(r.b.dp, SA_IN).seq, 1ull << 32);
  CHECK(send_seq(&r, (1ull << 32) + 1));
  CHECK(send_seq(&r, 0xfffffff8ull)); /* late, from before the wrap, still in the window */
  CHECK(!send_seq(&r, 0xffffffffull)); /* replayed across the boundary */
  CHECK(!send_seq(&r, (2ull << 32) + 5)); /* a whole epoch ahead is not inferred: bad ICV */
  CHECK_EQ(sa_info(r.b.dp, SA_IN).packets, 5);
  CHECK_EQ(sa_info(r.b.dp, SA_IN).integ_fails, 1);
  box_free(&r.a);
  box_free(&r.b);
}

TEST(ipsec_sequence_number_exhaustion_stops_the_sa) {
  box_t a, b;
  REQUIRE(box_setup(&a, 'A', NULL) && box_setup(&b, 'B', NULL));
  vg_ipsec_sa_config_t out = sa_config(VG_IPSEC_CRYPTO_AES_128_GCM, 0, VG_IPSEC_SA_TUNNEL, 0x5555, A_ADDR, B_ADDR, 1);
  out.initial_seq = 0xfffffffeull;
  vg_ipsec_sa_config_t in = out;
  in.flags |= VG_IPSEC_SA_INBOUND;
  in.initial_seq = 0;
  in.tunnel_src = B_ADDR, in.tunnel_dst = A_ADDR;
  uint32_t sa_in = SA_IN;
  REQUIRE(vg_ipsec_sa_add(a.dp, SA_OUT, &out) == 0 && vg_ipsec_sa_add(a.dp, SA_IN, &in) == 0);
  REQUIRE(vg_ipsec_tunnel_protect(a.dp, (uint32_t)a.tun, SA_OUT, &sa_in, 1) == 0);
  uint8_t ip[128], f[512];
  uint32_t len = udp_packet(ip, IP(192, 168, 1, 2), IP(192, 168, 2, 5), 10, 1);
  for (int i = 0; i < 3; i++) send_ip(&a, 1, ip, len);
  REQUIRE(next_sent(&a, 0, f, sizeof f) > 0);
  CHECK_EQ(vg_rd_be32(f + 14 + 24), 0xffffffffu);
  CHECK_EQ(next_sent(&a, 0, f, sizeof f), 0);
  vg_ipsec_sa_info_t i = sa_info(a.dp, SA_OUT);
  CHECK_EQ(i.packets, 1);
  CHECK_EQ(i.seq_exhausted, 2);
  CHECK_EQ(i.seq, 0xffffffffu);
  CHECK_EQ(stat_error(a.dp, "esp-encrypt/sequence number exhausted (the SA must be rekeyed)"), 2);
  CHECK_EQ(stat_elem(a.dp, "/ipsec/sa/seq-exhausted", "1"), 2);
  /* With ESN the numbers go on into the high half, up to 2^64 - 1. */
  vg_ipsec_sa_config_t esn = out;
  esn.flags |= VG_IPSEC_SA_ESN;
  esn.spi = 0x5556;
  esn.initial_seq = UINT64_MAX - 1;
  REQUIRE(vg_ipsec_sa_add(a.dp, 3, &esn) == 0);
  for (int k = 0; k < 2; k++) inject(a.dp, "esp-encrypt", VG_NONE, ip, len, (uint32_t)vg_ipsec_sa_slot(a.dp, 3));
  REQUIRE(next_sent(&a, 0, f, sizeof f) > 0);
  CHECK_EQ(vg_rd_be32(f + 14 + 24), 0xffffffffu);
  CHECK_EQ(next_sent(&a, 0, f, sizeof f), 0);
  i = sa_info(a.dp, 3);
  CHECK_EQ(i.packets, 1);
  CHECK_EQ(i.seq_exhausted, 1);
  CHECK(i.seq == UINT64_MAX);
  box_free(&a);
  box_free(&b);
}

/* One vector into esp-encrypt on two SAs, interleaved, with a packet that
 * fails its checks between: each run of packets on an SA claims its
 * sequence numbers at once, in the vector's order, the bad packet spends
 * none, and the SA that runs out mid-vector sends exactly its last ones. */
TEST(ipsec_one_vector_claims_sequence_numbers_per_sa_in_order_up_to_the_last) {
  box_t a;
  REQUIRE(box_setup(&a, 'A', NULL));
  vg_ipsec_sa_config_t c1 = sa_config(VG_IPSEC_CRYPTO_AES_128_GCM, 0, VG_IPSEC_SA_TUNNEL, 0x7001, A_ADDR, B_ADDR, 1);
  c1.initial_seq = 0xfffffffcull; /* three numbers left */
  vg_ipsec_sa_config_t c2 = c1;
  c2.spi = 0x7002, c2.initial_seq = 100;
  REQUIRE(vg_ipsec_sa_add(a.dp, SA_OUT, &c1) == 0 && vg_ipsec_sa_add(a.dp, 3, &c2) == 0);
  uint32_t s1 = (uint32_t)vg_ipsec_sa_slot(a.dp, SA_OUT), s2 = (uint32_t)vg_ipsec_sa_slot(a.dp, 3);
  static uint8_t frames[8][2048];
  uint32_t lens[8], slots[8] = {s1, s1, s2, s1, s1, s1, s1, s2};
  for (uint32_t i = 0; i < 8; i++) lens[i] = udp_packet(frames[i], IP(192, 168, 1, 2), IP(192, 168, 2, 5), 20, (uint8_t)i);
  lens[4] = 12; /* not a whole IPv4 header */
  vg_thread_t *th = &a.dp->threads[0];
  uint32_t bi[8];
  for (uint32_t i = 0; i < 8; i++) {
    REQUIRE((bi[i] = rx_buffer(a.dp, VG_NONE, frames[i], lens[i])) != VG_BUFFER_INVALID);
    *vg_esp_sa_slot(vg_buffer(a.dp, bi[i])) = slots[i];
  }
  vg_enqueue(th, (uint32_t)vg_node_index(a.dp, "esp-encrypt"), bi, 8);
  vg_dp_run_until_idle(a.dp, 0);
  /* Sent: packets 0, 1, 2, 3 and 7; 5 and 6 find the SA exhausted. */
  const uint32_t spi[5] = {0x7001, 0x7001, 0x7002, 0x7001, 0x7002};
  const uint32_t seq[5] = {0xfffffffd, 0xfffffffe, 101, 0xffffffff, 102};
  uint8_t f[2048];
  for (uint32_t k = 0; k < 5; k++) {
    REQUIRE(next_sent(&a, 0, f, sizeof f) > 0);
    CHECK_EQ(vg_rd_be32(f + 14 + 20), spi[k]);
    CHECK_EQ(vg_rd_be32(f + 14 + 24), seq[k]);
  }
  CHECK_EQ(next_sent(&a, 0, f, sizeof f), 0);
  vg_ipsec_sa_info_t i1 = sa_info(a.dp, SA_OUT), i2 = sa_info(a.dp, 3);
  CHECK_EQ(i1.packets, 3);
  CHECK_EQ(i1.seq_exhausted, 2);
  CHECK_EQ(i1.seq, 0xffffffffu);
  CHECK_EQ(i2.packets, 2);
  CHECK_EQ(i2.seq, 102);
  CHECK_EQ(i2.bytes, 2 * (uint64_t)lens[0]);
  CHECK_EQ(stat_error(a.dp, "esp-encrypt/not a well-formed IPv4 packet"), 1);
  CHECK_EQ(stat_error(a.dp, "esp-encrypt/sequence number exhausted (the SA must be rekeyed)"), 2);
  box_free(&a);
}

/* An ESP packet from B's peer built here: plaintext (already padded, with
 * its trailer) encrypted with AES-128-CBC and HMAC-SHA-256-128 as sa_config
 * makes the keys for seed 3. */
static uint32_t handmade_esp(uint8_t *ip, uint32_t spi, uint32_t seq, const uint8_t *plain, uint32_t n) {
  vg_ipsec_sa_config_t c = sa_config(VG_IPSEC_CRYPTO_AES_128_CBC, VG_IPSEC_INTEG_HMAC_SHA_256_128, 0, spi, 0, 0, 3);
  uint32_t total = 20 + 8 + 16 + n + 16;
  memset(ip, 0, 20);
  ip[0] = 0x45, ip[8] = 64, ip[9] = 50;
  vg_put_be16(ip + 2, (uint16_t)total);
  vg_wr_be32(ip + 12, A_ADDR);
  vg_wr_be32(ip + 16, B_ADDR);
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, 20)));
  uint8_t *esp = ip + 20;
  vg_wr_be32(esp, spi);
  vg_wr_be32(esp + 4, seq);
  for (int i = 0; i < 16; i++) esp[8 + i] = (uint8_t)(0x55 ^ i);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int outl;
  EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, c.crypto_key, esp + 8);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  EVP_EncryptUpdate(ctx, esp + 24, &outl, plain, (int)n);
  EVP_CIPHER_CTX_free(ctx);
  uint8_t mac[64];
  unsigned ml;
  HMAC(EVP_sha256(), c.integ_key, 32, esp, 24 + n, mac, &ml);
  memcpy(esp + 24 + n, mac, 16);
  return total;
}

TEST(ipsec_bad_packets_each_counted_never_delivered) {
  replay_t r;
  REQUIRE(replay_setup(&r, 64, 0, 0));
  uint8_t f[512], ip[512], plain[64];
  /* Bad ICV: one bit of the ICV, then one of the ciphertext. */
  uint32_t n = esp_with_seq(&r.a, &r.out, 1, r.ip, r.len, f, sizeof f);
  REQUIRE(n);
  f[n - 1] ^= 1;
  send_ip(&r.b, 0, f + 14, n - 14);
  f[n - 1] ^= 1;
  f[14 + 20 + 8 + 16] ^= 0x80;
  send_ip(&r.b, 0, f + 14, n - 14);
  f[14 + 20 + 8 + 16] ^= 0x80;
  CHECK_EQ(sa_info(r.b.dp, SA_IN).integ_fails, 2);
  CHECK_EQ(stat_error(r.b.dp, "esp-decrypt/integrity check failed (bad ICV)"), 2);
  /* A bad ICV does not move the window: the good packet still goes. */
  send_ip(&r.b, 0, f + 14, n - 14);
  CHECK_EQ(sa_info(r.b.dp, SA_IN).packets, 1);
  /* Truncated: no room for the SPI; then shorter than IV, block and ICV. */
  uint8_t t[128];
  memcpy(t, f + 14, 24);
  t[2] = 0, t[3] = 24, t[10] = t[11] = 0;
  vg_put_be16(t + 10, vg_csum_fold(vg_csum_add(0, t, 20)));
  send_ip(&r.b, 0, t, 24);
  memcpy(t, f + 14, 60);
  t[2] = 0, t[3] = 60, t[10] = t[11] = 0;
  vg_put_be16(t + 10, vg_csum_fold(vg_csum_add(0, t, 20)));
  send_ip(&r.b, 0, t, 60);
  CHECK_EQ(stat_error(r.b.dp, "esp-decrypt/truncated ESP packet"), 2);
  /* Ciphertext not whole blocks. */
  REQUIRE(n - 14 == 124);
  memcpy(t, f + 14, 120);
  t[2] = 0, t[3] = 120, t[10] = t[11] = 0;
  vg_put_be16(t + 10, vg_csum_fold(vg_csum_add(0, t, 20)));
  send_ip(&r.b, 0, t, 120);
  /* Wrong padding (authentic, so only the padding check sees it). */
  uint32_t inner = r.len;
  memcpy(plain, r.ip, inner); /* 48 bytes: 14 of padding to 64 */
  for (uint32_t i = 0; i < 14; i++) plain[inner + i] = (uint8_t)(i + 1);
  plain[inner + 5] = 9;
  plain[62] = 14, plain[63] = 4;
  send_ip(&r.b, 0, ip, handmade_esp(ip, 0x4444, 2, plain, 64));
  plain[inner + 5] = 6;
  plain[62] = 15; /* more padding than there is payload after... still fits: 15 + 2 <= 64, bytes wrong */
  send_ip(&r.b, 0, ip, handmade_esp(ip, 0x4444, 3, plain, 64));
  plain[62] = 63; /* padding longer than the plaintext */
  send_ip(&r.b, 0, ip, handmade_esp(ip, 0x4444, 4, plain, 64));
  CHECK_EQ(stat_error(r.b.dp, "esp-decrypt/bad padding"), 3);
  /* Right padding, wrong next header for tunnel mode; then a dummy packet. */
  plain[62] = 14, plain[63] = 17;
  send_ip(&r.b, 0, ip, handmade_esp(ip, 0x4444, 5, plain, 64));
  plain[63] = 59;
  send_ip(&r.b, 0, ip, handmade_esp(ip, 0x4444, 6, plain, 64));
  plain[63] = 4;
  send_ip(&r.b, 0, ip, handmade_esp(ip, 0x4444, 7, plain, 64)); /* and right: delivered */
  CHECK_EQ(stat_error(r.b.dp, "esp-decrypt/unexpected next header for the SA's mode"), 1);
  CHECK_EQ(stat_error(r.b.dp, "esp-decrypt/dummy packet (next header 59)"), 1);
  CHECK_EQ(stat_error(r.b.dp, "esp-decrypt/ciphertext not a whole number of blocks"), 1);
  vg_ipsec_sa_info_t i = sa_info(r.b.dp, SA_IN);
  CHECK_EQ(i.decrypt_errors, 1 + 1 + 3 + 1); /* truncated (with an SPI), length, padding, next header */
  CHECK_EQ(i.packets, 2);
  /* Unknown SPI. */
  send_ip(&r.b, 0, ip, handmade_esp(ip, 0x9999, 1, plain, 64));
  CHECK_EQ(stat_error(r.b.dp, "esp-decrypt/no SA for the SPI"), 1);
  /* Nothing reached p1 but the two good packets. */
  CHECK_EQ(stat_elem(r.b.dp, "/if/tx-packets", "p1"), 2);
  CHECK_EQ(vg_buffer_pool_available(r.b.dp), 4096);
  box_free(&r.a);
  box_free(&r.b);
}

TEST(ipsec_nat_t_marker_and_keepalive_are_not_esp) {
  box_t b;
  REQUIRE(box_setup(&b, 'B', NULL));
  vg_ipsec_sa_config_t in = sa_config(VG_IPSEC_CRYPTO_AES_128_GCM, 0, VG_IPSEC_SA_INBOUND | VG_IPSEC_SA_UDP_ENCAP,
                                      0x6666, 0, 0, 1);
  REQUIRE(vg_ipsec_sa_add(b.dp, 7, &in) == 0);
  uint8_t ip[128];
  uint32_t len = udp_packet(ip, A_ADDR, B_ADDR, 20, 1);
  vg_put_be16(ip + 20, 4500), vg_put_be16(ip + 22, 4500);
  memset(ip + 28, 0, 4); /* non-ESP marker: IKE */
  ip[26] = ip[27] = 0;
  send_ip(&b, 0, ip, len);
  len = udp_packet(ip, A_ADDR, B_ADDR, 1, 1);
  vg_put_be16(ip + 20, 4500), vg_put_be16(ip + 22, 4500);
  ip[28] = 0xff, ip[26] = ip[27] = 0;
  send_ip(&b, 0, ip, len);
  CHECK_EQ(stat_error(b.dp, "esp-decrypt/IKE on the NAT-T port (no punt path yet)"), 1);
  CHECK_EQ(stat_error(b.dp, "esp-decrypt/NAT-T keepalive"), 1);
  /* ESP in UDP to another SA's port, or for an SA without UDP encapsulation. */
  vg_ipsec_sa_config_t other = in, plain = in;
  other.spi = 0x6667, other.udp_dport = 4501;
  plain.spi = 0x6668, plain.flags &= ~VG_IPSEC_SA_UDP_ENCAP;
  REQUIRE(vg_ipsec_sa_add(b.dp, 8, &other) == 0 && vg_ipsec_sa_add(b.dp, 9, &plain) == 0);
  len = udp_packet(ip, A_ADDR, B_ADDR, 64, 1);
  vg_put_be16(ip + 20, 4500), vg_put_be16(ip + 22, 4501);
  vg_wr_be32(ip + 28, 0x6666);
  send_ip(&b, 0, ip, len);
  vg_put_be16(ip + 22, 4500);
  vg_wr_be32(ip + 28, 0x6668);
  send_ip(&b, 0, ip, len);
  CHECK_EQ(stat_error(b.dp, "esp-decrypt/ESP in UDP not matching the SA's encapsulation"), 2);
  CHECK_EQ(sa_info(b.dp, 7).decrypt_errors, 1);
  box_free(&b);
}

/* ---- the API ---- */

TEST(ipsec_sa_add_names_the_bad_field) {
  vg_dp_t *dp = vg_dp_create("buffers=1024");
  REQUIRE(dp);
  vg_ipsec_sa_config_t good = sa_config(VG_IPSEC_CRYPTO_AES_128_GCM, 0, 0, 0x1000, 0, 0, 1), c;
#define BAD(stmt, code, text)                          \
  do {                                                 \
    c = good;                                          \
    stmt;                                              \
    CHECK_EQ(vg_ipsec_sa_add(dp, 50, &c), code);       \
    CHECK_STR_CONTAINS(vg_last_error(), text);         \
  } while (0)
  BAD(c.spi = 255, VG_E_INVAL, "spi 255 is reserved");
  BAD(c.crypto_alg = 9, VG_E_INVAL, "crypto_alg 9");
  BAD(c.crypto_key_len = 16, VG_E_INVAL, "crypto_key_len 16, AES-128-GCM takes 20 bytes (key and 4-byte salt)");
  BAD(c.integ_alg = VG_IPSEC_INTEG_HMAC_SHA1_96; c.integ_key_len = 20, VG_E_INVAL, "integ_alg must be none");
  BAD(c.crypto_alg = VG_IPSEC_CRYPTO_AES_128_CBC; c.crypto_key_len = 16, VG_E_INVAL, "ESP without integrity");
  BAD(c.crypto_alg = VG_IPSEC_CRYPTO_AES_128_CBC; c.crypto_key_len = 16; c.integ_alg = 2; c.integ_key_len = 20,
      VG_E_INVAL, "integ_key_len 20, HMAC-SHA-256-128 takes 32 bytes");
  BAD(c.integ_alg = 7, VG_E_INVAL, "integ_alg 7");
  BAD(c.flags = 0x400, VG_E_INVAL, "unknown bits 0x400");
  BAD(c.flags = VG_IPSEC_SA_TUNNEL, VG_E_INVAL, "tunnel mode needs tunnel_src and tunnel_dst");
  BAD(c.flags = VG_IPSEC_SA_TUNNEL; c.tunnel_src = c.tunnel_dst = A_ADDR, VG_E_INVAL, "both 10.0.0.1");
  BAD(c.flags = VG_IPSEC_SA_TUNNEL; c.tunnel_src = A_ADDR; c.tunnel_dst = IP(224, 0, 0, 1), VG_E_INVAL, "unicast");
  BAD(c.tunnel_src = A_ADDR, VG_E_INVAL, "tunnel_src must be 0 in transport mode");
  BAD(c.tunnel_dst = A_ADDR, VG_E_INVAL, "tunnel_dst must be 0 for an outbound transport-mode SA");
  BAD(c.replay_window = 4097, VG_E_INVAL, "replay_window 4097 is above 4096");
  BAD(c.initial_seq = 1ull << 32, VG_E_INVAL, "initial_seq 4294967296 needs ESN");
  BAD(c.udp_dport = 4501, VG_E_INVAL, "without VG_IPSEC_SA_UDP_ENCAP");
  CHECK_EQ(vg_ipsec_sa_add(dp, 50, NULL), VG_E_INVAL);
  CHECK_EQ(vg_ipsec_sa_add(dp, UINT32_MAX, &good), VG_E_INVAL);
  CHECK_EQ(vg_ipsec_sa_add(dp, 50, &good), 0);
  CHECK_EQ(vg_ipsec_sa_add(dp, 50, &good), VG_E_EXISTS);
  c = good;
  c.flags = VG_IPSEC_SA_INBOUND;
  CHECK_EQ(vg_ipsec_sa_add(dp, 51, &c), 0);
  CHECK_EQ(vg_ipsec_sa_add(dp, 52, &c), VG_E_EXISTS);
  CHECK_STR_CONTAINS(vg_last_error(), "inbound sa 51 has spi 0x00001000");
  c.vrf = 3; /* another VRF: another SPI space */
  CHECK_EQ(vg_ipsec_sa_add(dp, 52, &c), 0);
  vg_ipsec_sa_info_t info[4];
  CHECK_EQ(vg_ipsec_sa_dump(dp, NULL, 0), 3);
  CHECK_EQ(vg_ipsec_sa_dump(dp, info, 4), 3);
  CHECK_EQ(info[0].sa_id, 50);
  CHECK_EQ(info[2].sa_id, 52);
  CHECK_EQ(info[2].config.vrf, 3);
  CHECK(memcmp(info[0].config.crypto_key, good.crypto_key, 20) == 0);
  CHECK_EQ(info[0].sw_if_index, UINT32_MAX);
  CHECK_EQ(vg_ipsec_sa_delete(dp, 51), 0);
  CHECK_EQ(vg_ipsec_sa_delete(dp, 51), VG_E_NOTFOUND);
  CHECK_STR_CONTAINS(vg_last_error(), "no ipsec sa 51");
  CHECK_EQ(vg_ipsec_sa_dump(dp, info, 4), 2);
  vg_dp_destroy(dp);
}

TEST(ipsec_tunnel_api_and_sa_delete_refused_while_protecting) {
  box_t a;
  REQUIRE(box_setup(&a, 'A', NULL));
  vg_interface_info_t itf[8];
  int n = vg_interface_dump(a.dp, itf, 8);
  CHECK_EQ(n, 3);
  CHECK_STR_CONTAINS(itf[2].name, "ipsec0");
  CHECK_STR_CONTAINS(itf[2].type, "ipsec");
  CHECK_EQ(vg_ipsec_tunnel_add(a.dp, "t", A_ADDR, B_ADDR, 0), VG_E_EXISTS);
  CHECK_EQ(vg_ipsec_tunnel_add(a.dp, "t", IP(10, 9, 9, 9), B_ADDR, 0), VG_E_STATE);
  CHECK_STR_CONTAINS(vg_last_error(), "not an address of this box in VRF 0");
  CHECK_EQ(vg_ipsec_tunnel_add(a.dp, "t", A_ADDR, A_ADDR, 0), VG_E_INVAL);
  CHECK_EQ(vg_ipsec_tunnel_protect(a.dp, (uint32_t)a.u0, 1, NULL, 0), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "not an ipsec tunnel");
  vg_ipsec_sa_config_t out = sa_config(VG_IPSEC_CRYPTO_AES_128_GCM, 0, VG_IPSEC_SA_TUNNEL, 0x1000, A_ADDR, B_ADDR, 1);
  vg_ipsec_sa_config_t in = sa_config(VG_IPSEC_CRYPTO_AES_128_GCM, 0, VG_IPSEC_SA_TUNNEL | VG_IPSEC_SA_INBOUND,
                                      0x2000, B_ADDR, A_ADDR, 1);
  vg_ipsec_sa_config_t wrong = out;
  wrong.tunnel_dst = IP(10, 0, 0, 3);
  REQUIRE(vg_ipsec_sa_add(a.dp, 1, &out) == 0 && vg_ipsec_sa_add(a.dp, 2, &in) == 0 &&
          vg_ipsec_sa_add(a.dp, 3, &wrong) == 0);
  uint32_t sa_in = 2, tun = (uint32_t)a.tun;
  CHECK_EQ(vg_ipsec_tunnel_protect(a.dp, tun, 2, &sa_in, 1), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "sa 2 is not an outbound SA");
  CHECK_EQ(vg_ipsec_tunnel_protect(a.dp, tun, 3, &sa_in, 1), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "outbound sa 3 is 10.0.0.1 -> 10.0.0.3 in VRF 0, the tunnel 10.0.0.1 -> 10.0.0.2");
  CHECK_EQ(vg_ipsec_tunnel_protect(a.dp, tun, 1, &sa_in, 0), VG_E_INVAL);
  CHECK_EQ(vg_ipsec_tunnel_protect(a.dp, tun, 7, &sa_in, 1), VG_E_NOTFOUND);
  CHECK_EQ(vg_ipsec_tunnel_unprotect(a.dp, tun), VG_E_STATE);
  CHECK_EQ(vg_ipsec_tunnel_protect(a.dp, tun, 1, &sa_in, 1), 0);
  CHECK_EQ(vg_ipsec_sa_delete(a.dp, 1), VG_E_STATE);
  CHECK_STR_CONTAINS(vg_last_error(), "ipsec sa 1 protects tunnel ipsec0: unprotect it first");
  CHECK_EQ(vg_ipsec_sa_delete(a.dp, 2), VG_E_STATE);
  vg_ipsec_tunnel_info_t ti[2];
  CHECK_EQ(vg_ipsec_tunnel_dump(a.dp, ti, 2), 1);
  CHECK_EQ(ti[0].sw_if_index, tun);
  CHECK_EQ(ti[0].sa_out, 1);
  CHECK_EQ(ti[0].n_sa_in, 1);
  CHECK_EQ(ti[0].sa_in[0], 2);
  CHECK_EQ(ti[0].dst, B_ADDR);
  CHECK_EQ(sa_info(a.dp, 1).sw_if_index, tun);
  CHECK_EQ(sa_info(a.dp, 1).n_users, 1);
  char hw[512];
  CHECK(vg_interface_format_hw(a.dp, tun, hw, sizeof hw) > 0);
  CHECK_STR_CONTAINS(hw, "ipsec tunnel src 10.0.0.1 dst 10.0.0.2 vrf 0");
  CHECK_STR_CONTAINS(hw, "protected: sa out 1 spi 0x00001000, in 2 (spi 0x00002000)");
  /* A trace shows the encryption. */
  uint8_t ip[128];
  uint32_t len = udp_packet(ip, IP(192, 168, 1, 2), IP(192, 168, 2, 5), 10, 1);
  uint8_t mac[6];
  char spec[256];
  vg_interface_get_mac(a.dp, (uint32_t)a.p1, mac);
  snprintf(spec, sizeof spec, "name=t if=p1 count=1 eth.dst=%02x:%02x:%02x:%02x:%02x:%02x ip4.src=192.168.1.2 "
           "ip4.dst=192.168.2.5", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  CHECK_EQ(vg_trace_add(a.dp, "pg-input", 1), 0);
  int st = vg_pg_stream_add(a.dp, spec);
  CHECK(st >= 0);
  vg_dp_run_until_idle(a.dp, 0);
  CHECK_EQ(vg_pg_stream_delete(a.dp, (uint32_t)st), 0);
  static char trace[16384];
  CHECK(vg_trace_format(a.dp, trace, sizeof trace) > 0);
  CHECK_STR_CONTAINS(trace, "esp-encrypt");
  CHECK_STR_CONTAINS(trace, "sa 1 spi 0x00001000 seq 1 aes-128-gcm tunnel 10.0.0.1 -> 10.0.0.2");
  /* Rekey: protect again with new SAs; then the old ones can go. */
  vg_ipsec_sa_config_t out2 = out, in2 = in;
  out2.spi = 0x1001, in2.spi = 0x2001;
  REQUIRE(vg_ipsec_sa_add(a.dp, 11, &out2) == 0 && vg_ipsec_sa_add(a.dp, 12, &in2) == 0);
  uint32_t both[2] = {2, 12};
  CHECK_EQ(vg_ipsec_tunnel_protect(a.dp, tun, 11, both, 2), 0);
  CHECK_EQ(vg_ipsec_sa_delete(a.dp, 1), 0);
  CHECK_EQ(vg_ipsec_sa_delete(a.dp, 2), VG_E_STATE);
  CHECK_EQ(vg_ipsec_tunnel_unprotect(a.dp, tun), 0);
  CHECK_EQ(vg_ipsec_sa_delete(a.dp, 2), 0);
  /* Unprotected: dropped, counted. */
  send_ip(&a, 1, ip, len);
  CHECK_EQ(stat_error(a.dp, "esp-encrypt/tunnel not protected (no outbound SA)"), 1);
  CHECK_EQ(vg_ipsec_tunnel_delete(a.dp, (uint32_t)a.u0), VG_E_INVAL);
  CHECK_EQ(vg_ip4_route_delete(a.dp, 0, IP(192, 168, 2, 0), 24), 0);
  CHECK_EQ(vg_ipsec_tunnel_protect(a.dp, tun, 11, both + 1, 1), 0);
  CHECK_EQ(vg_ipsec_tunnel_delete(a.dp, tun), 0);
  CHECK_EQ(vg_ipsec_tunnel_dump(a.dp, ti, 2), 0);
  CHECK_EQ(sa_info(a.dp, 11).sw_if_index, UINT32_MAX);
  CHECK_EQ(vg_ipsec_sa_delete(a.dp, 11), 0);
  CHECK_EQ(vg_ipsec_tunnel_add(a.dp, "", A_ADDR, B_ADDR, 0), tun); /* the name and index again */
  CHECK_EQ(vg_buffer_pool_available(a.dp), 4096);
  box_free(&a);
}

/* ---- threads ---- */

static void sleep_ms(long ms) {
  struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&d, NULL);
}

TEST(thread_ipsec_sas_and_tunnels_change_while_packets_flow) {
  box_t a;
  REQUIRE(box_setup(&a, 'A', "buffers=4096 threads=2"));
  /* Two generator streams, one per thread, into the tunnel; A's own ESP
   * to itself comes back in on u0 through a third. */
  uint8_t mac[6];
  vg_interface_get_mac(a.dp, (uint32_t)a.p1, mac);
  char spec[256];
  for (int w = 0; w < 2; w++) {
    snprintf(spec, sizeof spec,
             "name=s%d if=p1 worker=%d rate=200k eth.dst=%02x:%02x:%02x:%02x:%02x:%02x ip4.src=192.168.1.2 "
             "ip4.dst=192.168.2.5 size=64-400", w, w, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    REQUIRE(vg_pg_stream_add(a.dp, spec) >= 0);
  }
  REQUIRE(vg_dp_start(a.dp) == 0);
  vg_ipsec_sa_config_t out = sa_config(VG_IPSEC_CRYPTO_AES_128_GCM, 0, VG_IPSEC_SA_TUNNEL, 0x1000, A_ADDR, B_ADDR, 1);
  vg_ipsec_sa_config_t in = sa_config(VG_IPSEC_CRYPTO_AES_128_CBC, VG_IPSEC_INTEG_HMAC_SHA1_96,
                                      VG_IPSEC_SA_TUNNEL | VG_IPSEC_SA_INBOUND, 0x2000, B_ADDR, A_ADDR, 1);
  uint32_t tun = (uint32_t)a.tun;
  for (int i = 0; i < 30; i++) {
    out.spi = 0x1000 + (uint32_t)i, in.spi = 0x2000 + (uint32_t)i;
    out.crypto_alg = i % 2 ? VG_IPSEC_CRYPTO_AES_128_GCM : VG_IPSEC_CRYPTO_AES_256_GCM;
    out.crypto_key_len = i % 2 ? 20 : 36;
    uint32_t o = 100 + (uint32_t)i, s_in = 200 + (uint32_t)i;
    CHECK_EQ(vg_ipsec_sa_add(a.dp, o, &out), 0);
    CHECK_EQ(vg_ipsec_sa_add(a.dp, s_in, &in), 0);
    CHECK_EQ(vg_ipsec_tunnel_protect(a.dp, tun, o, &s_in, 1), 0);
    sleep_ms(2);
    vg_ipsec_sa_info_t info[8];
    CHECK(vg_ipsec_sa_dump(a.dp, info, 8) >= 2);
    if (i % 3 == 0) CHECK_EQ(vg_stats_clear(a.dp, "errors"), 0);
    if (i % 4 == 0) {
      CHECK_EQ(vg_ipsec_tunnel_unprotect(a.dp, tun), 0);
      sleep_ms(1);
    }
    if (i % 10 == 9) {
      /* The tunnel goes and comes back (its route with it). */
      CHECK_EQ(vg_ip4_route_delete(a.dp, 0, IP(192, 168, 2, 0), 24), 0);
      CHECK_EQ(vg_ipsec_tunnel_delete(a.dp, tun), 0);
      int t = vg_ipsec_tunnel_add(a.dp, NULL, A_ADDR, B_ADDR, 0);
      CHECK(t >= 0);
      tun = (uint32_t)t;
      vg_next_hop_t nh = {0, tun, 1};
      CHECK_EQ(vg_ip4_route_add(a.dp, 0, IP(192, 168, 2, 0), 24, &nh, 1, 0), 0);
    } else if (i % 4 != 0) {
      CHECK_EQ(vg_ipsec_tunnel_unprotect(a.dp, tun), 0);
    }
    CHECK_EQ(vg_ipsec_sa_delete(a.dp, o), 0);
    CHECK_EQ(vg_ipsec_sa_delete(a.dp, s_in), 0);
  }
  sleep_ms(10);
  CHECK_EQ(vg_dp_stop(a.dp), 0);
  CHECK(stat_error(a.dp, "esp-encrypt/packets encrypted") > 0);
  CHECK_EQ(vg_buffer_pool_available(a.dp), 4096);
  box_free(&a);
}

/* ---- policy-based: SPDs ---- */

/* A and B route each other's LAN via the peer on u0 (not the tunnel);
 * SPD 1 on each u0: A protects 192.168.1/24 -> 192.168.2/24 with its
 * outbound sa, bypasses IKE, discards telnet; B requires the same traffic
 * to arrive decrypted with its inbound sa. */
static int spd_setup(box_t *a, box_t *b, uint32_t flags) {
  if (!box_setup(a, 'A', NULL) || !box_setup(b, 'B', NULL)) return 0;
  vg_ipsec_sa_config_t ao = sa_config(VG_IPSEC_CRYPTO_AES_256_GCM, 0, flags, 0x7777, A_ADDR, B_ADDR, 2), bi = ao;
  bi.flags |= VG_IPSEC_SA_INBOUND | VG_IPSEC_SA_ANTI_REPLAY;
  if (!(flags & VG_IPSEC_SA_TUNNEL)) bi.tunnel_dst = B_ADDR;
  vg_next_hop_t via_a = {A_ADDR, VG_NONE, 1}, via_b = {B_ADDR, VG_NONE, 1};
  vg_ipsec_policy_t protect = {.priority = 10, .direction = VG_IPSEC_POLICY_OUTBOUND, .action = VG_IPSEC_ACTION_PROTECT,
                               .sa_id = SA_OUT, .local_lo = IP(192, 168, 1, 0), .local_hi = IP(192, 168, 1, 255),
                               .remote_lo = IP(192, 168, 2, 0), .remote_hi = IP(192, 168, 2, 255)};
  vg_ipsec_policy_t ike = {.priority = 100, .direction = VG_IPSEC_POLICY_OUTBOUND, .action = VG_IPSEC_ACTION_BYPASS,
                           .protocol = 17, .remote_port_lo = 500, .remote_port_hi = 500};
  vg_ipsec_policy_t telnet = {.priority = 50, .direction = VG_IPSEC_POLICY_OUTBOUND,
                              .action = VG_IPSEC_ACTION_DISCARD, .protocol = 6, .remote_port_lo = 23,
                              .remote_port_hi = 23};
  vg_ipsec_policy_t in = protect;
  in.direction = VG_IPSEC_POLICY_INBOUND, in.sa_id = SA_IN;
  in.local_lo = protect.remote_lo, in.local_hi = protect.remote_hi;
  in.remote_lo = protect.local_lo, in.remote_hi = protect.local_hi;
  if (!(flags & VG_IPSEC_SA_TUNNEL)) {
    /* Transport: the hosts are the boxes themselves. */
    protect.local_lo = protect.local_hi = in.remote_lo = in.remote_hi = A_ADDR;
    protect.remote_lo = protect.remote_hi = in.local_lo = in.local_hi = B_ADDR;
  }
  if (vg_ip4_route_delete(a->dp, 0, IP(192, 168, 2, 0), 24) < 0 ||
      vg_ip4_route_delete(b->dp, 0, IP(192, 168, 1, 0), 24) < 0 ||
      vg_ip4_route_add(a->dp, 0, IP(192, 168, 2, 0), 24, &via_b, 1, 0) < 0 ||
      vg_ip4_route_add(b->dp, 0, IP(192, 168, 1, 0), 24, &via_a, 1, 0) < 0 ||
      vg_ipsec_sa_add(a->dp, SA_OUT, &ao) < 0 || vg_ipsec_sa_add(b->dp, SA_IN, &bi) < 0 ||
      vg_ipsec_spd_add(a->dp, 1) < 0 || vg_ipsec_spd_add(b->dp, 1) < 0 ||
      vg_ipsec_spd_entry_add(a->dp, 1, &protect) != 0 || vg_ipsec_spd_entry_add(a->dp, 1, &ike) != 1 ||
      vg_ipsec_spd_entry_add(a->dp, 1, &telnet) != 2 || vg_ipsec_spd_entry_add(b->dp, 1, &in) != 0 ||
      vg_ipsec_spd_bind(a->dp, (uint32_t)a->u0, 1) < 0 || vg_ipsec_spd_bind(b->dp, (uint32_t)b->u0, 1) < 0) {
    test_fail(__FILE__, __LINE__, "spd set-up: %s", vg_last_error());
    return 0;
  }
  return 1;
}

TEST(ipsec_spd_protects_bypasses_and_discards_outbound_and_checks_inbound) {
  box_t a, b;
  REQUIRE(spd_setup(&a, &b, VG_IPSEC_SA_TUNNEL));
  uint8_t ip[256], f[2048], got[2048];
  uint32_t len = udp_packet(ip, IP(192, 168, 1, 2), IP(192, 168, 2, 5), 30, 1);
  send_ip(&a, 1, ip, len);
  uint32_t n = wire(&a, &b, f, sizeof f);
  REQUIRE(n > 0);
  CHECK_EQ(f[14 + 9], 50);
  CHECK_EQ(vg_rd_be32(f + 14 + 20), 0x7777);
  CHECK_EQ(f[14 + 8], 63); /* the outer header's TTL, after A's forwarding step */
  CHECK_EQ(next_sent(&b, 1, got, sizeof got), 14 + len);
  CHECK(same_but_ttl(got + 14, ip, len, 2));
  CHECK_EQ(stat_error(a.dp, "ipsec4-output/sent to be encrypted by policy"), 1);
  CHECK_EQ(stat_error(a.dp, "ipsec4-output/ESP from esp-encrypt (not checked)"), 1);
  CHECK_EQ(stat_error(b.dp, "ipsec4-input/passed"), 2); /* the ESP, then what it carried */
  /* IKE from the LAN passes in clear; telnet is discarded; the rest has no policy. */
  len = udp_packet(ip, IP(192, 168, 1, 2), IP(10, 0, 0, 2), 10, 2);
  vg_put_be16(ip + 22, 500);
  send_ip(&a, 1, ip, len);
  CHECK(wire(&a, &b, f, sizeof f) > 0);
  CHECK_EQ(f[14 + 9], 17);
  ip[9] = 6;
  vg_put_be16(ip + 22, 23);
  ip[10] = ip[11] = 0;
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, 20)));
  send_ip(&a, 1, ip, len);
  vg_put_be16(ip + 22, 22);
  send_ip(&a, 1, ip, len);
  CHECK_EQ(next_sent(&a, 0, f, sizeof f), 0);
  CHECK_EQ(stat_error(a.dp, "ipsec4-output/discarded by policy"), 1);
  CHECK_EQ(stat_error(a.dp, "ipsec4-output/no policy matched"), 1);
  vg_ipsec_spd_entry_info_t e[4];
  CHECK_EQ(vg_ipsec_spd_entry_dump(a.dp, 1, e, 4), 3);
  CHECK_EQ(e[0].entry_id, 1); /* priority 100 first */
  CHECK_EQ(e[0].packets, 1);
  CHECK_EQ(e[1].entry_id, 2);
  CHECK_EQ(e[1].packets, 1);
  CHECK_EQ(e[2].entry_id, 0);
  CHECK_EQ(e[2].packets, 1);
  CHECK_EQ(stat_elem(a.dp, "/ipsec/spd/packets", "1/0"), 1);
  /* B: the same flow in clear is refused; ESP with another SA is too. */
  len = udp_packet(ip, IP(192, 168, 1, 2), IP(192, 168, 2, 5), 30, 3);
  send_ip(&b, 0, ip, len);
  CHECK_EQ(stat_error(b.dp, "ipsec4-input/clear packet matches a protect policy"), 1);
  vg_ipsec_sa_config_t other = sa_config(VG_IPSEC_CRYPTO_AES_128_GCM, 0, VG_IPSEC_SA_TUNNEL, 0x8888, A_ADDR, B_ADDR, 4);
  vg_ipsec_sa_config_t other_in = other;
  other_in.flags |= VG_IPSEC_SA_INBOUND;
  REQUIRE(vg_ipsec_sa_add(b.dp, 9, &other_in) == 0);
  n = esp_with_seq(&a, &other, 1, ip, len, f, sizeof f);
  REQUIRE(n > 0);
  send_ip(&b, 0, f + 14, n - 14);
  CHECK_EQ(stat_error(b.dp, "ipsec4-input/decrypted packet does not match its SA's policy"), 1);
  CHECK_EQ(stat_elem(b.dp, "/if/tx-packets", "p1"), 1);
  /* The API's refusals. */
  CHECK_EQ(vg_ipsec_sa_delete(a.dp, SA_OUT), VG_E_STATE);
  CHECK_STR_CONTAINS(vg_last_error(), "is named by 1 SPD entry: delete them first");
  CHECK_EQ(vg_ipsec_spd_delete(a.dp, 1), VG_E_STATE);
  CHECK_STR_CONTAINS(vg_last_error(), "ipsec spd 1 is bound to interface u0: unbind it first");
  CHECK_EQ(vg_ipsec_spd_add(a.dp, 1), VG_E_EXISTS);
  vg_ipsec_policy_t p = {.direction = VG_IPSEC_POLICY_INBOUND, .action = VG_IPSEC_ACTION_PROTECT, .sa_id = SA_OUT};
  CHECK_EQ(vg_ipsec_spd_entry_add(a.dp, 1, &p), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "sa 1 is outbound, the entry inbound");
  p.action = 7;
  CHECK_EQ(vg_ipsec_spd_entry_add(a.dp, 1, &p), VG_E_INVAL);
  p.action = VG_IPSEC_ACTION_BYPASS, p.local_lo = 5, p.local_hi = 4;
  CHECK_EQ(vg_ipsec_spd_entry_add(a.dp, 1, &p), VG_E_INVAL);
  CHECK_EQ(vg_ipsec_spd_entry_add(a.dp, 2, &p), VG_E_NOTFOUND);
  vg_ipsec_spd_binding_t bind[2];
  CHECK_EQ(vg_ipsec_spd_binding_dump(a.dp, bind, 2), 1);
  CHECK_EQ(bind[0].sw_if_index, a.u0);
  CHECK_EQ(bind[0].spd_id, 1);
  vg_ipsec_spd_info_t si[2];
  CHECK_EQ(vg_ipsec_spd_dump(a.dp, si, 2), 1);
  CHECK_EQ(si[0].n_entries, 3);
  CHECK_EQ(si[0].n_interfaces, 1);
  CHECK_EQ(vg_ipsec_spd_entry_delete(a.dp, 1, 0), 0);
  CHECK_EQ(vg_ipsec_spd_entry_delete(a.dp, 1, 0), VG_E_NOTFOUND);
  CHECK_EQ(vg_ipsec_sa_delete(a.dp, SA_OUT), 0);
  CHECK_EQ(vg_ipsec_spd_bind(a.dp, (uint32_t)a.u0, UINT32_MAX), 0);
  CHECK_EQ(vg_ipsec_spd_binding_dump(a.dp, bind, 2), 0);
  CHECK_EQ(vg_ipsec_spd_delete(a.dp, 1), 0);
  /* Unbound: clear again. */
  len = udp_packet(ip, IP(192, 168, 1, 2), IP(192, 168, 2, 5), 30, 4);
  send_ip(&a, 1, ip, len);
  CHECK(next_sent(&a, 0, f, sizeof f) == 14 + len);
  CHECK_EQ(vg_buffer_pool_available(a.dp), 4096);
  CHECK_EQ(vg_buffer_pool_available(b.dp), 4096);
  box_free(&a);
  box_free(&b);
}

TEST(ipsec_spd_transport_mode_ping_between_the_boxes) {
  box_t a, b;
  REQUIRE(spd_setup(&a, &b, 0));
  uint8_t ip[128], f[2048];
  memset(ip, 0, sizeof ip);
  ip[0] = 0x45, ip[3] = 28 + 16, ip[8] = 64, ip[9] = 1;
  vg_wr_be32(ip + 12, A_ADDR);
  vg_wr_be32(ip + 16, B_ADDR);
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, 20)));
  ip[20] = 8, ip[27] = 9;
  vg_put_be16(ip + 22, vg_csum_fold(vg_csum_add(0, ip + 20, 24)));
  /* As the box's own packet: into ip4-lookup (as ping does). */
  inject(a.dp, "ip4-lookup", (uint32_t)a.u0, ip, 44, VG_NONE);
  uint32_t n = wire(&a, &b, f, sizeof f);
  REQUIRE(n > 0);
  CHECK_EQ(f[14 + 9], 50);
  CHECK_EQ(vg_rd_be32(f + 14 + 16), B_ADDR);
  CHECK_EQ(f[14 + 8], 63);
  CHECK_EQ(stat_error(b.dp, "esp-decrypt/packets decrypted"), 1);
  CHECK_EQ(stat_error(b.dp, "ip4-local/echo requests answered"), 1);
  CHECK_EQ(sa_info(b.dp, SA_IN).bytes, 24);
  box_free(&a);
  box_free(&b);
}
