#include "sfu_fbcopy.h"

#include <stdlib.h>
#include <string.h>

#include "sfu_error.h"

int sfu_fbcopy_make(sfu_fbcopy_t *c, sfu_fbclone_fn clone, fb_table_t t) {
  fb_builder_t b;
  const uint8_t *out;
  size_t len;
  int r = SFU_ENOMEM;

  memset(c, 0, sizeof(*c));
  if (t.buf == NULL) return 0;
  if (fb_builder_init(&b, 512) != 0) return SFU_ENOMEM;
  fb_ref_t root = clone(&b, t);
  if (root == 0 || fb_builder_finish(&b, root, &out, &len) != 0) {
    r = fb_builder_error(&b) == FB_ENOMEM ? SFU_ENOMEM : SFU_EPROTO;
    goto done;
  }
  if ((c->buf = malloc(len)) == NULL) goto done;
  memcpy(c->buf, out, len);
  c->len = len;
  /* The root offset is the first little-endian u32 of a finished buffer. */
  c->root.buf = c->buf;
  c->root.pos = (uint32_t)c->buf[0] | (uint32_t)c->buf[1] << 8 | (uint32_t)c->buf[2] << 16 | (uint32_t)c->buf[3] << 24;
  r = 0;
done:
  fb_builder_free(&b);
  return r;
}

void sfu_fbcopy_free(sfu_fbcopy_t *c) {
  free(c->buf);
  memset(c, 0, sizeof(*c));
}
