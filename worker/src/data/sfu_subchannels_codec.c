#include "sfu_subchannels_codec.h"

#include "sfu_byte.h"

#define SFU__FLAG_REQUIRED 0x2u
#define SFU__FLAG_IGNORED 0x1u

static size_t sfu__kept(const sfu_data_route_t *route, bool (*keep)(const void *, uint16_t), const void *arg) {
  size_t n = 0, total = sfu_data_route_count(route);
  for (size_t i = 0; i < total; i++)
    if (keep == NULL || keep(arg, sfu_data_route_sub(route, i))) n++;
  return n;
}

size_t sfu_subchannels_header_len(const sfu_data_route_t *route, bool (*keep)(const void *, uint16_t),
                                  const void *arg) {
  size_t n = sfu__kept(route, keep, arg);
  if (n == 0 && !route->has_required && !route->has_ignored) return 0;
  if (n > UINT16_MAX) n = UINT16_MAX;
  return 10 + 2 * n + (route->has_required ? 2 : 0) + (route->has_ignored ? 2 : 0);
}

size_t sfu_subchannels_encode(const sfu_data_route_t *route, bool (*keep)(const void *, uint16_t), const void *arg,
                              uint8_t *out, size_t cap) {
  size_t need = sfu_subchannels_header_len(route, keep, arg), o = 10, n = 0, total = sfu_data_route_count(route);
  uint64_t magic = SFU_SUBCHANNELS_MAGIC;
  if (need == 0 || need > cap) return 0;
  if (route->has_required) magic |= SFU__FLAG_REQUIRED;
  if (route->has_ignored) magic |= SFU__FLAG_IGNORED;
  for (int i = 0; i < 8; i++) out[i] = (uint8_t)(magic >> (56 - 8 * i));
  for (size_t i = 0; i < total && n < UINT16_MAX; i++) {
    uint16_t s = sfu_data_route_sub(route, i);
    if (keep != NULL && !keep(arg, s)) continue;
    sfu_wr16(out + o, s);
    o += 2, n++;
  }
  sfu_wr16(out + 8, (uint16_t)n);
  if (route->has_required) sfu_wr16(out + o, route->required), o += 2;
  if (route->has_ignored) sfu_wr16(out + o, route->ignored), o += 2;
  return o;
}

size_t sfu_subchannels_decode(const uint8_t *p, size_t len, sfu_data_route_t *route) {
  uint64_t magic = 0;
  if (len < 10) return 0;
  for (int i = 0; i < 8; i++) magic = (magic << 8) | p[i];
  if ((magic & ~(uint64_t)(SFU__FLAG_REQUIRED | SFU__FLAG_IGNORED)) != SFU_SUBCHANNELS_MAGIC) return 0;
  bool req = (magic & SFU__FLAG_REQUIRED) != 0, ign = (magic & SFU__FLAG_IGNORED) != 0;
  size_t n = sfu_rd16(p + 8), need = 10 + 2 * n + (req ? 2 : 0) + (ign ? 2 : 0);
  if (len < need) return 0;
  sfu_data_route_t r = {0};
  r.sub_be = p + 10;
  r.nsub_be = n;
  size_t o = 10 + 2 * n;
  if (req) r.has_required = true, r.required = sfu_rd16(p + o), o += 2;
  if (ign) r.has_ignored = true, r.ignored = sfu_rd16(p + o), o += 2;
  *route = r;
  return o;
}
