/* The buffer pool: one 2 MB-backed region, a shared free stack, and a cache
 * of free indices per thread so the packet path rarely takes the lock.
 * Freed buffers go back on top of the thread's cache (LIFO), so a steady
 * stream reuses the same few hundred buffers, which stay in cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg.h"

int vg_buffer_pool_init(vg_main_t *dp, uint32_t n_buffers, int try_hugetlb) {
  if (n_buffers < 2 * VG_BUFFER_CACHE)
    return vg_error(VG_E_INVAL, "buffers=%u: at least %u are needed", n_buffers,
                    2 * VG_BUFFER_CACHE);
  if (n_buffers > (1u << 24))
    return vg_error(VG_E_INVAL, "buffers=%u: at most %u", n_buffers, 1u << 24);
  dp->buffer_mem_size = (uint64_t)n_buffers * VG_BUFFER_STRIDE;
  dp->buffer_mem = vg_mem_alloc_huge(dp->buffer_mem_size, try_hugetlb, &dp->buffer_backing);
  if (!dp->buffer_mem)
    return vg_error(VG_E_NOMEM, "cannot map %llu bytes for %u buffers",
                    (unsigned long long)dp->buffer_mem_size, n_buffers);
  dp->pool_free = malloc(sizeof(vg_buffer_stack_t) + sizeof(uint32_t) * n_buffers);
  if (!dp->pool_free) return vg_error(VG_E_NOMEM, "buffer free list");
  dp->n_buffers = n_buffers;
  /* Highest index at the bottom so the first allocations are the lowest. */
  for (uint32_t i = 0; i < n_buffers; i++)
    dp->pool_free->bi[i] = (n_buffers - 1 - i) * (VG_BUFFER_STRIDE / 64);
  dp->pool_free->n = n_buffers;
  pthread_mutex_init(&dp->pool_lock, NULL);
  return 0;
}

void vg_buffer_pool_free(vg_main_t *dp) {
  vg_mem_free_huge(dp->buffer_mem, dp->buffer_mem_size);
  free(dp->pool_free);
  dp->buffer_mem = NULL;
  dp->pool_free = NULL;
}

uint32_t vg_buffer_pool_available(vg_main_t *dp) {
  pthread_mutex_lock(&dp->pool_lock);
  uint32_t n = dp->pool_free->n;
  pthread_mutex_unlock(&dp->pool_lock);
  for (uint32_t t = 0; t < dp->n_threads; t++) n += dp->threads[t].n_cached;
  return n;
}

int vg_buffer_pool_info(vg_dp_t *dp, vg_buffer_pool_info_t *out) {
  pthread_mutex_lock(&dp->api_lock);
  vg_barrier_sync(dp); /* the threads' caches hold still */
  memset(out, 0, sizeof *out);
  out->total = dp->n_buffers;
  pthread_mutex_lock(&dp->pool_lock);
  out->free = dp->pool_free->n;
  pthread_mutex_unlock(&dp->pool_lock);
  for (uint32_t t = 0; t < dp->n_threads; t++) out->cached += dp->threads[t].n_cached;
  out->data_size = VG_BUFFER_DATA_SIZE;
  out->buffer_size = VG_BUFFER_STRIDE;
  snprintf(out->backing, sizeof out->backing, "%s", dp->buffer_backing);
  vg_barrier_release(dp);
  pthread_mutex_unlock(&dp->api_lock);
  return 0;
}

static void cache_refill(vg_thread_t *th, uint32_t want) {
  vg_main_t *dp = th->dp;
  pthread_mutex_lock(&dp->pool_lock);
  vg_buffer_stack_t *s = dp->pool_free;
  uint32_t n = want < s->n ? want : s->n;
  memcpy(th->cache + th->n_cached, s->bi + s->n - n, n * sizeof(uint32_t));
  s->n -= n;
  th->n_cached += n;
  pthread_mutex_unlock(&dp->pool_lock);
}

static void cache_spill(vg_thread_t *th, uint32_t n) {
  vg_main_t *dp = th->dp;
  pthread_mutex_lock(&dp->pool_lock);
  vg_buffer_stack_t *s = dp->pool_free;
  /* Give back the bottom of the cache (coldest), keep the hot top. */
  memcpy(s->bi + s->n, th->cache, n * sizeof(uint32_t));
  s->n += n;
  pthread_mutex_unlock(&dp->pool_lock);
  memmove(th->cache, th->cache + n, (th->n_cached - n) * sizeof(uint32_t));
  th->n_cached -= n;
}

uint32_t vg_buffer_alloc(vg_thread_t *th, uint32_t *bi, uint32_t n) {
  if (VG_UNLIKELY(th->n_cached < n)) {
    cache_refill(th, VG_BUFFER_CACHE + n - th->n_cached);
    if (th->n_cached < n) n = th->n_cached;
  }
  th->n_cached -= n;
  memcpy(bi, th->cache + th->n_cached, n * sizeof(uint32_t));
  return n;
}

static inline void cache_push(vg_thread_t *th, uint32_t bi) {
  if (VG_UNLIKELY(th->n_cached == VG_ARRAY_LEN(th->cache))) cache_spill(th, VG_BUFFER_CACHE);
  th->cache[th->n_cached++] = bi;
}

void vg_buffer_free(vg_thread_t *th, const uint32_t *bi, uint32_t n) {
  vg_main_t *dp = th->dp;
  while (n) {
    uint32_t room = (uint32_t)VG_ARRAY_LEN(th->cache) - th->n_cached;
    if (room < VG_FRAME_SIZE) {
      cache_spill(th, VG_BUFFER_CACHE);
      continue;
    }
    uint32_t k = n < room ? n : room, chained = 0;
    for (uint32_t i = 0; i < k; i++) {
      th->cache[th->n_cached + i] = bi[i];
      chained |= vg_buffer(dp, bi[i])->flags;
    }
    th->n_cached += k;
    if (VG_UNLIKELY(chained & VG_BUF_NEXT_PRESENT))
      for (uint32_t i = 0; i < k; i++) {
        vg_buffer_t *b = vg_buffer(dp, bi[i]);
        while (b->flags & VG_BUF_NEXT_PRESENT) {
          b->flags &= ~VG_BUF_NEXT_PRESENT;
          cache_push(th, b->next_buffer);
          b = vg_buffer(dp, b->next_buffer);
        }
      }
    bi += k;
    n -= k;
  }
}

int vg_buffer_append(vg_thread_t *th, uint32_t head, const uint8_t *data, uint32_t len) {
  vg_main_t *dp = th->dp;
  vg_buffer_t *h = vg_buffer(dp, head), *last = h;
  while (last->flags & VG_BUF_NEXT_PRESENT) last = vg_buffer(dp, last->next_buffer);
  while (len) {
    int32_t room = VG_BUFFER_DATA_SIZE - (last->current_data + last->current_length);
    if (room <= 0) {
      uint32_t nb;
      if (!vg_buffer_alloc(th, &nb, 1)) return vg_error(VG_E_NOMEM, "buffer pool exhausted");
      vg_buffer_t *b = vg_buffer(dp, nb);
      memset(b, 0, sizeof *b);
      last->next_buffer = nb;
      last->flags |= VG_BUF_NEXT_PRESENT;
      h->flags |= VG_BUF_NEXT_PRESENT;
      last = b;
      continue;
    }
    uint32_t k = len < (uint32_t)room ? len : (uint32_t)room;
    memcpy(vg_buffer_current(last) + last->current_length, data, k);
    last->current_length = (uint16_t)(last->current_length + k);
    if (last != h) h->total_length_not_including_first_buffer += k;
    data += k;
    len -= k;
  }
  return 0;
}

uint32_t vg_buffer_copy_out(vg_main_t *dp, uint32_t head, uint8_t *out, uint32_t len) {
  vg_buffer_t *b = vg_buffer(dp, head);
  uint32_t done = 0;
  for (;;) {
    uint32_t k = b->current_length < len - done ? b->current_length : len - done;
    memcpy(out + done, vg_buffer_current(b), k);
    done += k;
    if (done == len || !(b->flags & VG_BUF_NEXT_PRESENT)) return done;
    b = vg_buffer(dp, b->next_buffer);
  }
}

uint32_t vg_buffer_copy(vg_thread_t *th, uint32_t src) {
  vg_main_t *dp = th->dp;
  uint32_t bi;
  if (!vg_buffer_alloc(th, &bi, 1)) return VG_BUFFER_INVALID;
  vg_buffer_t *s = vg_buffer(dp, src), *d = vg_buffer(dp, bi);
  *d = *s;
  d->flags &= ~(VG_BUF_NEXT_PRESENT | VG_BUF_TRACED);
  d->current_length = 0;
  d->total_length_not_including_first_buffer = 0;
  /* Keep the same headroom so the copy can be re-encapsulated alike. */
  uint32_t len = s->current_length;
  memcpy(vg_buffer_current(d), vg_buffer_current(s), len);
  d->current_length = (uint16_t)len;
  for (vg_buffer_t *x = s; x->flags & VG_BUF_NEXT_PRESENT;) {
    x = vg_buffer(dp, x->next_buffer);
    if (vg_buffer_append(th, bi, vg_buffer_current(x), x->current_length) != 0) {
      vg_buffer_free(th, &bi, 1);
      return VG_BUFFER_INVALID;
    }
  }
  return bi;
}

void vg_buffer_free_tail(vg_thread_t *th, vg_buffer_t *b) {
  if (!(b->flags & VG_BUF_NEXT_PRESENT)) return;
  vg_buffer_free(th, &b->next_buffer, 1);
  b->flags &= ~VG_BUF_NEXT_PRESENT;
  b->total_length_not_including_first_buffer = 0;
}
