/* The packet generator: spec errors name the field; frames are what the
 * spec says, checked by writing them to a pcap file and reading it back. */
#include <stdlib.h>

#include "../engine/checksum.h"
#include "../interfaces/pcap.h"
#include "test-util.h"
#include "test.h"

static void expect_spec_error(const char *spec, const char *words) {
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  if (!dp) return;
  int rc = vg_pg_stream_add(dp, spec);
  if (rc >= 0) test_fail(__FILE__, __LINE__, "spec accepted: %s", spec);
  else if (!strstr(vg_last_error(), words))
    test_fail(__FILE__, __LINE__, "spec '%s': error '%s' lacks '%s'", spec, vg_last_error(), words);
  vg_dp_destroy(dp);
}

TEST(pg_bad_specs_name_the_field) {
  expect_spec_error("size=64", "field name: required");
  expect_spec_error("name=a ip4.dst=10.0.0.300", "field ip4.dst: '10.0.0.300' is not an IPv4");
  expect_spec_error("name=a eth.src=02:00:00:00:00", "field eth.src");
  expect_spec_error("name=a size=20", "field size: 20 bytes is shorter than the 42 bytes");
  expect_spec_error("name=a colour=red", "unknown field 'colour'");
  expect_spec_error("name=a data=0102 eth.type=0x0806", "field data: cannot be combined");
  expect_spec_error("name=a data=01020", "field data");
  expect_spec_error("name=a size=64 edit=70:2:1-5", "field edit: bytes 70..71 lie beyond");
  expect_spec_error("name=a edit=0:9:1", "field edit: width '9'");
  expect_spec_error("name=a udp.sport=10-5", "field udp.sport: range 10-5 runs backwards");
  expect_spec_error("name=a udp.sport=70000", "field udp.sport");
  expect_spec_error("name=a ip4.dst=10.0.0.1/random", "field ip4.dst: '10.0.0.1/random'");
  expect_spec_error("name=a worker=3", "field worker: 3, but the dataplane has 1");
  expect_spec_error("name=a node=nowhere", "field node: no node named nowhere");
  expect_spec_error("name=a node=pg-input", "field node: pg-input is an input node");
  expect_spec_error("name=a eth.type=0x0806 ip4.src=1.2.3.4", "field eth.type");
  expect_spec_error("name=a l4=sctp", "field l4");
  expect_spec_error("name=a rate=fast", "field rate");
  expect_spec_error("name=a vlan=5000", "field vlan: '5000'");
  expect_spec_error("name=a l4=tcp udp.dport=53", "field l4: the ports given are udp ports");
  expect_spec_error("name", "not key=value");
}

TEST(pg_duplicate_stream_name_refused) {
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  REQUIRE(dp);
  CHECK(vg_pg_stream_add(dp, "name=a count=1") >= 0);
  CHECK_EQ(vg_pg_stream_add(dp, "name=a count=1"), VG_E_EXISTS);
  CHECK_STR_CONTAINS(vg_last_error(), "field name: a stream named a exists");
  vg_dp_destroy(dp);
}

/* Generates `spec` (must redirect to out via eth.type) and loads the output. */
static vg_pcap_file_t *generate(const char *spec, uint16_t type, uint64_t expect) {
  const char *out = tmp_path("pg-out.pcap");
  vg_dp_t *dp = vg_dp_create("buffers=4096");
  if (!dp) return NULL;
  int tx = vg_pcap_interface_create(dp, "out0", NULL, 0, out);
  CHECK(tx >= 0);
  CHECK_EQ(vg_ethernet_redirect(dp, type, (uint32_t)tx), 0);
  int s = vg_pg_stream_add(dp, spec);
  if (s < 0) test_fail(__FILE__, __LINE__, "spec '%s': %s", spec, vg_last_error());
  CHECK_EQ(vg_dp_run_until_idle(dp, 0), (int64_t)expect);
  vg_pg_status_t st;
  CHECK_EQ(vg_pg_stream_status(dp, (uint32_t)s, &st), 0);
  CHECK_EQ(st.packets_sent, expect);
  CHECK(st.done);
  CHECK_EQ(stat_elem(dp, "/if/tx-packets", "out0"), expect);
  CHECK_EQ(vg_buffer_pool_available(dp), 4096);
  vg_dp_destroy(dp); /* closes the writer */
  vg_pcap_file_t *f = NULL;
  if (vg_pcap_load(out, &f) < 0) test_fail(__FILE__, __LINE__, "%s", vg_last_error());
  return f;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

TEST(pg_builds_ipv4_udp_with_incrementing_fields) {
  vg_pcap_file_t *f = generate("name=s size=100 count=300 eth.src=02:aa:00:00:00:01 "
                               "ip4.src=192.168.1.1 ip4.dst=10.0.0.250-10.0.1.4 ip4.ttl=7 "
                               "udp.sport=5000 udp.dport=53", 0x0800, 300);
  REQUIRE(f);
  CHECK_EQ(f->n_records, 300);
  for (uint32_t i = 0; i < f->n_records; i++) {
    const uint8_t *p = f->data + f->offsets[i];
    CHECK_EQ(f->lengths[i], 100);
    CHECK(memcmp(p + 6, "\x02\xaa\x00\x00\x00\x01", 6) == 0);
    CHECK_EQ(be16(p + 12), 0x0800);
    const uint8_t *ip = p + 14;
    CHECK_EQ(ip[0], 0x45);
    CHECK_EQ(ip[8], 7);
    CHECK_EQ(ip[9], 17);
    CHECK_EQ(be16(ip + 2), 86);
    CHECK_EQ(vg_csum_fold(vg_csum_add(0, ip, 20)), 0); /* header checksum verifies */
    CHECK_EQ(be32(ip + 12), 0xc0a80101);
    CHECK_EQ(be32(ip + 16), 0x0a0000fa + (i % 11)); /* 10.0.0.250 .. 10.0.1.4 wraps */
    CHECK_EQ(be16(ip + 20), 5000);
    CHECK_EQ(be16(ip + 22), 53);
    CHECK_EQ(be16(ip + 24), 66);
  }
  vg_pcap_file_free(f);
}

TEST(pg_tcp_and_icmp_checksums_verify_with_random_fields) {
  vg_pcap_file_t *f = generate("name=t size=80 count=200 l4=tcp tcp.sport=1-65535/random "
                               "ip4.dst=10.0.0.0-10.0.255.255/random", 0x0800, 200);
  REQUIRE(f);
  uint32_t distinct = 0, prev = 0;
  for (uint32_t i = 0; i < f->n_records; i++) {
    const uint8_t *ip = f->data + f->offsets[i] + 14;
    CHECK_EQ(vg_csum_fold(vg_csum_add(0, ip, 20)), 0);
    uint64_t sum = vg_csum_add(0, ip + 12, 8) + 6 + (80 - 14 - 20);
    CHECK_EQ(vg_csum_fold(vg_csum_add(sum, ip + 20, 80 - 14 - 20)), 0);
    uint32_t dst = be32(ip + 16);
    CHECK((dst >> 16) == 0x0a00);
    distinct += dst != prev;
    prev = dst;
  }
  CHECK(distinct > 150);
  vg_pcap_file_free(f);
  f = generate("name=i size=98 count=10 l4=icmp", 0x0800, 10);
  REQUIRE(f);
  const uint8_t *icmp = f->data + f->offsets[0] + 34;
  CHECK_EQ(icmp[0], 8);
  CHECK_EQ(vg_csum_fold(vg_csum_add(0, icmp, 98 - 34)), 0);
  vg_pcap_file_free(f);
}

TEST(pg_size_range_vlans_raw_data_and_jumbo) {
  vg_pcap_file_t *f = generate("name=r size=64-67 count=8 vlan=10,20 eth.type=0x88b5", 0x88b5, 8);
  REQUIRE(f);
  for (uint32_t i = 0; i < 8; i++) {
    const uint8_t *p = f->data + f->offsets[i];
    CHECK_EQ(f->lengths[i], 64 + i % 4);
    CHECK_EQ(be16(p + 12), 0x88a8);
    CHECK_EQ(be16(p + 14), 10);
    CHECK_EQ(be16(p + 16), 0x8100);
    CHECK_EQ(be16(p + 18), 20);
    CHECK_EQ(be16(p + 20), 0x88b5);
  }
  vg_pcap_file_free(f);
  f = generate("name=d data=ffffffffffff0200000000010806aabb size=16 count=3 edit=14:2:7-8",
               0x0806, 3);
  REQUIRE(f);
  CHECK_EQ(f->lengths[0], 16);
  CHECK_EQ(be16(f->data + f->offsets[0] + 14), 7);
  CHECK_EQ(be16(f->data + f->offsets[1] + 14), 8);
  CHECK_EQ(be16(f->data + f->offsets[2] + 14), 7);
  vg_pcap_file_free(f);
  f = generate("name=j size=9000 count=20 l4=tcp", 0x0800, 20);
  REQUIRE(f);
  for (uint32_t i = 0; i < f->n_records; i++) {
    const uint8_t *ip = f->data + f->offsets[i] + 14;
    CHECK_EQ(f->lengths[i], 9000);
    CHECK_EQ(be16(ip + 2), 9000 - 14);
    uint64_t sum = vg_csum_add(0, ip + 12, 8) + 6 + (9000 - 34);
    CHECK_EQ(vg_csum_fold(vg_csum_add(sum, ip + 20, 9000 - 34)), 0);
    CHECK_EQ(ip[8999 - 14], (uint8_t)8999); /* payload pattern reaches the last chained byte */
  }
  vg_pcap_file_free(f);
}

TEST(pg_rate_limited_stream_paces_itself) {
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  REQUIRE(dp);
  int s = vg_pg_stream_add(dp, "name=slow count=50 rate=1k");
  REQUIRE(s >= 0);
  CHECK_EQ(vg_dp_run_until_idle(dp, 0), 50);
  vg_pg_status_t st;
  vg_pg_stream_status(dp, (uint32_t)s, &st);
  /* 50 packets at 1000/s cannot finish in less than ~49 ms. */
  CHECK(st.last_ns - st.first_ns >= 45000000ull);
  /* Re-enabling a finished stream sends it again. */
  CHECK_EQ(vg_pg_stream_enable(dp, (uint32_t)s, 1), 0);
  CHECK_EQ(vg_dp_run_until_idle(dp, 0), 50);
  CHECK_EQ(vg_pg_stream_delete(dp, (uint32_t)s), 0);
  CHECK_EQ(vg_pg_stream_delete(dp, (uint32_t)s), VG_E_NOTFOUND);
  vg_dp_destroy(dp);
}
