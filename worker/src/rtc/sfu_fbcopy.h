/* An owned, self-contained copy of one FlatBuffers table taken from a
 * request (e.g. the RtpParameters of a ProduceRequest), so an object can keep
 * reading it after the request is gone and echo it verbatim in its dumps. */
#ifndef SFU_FBCOPY_H
#define SFU_FBCOPY_H

#include <stddef.h>
#include <stdint.h>

#include "fb.h"

typedef fb_ref_t (*sfu_fbclone_fn)(fb_builder_t *b, fb_table_t t);

typedef struct sfu_fbcopy {
  uint8_t *buf;
  size_t len;
  fb_table_t root; /* buf == NULL when empty */
} sfu_fbcopy_t;

/* Deep-copies t with its generated clone function. 0 or SFU_ENOMEM/SFU_EPROTO. */
int sfu_fbcopy_make(sfu_fbcopy_t *c, sfu_fbclone_fn clone, fb_table_t t);
void sfu_fbcopy_free(sfu_fbcopy_t *c);

#endif
