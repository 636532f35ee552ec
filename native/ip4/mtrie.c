/* The IPv4 mtrie: a 65536-slot root for the first 16 bits, then 256-slot
 * plies for bits 16-23 and 24-31. A lookup is at most three dependent loads.
 * Plies live in one pool backed by 2 MB pages and are named by index, so
 * the pool can grow (under the barrier) without touching the leaves. */
#include <stdlib.h>
#include <string.h>

#include "ip4.h"

#define ROOT_SLOTS 65536

static uint32_t ply_alloc(vg_ip4_main_t *im, vg_mtrie_leaf_t leaf, uint8_t len) {
  uint32_t i;
  if (im->n_free_plies) i = im->free_plies[--im->n_free_plies];
  else {
    if (im->n_plies == im->plies_cap) {
      uint32_t cap = im->plies_cap ? im->plies_cap * 2 : 1024;
      const char *backing;
      vg_mtrie_ply_t *p = vg_mem_alloc_huge((uint64_t)cap * sizeof *p, 0, &backing);
      uint32_t *f = realloc(im->free_plies, cap * sizeof(uint32_t));
      if (!p || !f) {
        if (p) vg_mem_free_huge(p, (uint64_t)cap * sizeof *p);
        if (f) im->free_plies = f;
        return VG_NONE;
      }
      im->free_plies = f;
      if (im->plies) {
        memcpy(p, im->plies, (uint64_t)im->n_plies * sizeof *p);
        vg_mem_free_huge(im->plies, (uint64_t)im->plies_cap * sizeof *p);
      }
      im->plies = p;
      im->plies_cap = cap;
    }
    i = im->n_plies++;
  }
  vg_mtrie_ply_t *p = &im->plies[i];
  for (int s = 0; s < 256; s++) p->leaves[s] = leaf;
  memset(p->lens, len, sizeof p->lens);
  return i;
}

static void ply_free(vg_ip4_main_t *im, uint32_t i) { im->free_plies[im->n_free_plies++] = i; }

static void ply_release_all(vg_ip4_main_t *im, vg_mtrie_leaf_t leaf) {
  if (vg_leaf_is_terminal(leaf)) return;
  vg_mtrie_ply_t *p = &im->plies[vg_leaf_index(leaf)];
  for (int s = 0; s < 256; s++) ply_release_all(im, p->leaves[s]);
  ply_free(im, vg_leaf_index(leaf));
}

int vg_mtrie_init(vg_ip4_main_t *im, vg_mtrie_t *m, vg_mtrie_leaf_t dflt) {
  (void)im;
  m->root = malloc(ROOT_SLOTS * sizeof(vg_mtrie_leaf_t));
  m->root_lens = calloc(ROOT_SLOTS, 1);
  if (!m->root || !m->root_lens) return vg_error(VG_E_NOMEM, "mtrie root");
  for (int i = 0; i < ROOT_SLOTS; i++) m->root[i] = dflt;
  return 0;
}

void vg_mtrie_free(vg_ip4_main_t *im, vg_mtrie_t *m) {
  if (m->root)
    for (int i = 0; i < ROOT_SLOTS; i++) ply_release_all(im, m->root[i]);
  free(m->root);
  free(m->root_lens);
  m->root = NULL;
  m->root_lens = NULL;
}

/* Sets a slot covered by a new prefix of length len: it takes the new leaf
 * unless a longer prefix set it; a ply below takes it in every such slot. */
static void set_slot(vg_ip4_main_t *im, vg_mtrie_leaf_t *slot, uint8_t *slot_len,
                     vg_mtrie_leaf_t leaf, uint8_t len) {
  if (vg_leaf_is_terminal(*slot)) {
    if (*slot_len <= len) {
      *slot = leaf;
      *slot_len = len;
    }
    return;
  }
  uint32_t p = vg_leaf_index(*slot);
  for (int s = 0; s < 256; s++)
    set_slot(im, &im->plies[p].leaves[s], &im->plies[p].lens[s], leaf, len);
}

/* The ply under a slot, made from the slot's leaf when there is none. */
static uint32_t ply_under(vg_ip4_main_t *im, vg_mtrie_leaf_t *(*slot_of)(vg_ip4_main_t *, void *, uint32_t),
                          void *ctx, uint32_t at, uint8_t *lens) {
  vg_mtrie_leaf_t *slot = slot_of(im, ctx, at);
  if (!vg_leaf_is_terminal(*slot)) return vg_leaf_index(*slot);
  uint32_t p = ply_alloc(im, *slot, lens ? lens[at] : 0);
  if (p == VG_NONE) return VG_NONE;
  slot = slot_of(im, ctx, at); /* the pool may have moved */
  *slot = p << 1;
  return p;
}

static vg_mtrie_leaf_t *root_slot(vg_ip4_main_t *im, void *ctx, uint32_t at) {
  (void)im;
  return &((vg_mtrie_t *)ctx)->root[at];
}

static vg_mtrie_leaf_t *ply_slot(vg_ip4_main_t *im, void *ctx, uint32_t at) {
  return &im->plies[(uint32_t)(uintptr_t)ctx].leaves[at];
}

int vg_mtrie_add(vg_ip4_main_t *im, vg_mtrie_t *m, uint32_t addr, uint32_t len,
                 vg_mtrie_leaf_t leaf) {
  addr &= len ? ~0u << (32 - len) : 0;
  if (len <= 16) {
    uint32_t base = addr >> 16, n = 1u << (16 - len);
    for (uint32_t i = base; i < base + n; i++) set_slot(im, &m->root[i], &m->root_lens[i], leaf, (uint8_t)len);
    return 0;
  }
  uint32_t p1 = ply_under(im, root_slot, m, addr >> 16, m->root_lens);
  if (p1 == VG_NONE) return vg_error(VG_E_NOMEM, "mtrie plies");
  uint32_t b1 = (addr >> 8) & 0xff;
  if (len <= 24) {
    for (uint32_t i = b1; i < b1 + (1u << (24 - len)); i++)
      set_slot(im, &im->plies[p1].leaves[i], &im->plies[p1].lens[i], leaf, (uint8_t)len);
    return 0;
  }
  uint32_t p2 = ply_under(im, ply_slot, (void *)(uintptr_t)p1, b1, im->plies[p1].lens);
  if (p2 == VG_NONE) return vg_error(VG_E_NOMEM, "mtrie plies");
  uint32_t b2 = addr & 0xff;
  for (uint32_t i = b2; i < b2 + (1u << (32 - len)); i++)
    set_slot(im, &im->plies[p2].leaves[i], &im->plies[p2].lens[i], leaf, (uint8_t)len);
  return 0;
}

/* A ply whose slots all hold one result collapses into that result. */
static void collapse(vg_ip4_main_t *im, vg_mtrie_leaf_t *slot, uint8_t *slot_len) {
  if (vg_leaf_is_terminal(*slot)) return;
  uint32_t p = vg_leaf_index(*slot);
  vg_mtrie_ply_t *ply = &im->plies[p];
  vg_mtrie_leaf_t l0 = ply->leaves[0];
  if (!vg_leaf_is_terminal(l0)) return;
  for (int s = 1; s < 256; s++)
    if (ply->leaves[s] != l0 || ply->lens[s] != ply->lens[0]) return;
  *slot = l0;
  *slot_len = ply->lens[0];
  ply_free(im, p);
}

/* Gives the slots a deleted prefix of length len set back to its cover. */
static void unset_slot(vg_ip4_main_t *im, vg_mtrie_leaf_t *slot, uint8_t *slot_len, uint8_t len,
                       vg_mtrie_leaf_t cover, uint8_t cover_len) {
  if (vg_leaf_is_terminal(*slot)) {
    if (*slot_len == len) {
      *slot = cover;
      *slot_len = cover_len;
    }
    return;
  }
  uint32_t p = vg_leaf_index(*slot);
  for (int s = 0; s < 256; s++)
    unset_slot(im, &im->plies[p].leaves[s], &im->plies[p].lens[s], len, cover, cover_len);
  collapse(im, slot, slot_len);
}

void vg_mtrie_del(vg_ip4_main_t *im, vg_mtrie_t *m, uint32_t addr, uint32_t len,
                  vg_mtrie_leaf_t cover, uint32_t cover_len) {
  addr &= len ? ~0u << (32 - len) : 0;
  uint8_t l = (uint8_t)len, cl = (uint8_t)cover_len;
  if (len <= 16) {
    uint32_t base = addr >> 16, n = 1u << (16 - len);
    for (uint32_t i = base; i < base + n; i++) unset_slot(im, &m->root[i], &m->root_lens[i], l, cover, cl);
    return;
  }
  vg_mtrie_leaf_t *r = &m->root[addr >> 16];
  if (vg_leaf_is_terminal(*r)) return;
  uint32_t p1 = vg_leaf_index(*r), b1 = (addr >> 8) & 0xff;
  if (len <= 24) {
    for (uint32_t i = b1; i < b1 + (1u << (24 - len)); i++)
      unset_slot(im, &im->plies[p1].leaves[i], &im->plies[p1].lens[i], l, cover, cl);
  } else {
    vg_mtrie_leaf_t *s1 = &im->plies[p1].leaves[b1];
    if (!vg_leaf_is_terminal(*s1)) {
      uint32_t p2 = vg_leaf_index(*s1), b2 = addr & 0xff;
      for (uint32_t i = b2; i < b2 + (1u << (32 - len)); i++)
        unset_slot(im, &im->plies[p2].leaves[i], &im->plies[p2].lens[i], l, cover, cl);
      collapse(im, s1, &im->plies[p1].lens[b1]);
    }
  }
  collapse(im, r, &m->root_lens[addr >> 16]);
}
