/* The worker's binding to usrsctp: initialised once per process without its
 * own threads (usrsctp_init_nothreads), its timers driven by one libuv timer
 * while any association exists, and the table that turns the integer id an
 * association gives usrsctp (as its AF_CONN address and its socket's
 * ulp_info) back into the association. usrsctp's callbacks carry no user
 * argument, and the library itself is process-wide, so the one pointer to the
 * table lives here; everything else comes from the loop context. */
#ifndef SFU_SCTP_ENV_H
#define SFU_SCTP_ENV_H

#include <stdint.h>

#include "sfu_ctx.h"

typedef struct sfu_sctp_assoc sfu_sctp_assoc_t;

/* Registers a, starting usrsctp and the timer if needed. *id: its integer id (never 0). 0 or SFU_ENOMEM. */
int sfu_sctp_env_add(sfu_ctx_t *ctx, sfu_sctp_assoc_t *a, uint32_t *id);
/* Forgets id; the timer stops with the last association. */
void sfu_sctp_env_remove(uint32_t id);
/* The association of an id, or NULL (closed, or never ours). */
sfu_sctp_assoc_t *sfu_sctp_env_find(uint32_t id);
/* Number of live associations (tests). */
uint32_t sfu_sctp_env_count(void);
/* For fuzzing: usrsctp skips the CRC32c check of incoming packets. */
void sfu_sctp_env_disable_crc_check(void);

#endif
