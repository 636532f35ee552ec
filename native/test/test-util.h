/* Helpers shared by the native tests. */
#ifndef VG_TEST_UTIL_H
#define VG_TEST_UTIL_H

#include "../engine/vg.h"

/* Reads counters the way the agent does: through the stats directory. */
uint64_t stat_elem(vg_dp_t *dp, const char *entry, const char *elem_name);
uint64_t stat_error(vg_dp_t *dp, const char *node_slash_reason);
/* Writes frames to a pcap file (microsecond format, host order). */
void write_pcap(const char *path, const uint8_t *const *frames, const uint32_t *lens, uint32_t n);
/* Frame k (from 0) of a pcap file as write_pcap writes them into out (at
 * most max bytes); its length, 0 when the file or the frame is absent. */
uint32_t read_pcap_frame(const char *path, uint32_t k, uint8_t *out, uint32_t max);
/* A path in the test's scratch directory. */
const char *tmp_path(const char *name);
/* Builds an Ethernet frame: dst 02..02, src 02..01, the tags, then type and
 * `payload` bytes of pattern. Returns its length. */
uint32_t make_frame(uint8_t *out, const uint16_t *tpids, const uint16_t *vlans, int n_tags,
                    uint16_t type, uint32_t payload);
/* A buffer holding len bytes of data (a chain when longer than a buffer),
 * as received on port rx (VG_NONE: none), on thread 0 and not enqueued;
 * VG_BUFFER_INVALID when the pool runs out. */
uint32_t rx_buffer(vg_dp_t *dp, uint32_t rx, const uint8_t *data, uint32_t len);
/* Runs one frame list through a pcap rx interface "in0" and returns the
 * dataplane for inspection (caller destroys). tx_type redirects that
 * ethertype to a pcap writer "out0" at out_path when nonzero. */
vg_dp_t *run_frames(const uint8_t *const *frames, const uint32_t *lens, uint32_t n,
                    uint16_t tx_type, const char *out_path);

#endif
