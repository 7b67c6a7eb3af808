/* One SCTP association over usrsctp (RFC 4960, data channels per RFC 8831):
 * what a transport that enables SCTP owns. The transport feeds it the SCTP
 * packets it receives (from DTLS application data or UDP) and sends what the
 * listener's send() gets; messages come out whole through on_message. The
 * association reaches usrsctp through an AF_CONN address that is an integer
 * id from sfu_sctp_env, never a pointer. */
#ifndef SFU_SCTP_ASSOC_H
#define SFU_SCTP_ASSOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu_ctx.h"

/* Values of FBS.SctpAssociation.SctpState. */
typedef enum sfu_sctp_state {
  SFU_SCTP_NEW = 0,
  SFU_SCTP_CONNECTING,
  SFU_SCTP_CONNECTED,
  SFU_SCTP_FAILED,
  SFU_SCTP_CLOSED,
} sfu_sctp_state_t;

/* PPIDs of WebRTC data channels (RFC 8831 section 8). */
#define SFU_SCTP_PPID_DCEP 50u
#define SFU_SCTP_PPID_STRING 51u
#define SFU_SCTP_PPID_BINARY 53u
#define SFU_SCTP_PPID_STRING_EMPTY 56u
#define SFU_SCTP_PPID_BINARY_EMPTY 57u

#define SFU_SCTP_PORT 5000
#define SFU_SCTP_STREAMS 65535

typedef struct sfu_sctp_options {
  uint32_t max_send_message_size;
  uint32_t max_receive_message_size;
  uint32_t send_buffer_size;
  uint32_t per_stream_send_queue_limit;
  uint32_t max_receiver_window_buffer_size;
  bool is_data_channel;
} sfu_sctp_options_t;

/* How one message goes out: ordered, or partially reliable by lifetime or retransmissions. */
typedef struct sfu_sctp_send_params {
  bool ordered;
  bool has_max_packet_life_time, has_max_retransmits;
  uint16_t max_packet_life_time, max_retransmits;
} sfu_sctp_send_params_t;

typedef struct sfu_sctp_assoc_listener {
  /* An SCTP packet for the peer (through DTLS or UDP). */
  void (*send)(void *arg, const uint8_t *p, size_t len);
  void (*on_state)(void *arg, sfu_sctp_state_t state);
  /* One whole message (p valid during the call). */
  void (*on_message)(void *arg, uint16_t stream_id, uint32_t ppid, const uint8_t *p, size_t len);
  /* Bytes queued in the association but not acknowledged yet, after a change. */
  void (*on_buffered_amount)(void *arg, uint32_t amount);
} sfu_sctp_assoc_listener_t;

struct sfu_sctp_assoc {
  sfu_ctx_t *ctx;
  const sfu_sctp_assoc_listener_t *listener;
  void *arg;
  sfu_sctp_options_t opts;
  uint32_t id; /* sfu_sctp_env's, also the AF_CONN address */
  struct socket *sock;
  sfu_sctp_state_t state;
  uint16_t out_streams, in_streams; /* negotiated */
  uint32_t buffered_amount;
  bool connect_called;
  /* a message delivered in parts (partial delivery): its stream, SSN and PPID */
  uint8_t *msg;
  size_t msg_len, msg_cap;
  bool msg_active, msg_dropping;
  uint16_t msg_sid, msg_ssn;
  uint32_t msg_ppid;
  uint64_t packets_in, packets_out, messages_in, messages_out;
};

typedef struct sfu_sctp_assoc sfu_sctp_assoc_t;

/* Creates the association (socket bound, not connected). 0, SFU_ENOMEM or SFU_EIO. */
int sfu_sctp_assoc_create(sfu_ctx_t *ctx, const sfu_sctp_options_t *opts, const sfu_sctp_assoc_listener_t *l,
                          void *arg, sfu_sctp_assoc_t **out);
/* The transport under it is connected: starts the association (once). */
void sfu_sctp_assoc_connect(sfu_sctp_assoc_t *a);
/* Bytes from the peer (one SCTP packet). */
void sfu_sctp_assoc_receive(sfu_sctp_assoc_t *a, const uint8_t *p, size_t len);
/* Sends one message. 0; SFU_ETOOBIG over maxSendMessageSize; SFU_ESTATE not
 * connected; SFU_EIO the send buffer is full (sctpsendbufferfull). */
int sfu_sctp_assoc_send(sfu_sctp_assoc_t *a, uint16_t stream_id, uint32_t ppid, const uint8_t *p, size_t len,
                        const sfu_sctp_send_params_t *sp);
/* Resets our outgoing stream (RFC 6525), as a closed data channel does. */
void sfu_sctp_assoc_reset_stream(sfu_sctp_assoc_t *a, uint16_t stream_id);
/* Aborts the association and frees it at once (no callback afterwards). */
void sfu_sctp_assoc_destroy(sfu_sctp_assoc_t *a);

/* true when p looks like an SCTP packet on a plain UDP transport: a common
 * header (RFC 4960 3.1) with source and destination port 5000 (mediasoup's rule). */
bool sfu_sctp_is_packet(const uint8_t *p, size_t len);

/* sfu_sctp_env's output callback. */
void sfu__sctp_assoc_output(sfu_sctp_assoc_t *a, const void *buf, size_t len);

#endif
