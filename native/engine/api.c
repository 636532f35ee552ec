/* Dataplane lifecycle, threads and the barrier. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "text.h"
#include "vg.h"
#include "../interfaces/vxlan.h"
#include "../ipsec/ipsec.h"
#include "../ip4/ip4.h"
#include "../ip4/reass.h"

#ifndef VG_VARIANT
#error "VG_VARIANT must name the build variant"
#endif

uint32_t vg_api_version(void) { return VG_API_VERSION; }
const char *vg_variant_name(void) { return VG_VARIANT; }
const char *vg_buffer_backing(vg_dp_t *dp) { return dp->buffer_backing; }

typedef struct {
  uint64_t buffers, threads, stats_size, trace_max, hugetlb;
  uint64_t reassembly_max, reassembly_timeout_ms;
  int cpus[VG_MAX_THREADS]; /* core of each thread, -1: not pinned */
} options_t;

/* cpus=2,3: thread t runs on the t-th core of the list. */
static int parse_cpus(const vg_kv_t *kv, options_t *o) {
  const char *p = kv->val, *end = kv->val + kv->val_len;
  for (uint32_t t = 0; p < end; t++) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    uint32_t len = (uint32_t)((comma ? comma : end) - p);
    uint64_t cpu;
    if (t == VG_MAX_THREADS || vg_parse_u64(p, len, 0, &cpu) || cpu >= CPU_SETSIZE)
      return vg_error(VG_E_INVAL, "dataplane options: cpus=%.*s is not a list of core numbers",
                      (int)kv->val_len, kv->val);
    o->cpus[t] = (int)cpu;
    p += len + (comma ? 1 : 0);
  }
  return 0;
}

static int parse_options(const char *s, options_t *o) {
  *o = (options_t){16384, 1, 4u << 20, 1024, 1, VG_REASS_DEFAULT_MAX, VG_REASS_DEFAULT_TIMEOUT_MS, {0}};
  for (int t = 0; t < VG_MAX_THREADS; t++) o->cpus[t] = -1;
  vg_kv_t kv;
  int rc = 0;
  while (s && (rc = vg_kv_next(&s, &kv, "dataplane options")) > 0) {
    uint64_t *dst;
    int binary = 0;
    uint64_t lo = 0, hi = UINT64_MAX;
    if (vg_kv_is(&kv, "cpus")) {
      if (parse_cpus(&kv, o)) return VG_E_INVAL;
      continue;
    }
    if (vg_kv_is(&kv, "buffers")) dst = &o->buffers, lo = 1, hi = 1u << 24;
    else if (vg_kv_is(&kv, "threads")) dst = &o->threads, lo = 1, hi = VG_MAX_THREADS;
    else if (vg_kv_is(&kv, "stats-size")) dst = &o->stats_size, binary = 1, hi = 1ull << 32;
    else if (vg_kv_is(&kv, "trace-max")) dst = &o->trace_max, hi = 1u << 20;
    else if (vg_kv_is(&kv, "hugetlb")) dst = &o->hugetlb, hi = 1;
    else if (vg_kv_is(&kv, "reassembly-max")) dst = &o->reassembly_max, lo = 1, hi = 65536;
    else if (vg_kv_is(&kv, "reassembly-timeout")) dst = &o->reassembly_timeout_ms, lo = 1, hi = 60000;
    else
      return vg_error(VG_E_INVAL,
                      "dataplane options: unknown key '%.*s' (known: buffers threads cpus "
                      "stats-size trace-max hugetlb reassembly-max reassembly-timeout)",
                      (int)kv.key_len, kv.key);
    if (vg_parse_u64(kv.val, kv.val_len, binary, dst) || *dst < lo || *dst > hi)
      return vg_error(VG_E_INVAL, "dataplane options: %.*s=%.*s is not a number in %llu..%llu",
                      (int)kv.key_len, kv.key, (int)kv.val_len, kv.val, (unsigned long long)lo,
                      (unsigned long long)hi);
  }
  return rc;
}

static int interfaces_init(vg_main_t *dp);

vg_dp_t *vg_dp_create(const char *options) {
  options_t o;
  if (parse_options(options, &o) < 0) return NULL;
  vg_main_t *dp = calloc(1, sizeof *dp);
  if (!dp) return vg_error(VG_E_NOMEM, "dataplane"), NULL;
  pthread_mutex_init(&dp->api_lock, NULL);
  dp->created_ticks = vg_clock_ticks();
  dp->n_threads = (uint32_t)o.threads;
  dp->threads = calloc(dp->n_threads, sizeof(vg_thread_t));
  if (!dp->threads) goto fail;
  if (vg_stats_init(dp, o.stats_size) < 0) goto fail;
  if (vg_buffer_pool_init(dp, (uint32_t)o.buffers, (int)o.hugetlb) < 0) goto fail;
  if (vg_graph_init(dp) < 0) goto fail;
  for (uint32_t t = 0; t < dp->n_threads; t++) {
    if (vg_thread_init(dp, &dp->threads[t], t) < 0) goto fail;
    dp->threads[t].cpu = o.cpus[t];
  }
  if (vg_trace_init(dp, (uint32_t)o.trace_max) < 0) goto fail;
  if (interfaces_init(dp) < 0) goto fail;
  if (vg_ip4_init(dp) < 0) goto fail;
  if (vg_ip4_reass_init(dp, (uint32_t)o.reassembly_max, (uint32_t)o.reassembly_timeout_ms) < 0) goto fail;
  return dp;
fail:
  vg_dp_destroy(dp);
  return NULL;
}

void vg_dp_destroy(vg_dp_t *dp) {
  if (!dp) return;
  vg_dp_stop(dp);
  vg_pg_free_all(dp);
  vg_interfaces_free(dp);
  vg_vxlan_free(dp);
  vg_ipsec_free(dp);
  if (dp->threads) vg_ip4_reass_free(dp); /* its buffers go to the threads' caches */
  if (dp->threads)
    for (uint32_t t = 0; t < dp->n_threads; t++)
      if (dp->threads[t].rt) vg_thread_free(dp, &dp->threads[t]);
  free(dp->threads);
  vg_trace_free(dp);
  vg_graph_free(dp);
  vg_buffer_pool_free(dp);
  vg_stats_free(dp);
  free(dp->eth_redirect);
  vg_l2_free(dp);
  vg_pcap_trace_free(dp);
  vg_ping_free(dp);
  vg_ip4_free(dp);
  pthread_mutex_destroy(&dp->api_lock);
  free(dp);
}

/* ---- threads and barrier ---- */

void vg_barrier_check(vg_main_t *dp) {
  if (VG_LIKELY(!atomic_load_explicit(&dp->barrier_request, memory_order_acquire))) return;
  atomic_fetch_add(&dp->barrier_parked, 1);
  while (atomic_load_explicit(&dp->barrier_request, memory_order_acquire)) sched_yield();
  atomic_fetch_sub(&dp->barrier_parked, 1);
}

/* The caller holds dp->api_lock: one barrier at a time, and thread 0's
 * maintenance (which takes the lock with trylock) never runs beside it. */
void vg_barrier_sync(vg_main_t *dp) {
  if (!atomic_load(&dp->running)) return;
  atomic_store_explicit(&dp->barrier_request, 1, memory_order_release);
  while (atomic_load_explicit(&dp->barrier_parked, memory_order_acquire) < (int)dp->n_threads)
    sched_yield();
}

void vg_barrier_release(vg_main_t *dp) {
  if (!atomic_load(&dp->running)) return;
  atomic_store_explicit(&dp->barrier_request, 0, memory_order_release);
  /* Wait until every thread has left, so the next sync cannot count a
   * thread that is on its way out as parked. */
  while (atomic_load_explicit(&dp->barrier_parked, memory_order_acquire) > 0) sched_yield();
}

/* Table work the packet path asks for (ARP learning, neighbor aging) runs on
 * thread 0 between frames, with the other dataplane threads parked and no
 * API call in progress. When the API lock is taken the work waits for the
 * next loop: the API caller's own barrier is about to park this thread. */
#define MAINTENANCE_INTERVAL_NS 1000000000ull

static void maintenance(vg_main_t *dp, vg_thread_t *th, int locked) {
  if (th->index != 0) return;
  uint64_t now = vg_time_ns();
  if (!vg_ip4_learn_pending(dp) && now < dp->next_maintenance_ns) return;
  if (!locked && pthread_mutex_trylock(&dp->api_lock) != 0) return;
  int others = locked ? 0 : (int)dp->n_threads - 1;
  if (others) {
    atomic_store_explicit(&dp->barrier_request, 1, memory_order_release);
    while (atomic_load_explicit(&dp->barrier_parked, memory_order_acquire) < others) sched_yield();
  }
  vg_ip4_apply_learned(dp);
  dp->next_maintenance_ns = now + MAINTENANCE_INTERVAL_NS;
  if (others) {
    atomic_store_explicit(&dp->barrier_request, 0, memory_order_release);
    while (atomic_load_explicit(&dp->barrier_parked, memory_order_acquire) > 0) sched_yield();
  }
  if (!locked) pthread_mutex_unlock(&dp->api_lock);
}

static void thread_name(const vg_thread_t *th, char name[16]) {
  snprintf(name, 16, "vg-dp-%u", th->index);
}

static void *thread_main(void *arg) {
  vg_thread_t *th = arg;
  vg_main_t *dp = th->dp;
  uint32_t idle = 0;
  char name[16];
  thread_name(th, name);
  pthread_setname_np(pthread_self(), name);
  if (th->cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(th->cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set); /* best effort: the core may be gone */
  }
  atomic_store(&th->os_tid, (int32_t)syscall(SYS_gettid)); /* vg_dp_start waits for this */
  while (!atomic_load_explicit(&dp->stop, memory_order_relaxed)) {
    vg_barrier_check(dp);
    maintenance(dp, th, 0);
    if (vg_dispatch_once(dp, th)) {
      idle = 0;
      continue;
    }
    /* Nothing came in: back off from busy polling so an idle box idles. */
    if (++idle > 1024) {
      uint32_t us = idle - 1024 < 1000 ? idle - 1024 : 1000;
      struct timespec d = {0, (long)us * 1000};
      nanosleep(&d, NULL);
    }
  }
  return NULL;
}

int vg_dp_start(vg_dp_t *dp) {
  pthread_mutex_lock(&dp->api_lock);
  int rc = 0;
  if (atomic_load(&dp->running)) {
    rc = vg_error(VG_E_STATE, "dataplane already running");
    goto out;
  }
  atomic_store(&dp->stop, 0);
  atomic_store(&dp->barrier_request, 0);
  atomic_store(&dp->barrier_parked, 0);
  atomic_store(&dp->running, 1);
  for (uint32_t t = 0; t < dp->n_threads; t++)
    if (pthread_create(&dp->threads[t].tid, NULL, thread_main, &dp->threads[t]) != 0) {
      atomic_store(&dp->stop, 1);
      for (uint32_t j = 0; j < t; j++) {
        pthread_join(dp->threads[j].tid, NULL);
        atomic_store(&dp->threads[j].os_tid, 0);
      }
      atomic_store(&dp->running, 0);
      rc = vg_error(VG_E_IO, "cannot start dataplane thread %u", t);
      goto out;
    }
  /* Named, pinned and known by its thread id before start returns. */
  for (uint32_t t = 0; t < dp->n_threads; t++)
    while (!atomic_load(&dp->threads[t].os_tid)) sched_yield();
out:
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

int vg_dp_stop(vg_dp_t *dp) {
  pthread_mutex_lock(&dp->api_lock);
  if (atomic_load(&dp->running)) {
    atomic_store(&dp->stop, 1);
    for (uint32_t t = 0; t < dp->n_threads; t++) {
      pthread_join(dp->threads[t].tid, NULL);
      atomic_store(&dp->threads[t].os_tid, 0);
    }
    atomic_store(&dp->running, 0);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return 0;
}

int vg_thread_dump(vg_dp_t *dp, vg_thread_info_t *out, uint32_t max) {
  pthread_mutex_lock(&dp->api_lock);
  for (uint32_t t = 0; t < dp->n_threads && t < max; t++) {
    vg_thread_t *th = &dp->threads[t];
    memset(&out[t], 0, sizeof out[t]);
    out[t].index = t;
    thread_name(th, out[t].name);
    out[t].cpu = th->cpu;
    out[t].tid = atomic_load(&th->os_tid);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return (int)dp->n_threads;
}

int vg_dp_is_running(vg_dp_t *dp) { return atomic_load(&dp->running); }

int64_t vg_dp_run_until_idle(vg_dp_t *dp, uint64_t max_loops) {
  pthread_mutex_lock(&dp->api_lock);
  int64_t total = 0;
  if (atomic_load(&dp->running)) {
    pthread_mutex_unlock(&dp->api_lock);
    return vg_error(VG_E_STATE, "run_until_idle: the dataplane thread is running");
  }
  for (uint64_t loop = 0; !max_loops || loop < max_loops; loop++) {
    uint32_t in = 0;
    maintenance(dp, &dp->threads[0], 1);
    for (uint32_t t = 0; t < dp->n_threads; t++) in += vg_dispatch_once(dp, &dp->threads[t]);
    total += in;
    if (!in && !vg_pg_pending(dp) && !vg_pcap_rx_pending(dp)) break;
  }
  pthread_mutex_unlock(&dp->api_lock);
  return total;
}

/* ---- graph introspection ---- */

int vg_node_count(vg_dp_t *dp) { return (int)dp->n_nodes; }

int vg_node_find(vg_dp_t *dp, const char *name) {
  int i = vg_node_index(dp, name);
  return i < 0 ? vg_error(VG_E_NOTFOUND, "no node named %s", name) : i;
}

int64_t vg_graph_format(vg_dp_t *dp, char *buf, uint64_t size) {
  vg_text_t t = {buf, size, 0};
  for (uint32_t i = 0; i < dp->n_nodes; i++) {
    vg_node_t *n = &dp->nodes[i];
    vg_text_printf(&t, "%s", n->reg->name);
    for (uint32_t x = 0; x < n->n_next; x++)
      vg_text_printf(&t, "%s%s", x ? "," : " ", dp->nodes[n->next[x]].reg->name);
    vg_text_printf(&t, "\n");
  }
  return vg_text_finish(&t);
}

static int interfaces_init(vg_main_t *dp) {
  uint64_t *unused;
  uint32_t stride = VG_MAX_INTERFACES;
  int names = vg_stats_add(dp, "/if/names", VG_STAT_NAME_VECTOR, 0, stride, UINT32_MAX, &unused);
  if (names < 0) return names;
  struct { const char *name; uint64_t **dst; } c[] = {
      {"/if/rx-packets", &dp->if_rx_packets}, {"/if/rx-bytes", &dp->if_rx_bytes},
      {"/if/tx-packets", &dp->if_tx_packets}, {"/if/tx-bytes", &dp->if_tx_bytes},
      {"/if/drops", &dp->if_drops}, {"/if/rx-errors", &dp->if_rx_errors}};
  for (size_t i = 0; i < VG_ARRAY_LEN(c); i++) {
    int rc = vg_stats_add(dp, c[i].name, VG_STAT_COUNTER, 0, stride, (uint32_t)names, c[i].dst);
    if (rc < 0) return rc;
  }
  dp->if_stats_stride = stride;
  return 0;
}
