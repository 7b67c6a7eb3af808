#include "sfu_sctp_assoc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <usrsctp.h>

#include "sfu_error.h"
#include "sfu_log.h"
#include "sfu_sctp_env.h"

static const uint16_t sfu__events[] = {SCTP_ASSOC_CHANGE,          SCTP_PEER_ADDR_CHANGE, SCTP_REMOTE_ERROR,
                                       SCTP_SHUTDOWN_EVENT,        SCTP_ADAPTATION_INDICATION,
                                       SCTP_PARTIAL_DELIVERY_EVENT, SCTP_STREAM_RESET_EVENT,
                                       SCTP_SEND_FAILED_EVENT,     SCTP_STREAM_CHANGE_EVENT};

bool sfu_sctp_is_packet(const uint8_t *p, size_t len) {
  if (p == NULL || len < 12) return false;
  uint16_t src = (uint16_t)((p[0] << 8) | p[1]);
  uint16_t dst = (uint16_t)((p[2] << 8) | p[3]);
  return src == SFU_SCTP_PORT && dst == SFU_SCTP_PORT;
}

static void sfu__set_state(sfu_sctp_assoc_t *a, sfu_sctp_state_t s) {
  if (a->state == s) return;
  a->state = s;
  SFU_DEBUG_TAG(&a->ctx->log, sctp, "SCTP state %d [id:%u]", (int)s, a->id);
  if (a->listener->on_state != NULL) a->listener->on_state(a->arg, s);
}

void sfu__sctp_assoc_output(sfu_sctp_assoc_t *a, const void *buf, size_t len) {
  a->packets_out++;
  if (a->listener->send != NULL) a->listener->send(a->arg, buf, len);
}

static void sfu__buffered(sfu_sctp_assoc_t *a, uint32_t amount) {
  if (amount == a->buffered_amount) return;
  a->buffered_amount = amount;
  if (a->listener->on_buffered_amount != NULL) a->listener->on_buffered_amount(a->arg, amount);
}

static void sfu__reset_outgoing(sfu_sctp_assoc_t *a, const uint16_t *sids, size_t n) {
  size_t len = sizeof(struct sctp_reset_streams) + n * sizeof(uint16_t);
  struct sctp_reset_streams *srs = calloc(1, len);
  if (srs == NULL || n == 0) {
    free(srs);
    return;
  }
  srs->srs_assoc_id = SCTP_ALL_ASSOC;
  srs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
  srs->srs_number_streams = (uint16_t)n;
  memcpy(srs->srs_stream_list, sids, n * sizeof(uint16_t));
  if (usrsctp_setsockopt(a->sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, srs, (socklen_t)len) != 0)
    SFU_DEBUG_TAG(&a->ctx->log, sctp, "SCTP_RESET_STREAMS failed [errno:%d]", errno);
  free(srs);
}

static void sfu__notification(sfu_sctp_assoc_t *a, const union sctp_notification *n, size_t len) {
  if (len < sizeof(n->sn_header) || n->sn_header.sn_length != len) return;
  switch (n->sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE:
      if (len < sizeof(n->sn_assoc_change)) return;
      switch (n->sn_assoc_change.sac_state) {
        case SCTP_COMM_UP:
        case SCTP_RESTART:
          a->out_streams = n->sn_assoc_change.sac_outbound_streams;
          a->in_streams = n->sn_assoc_change.sac_inbound_streams;
          sfu__set_state(a, SFU_SCTP_CONNECTED);
          break;
        case SCTP_COMM_LOST:
        case SCTP_CANT_STR_ASSOC:
          sfu__set_state(a, SFU_SCTP_FAILED);
          break;
        case SCTP_SHUTDOWN_COMP:
          sfu__set_state(a, SFU_SCTP_CLOSED);
          break;
        default:
          break;
      }
      break;
    case SCTP_SHUTDOWN_EVENT:
      sfu__set_state(a, SFU_SCTP_CLOSED);
      break;
    case SCTP_STREAM_RESET_EVENT: {
      const struct sctp_stream_reset_event *e = &n->sn_strreset_event;
      if (len < sizeof(*e)) return;
      size_t count = (len - sizeof(*e)) / sizeof(uint16_t);
      /* The peer closed its side of these data channels: close ours too. */
      if (a->opts.is_data_channel && (e->strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) &&
          !(e->strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)))
        sfu__reset_outgoing(a, e->strreset_stream_list, count);
      break;
    }
    case SCTP_SEND_FAILED_EVENT:
      SFU_DEBUG_TAG(&a->ctx->log, sctp, "SCTP message not sent [id:%u]", a->id);
      break;
    default:
      break;
  }
}

static void sfu__deliver(sfu_sctp_assoc_t *a, uint16_t sid, uint32_t ppid, const uint8_t *p, size_t len) {
  if (len > a->opts.max_receive_message_size) {
    SFU_WARN_TAG(&a->ctx->log, sctp, "SCTP message too big, dropped [len:%zu, maxReceiveMessageSize:%u]", len,
                 a->opts.max_receive_message_size);
    return;
  }
  a->messages_in++;
  a->listener->on_message(a->arg, sid, ppid, p, len);
}

/* One delivery from usrsctp: a whole message, or a part of one (partial
 * delivery, no MSG_EOR until its last part). usrsctp may hand over a whole
 * message of another stream or SSN between the parts of a big one: that one
 * goes out on its own, the parts keep gathering (within the limit). */
static void sfu__message(sfu_sctp_assoc_t *a, const uint8_t *p, size_t len, const struct sctp_rcvinfo *rcv, bool eor) {
  uint16_t sid = rcv->rcv_sid, ssn = rcv->rcv_ssn;
  uint32_t ppid = ntohl(rcv->rcv_ppid);
  bool same = a->msg_active && a->msg_sid == sid && a->msg_ssn == ssn && a->msg_ppid == ppid;
  if (!same && eor) {
    sfu__deliver(a, sid, ppid, p, len);
    return;
  }
  if (!same) {
    if (a->msg_active)
      SFU_WARN_TAG(&a->ctx->log, sctp, "SCTP partial message abandoned for another one [streamId:%u]", a->msg_sid);
    a->msg_active = true;
    a->msg_dropping = false;
    a->msg_len = 0;
    a->msg_sid = sid;
    a->msg_ssn = ssn;
    a->msg_ppid = ppid;
  }
  if (!a->msg_dropping && a->msg_len + len > a->opts.max_receive_message_size) {
    SFU_WARN_TAG(&a->ctx->log, sctp, "SCTP message too big, dropped [maxReceiveMessageSize:%u]",
                 a->opts.max_receive_message_size);
    a->msg_dropping = true;
  }
  if (!a->msg_dropping && a->msg_len + len > a->msg_cap) {
    size_t cap = a->msg_cap ? a->msg_cap : 4096;
    while (cap < a->msg_len + len) cap *= 2;
    uint8_t *n = realloc(a->msg, cap);
    if (n == NULL) {
      a->msg_dropping = true;
    } else {
      a->msg = n;
      a->msg_cap = cap;
    }
  }
  if (!a->msg_dropping) {
    memcpy(a->msg + a->msg_len, p, len);
    a->msg_len += len;
  }
  if (!eor) return;
  if (!a->msg_dropping) sfu__deliver(a, sid, ppid, a->msg, a->msg_len);
  a->msg_active = false;
  a->msg_dropping = false;
  a->msg_len = 0;
}

static int sfu__recv_cb(struct socket *sock, union sctp_sockstore addr, void *data, size_t len,
                        struct sctp_rcvinfo rcv, int flags, void *ulp_info) {
  (void)sock, (void)addr;
  sfu_sctp_assoc_t *a = sfu_sctp_env_find((uint32_t)(uintptr_t)ulp_info);
  if (a == NULL || data == NULL) {
    free(data);
    return 1;
  }
  if (flags & MSG_NOTIFICATION)
    sfu__notification(a, data, len);
  else
    sfu__message(a, data, len, &rcv, (flags & MSG_EOR) != 0);
  free(data);
  return 1;
}

static int sfu__send_cb(struct socket *sock, uint32_t sb_free, void *ulp_info) {
  (void)sock;
  sfu_sctp_assoc_t *a = sfu_sctp_env_find((uint32_t)(uintptr_t)ulp_info);
  if (a == NULL) return 0;
  uint32_t amount = sb_free < a->opts.send_buffer_size ? a->opts.send_buffer_size - sb_free : 0;
  sfu__buffered(a, amount);
  return 0;
}

static struct sockaddr_conn sfu__sconn(uint32_t id) {
  struct sockaddr_conn s;
  memset(&s, 0, sizeof(s));
  s.sconn_family = AF_CONN;
  s.sconn_port = htons(SFU_SCTP_PORT);
  s.sconn_addr = (void *)(uintptr_t)id;
  return s;
}

static int sfu__setopt(sfu_sctp_assoc_t *a, int level, int name, const void *v, socklen_t len) {
  if (usrsctp_setsockopt(a->sock, level, name, v, len) == 0) return 0;
  SFU_ERROR(&a->ctx->log, "usrsctp_setsockopt(%d) failed [errno:%d]", name, errno);
  return SFU_EIO;
}

static int sfu__configure(sfu_sctp_assoc_t *a) {
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  struct sctp_assoc_value av = {.assoc_id = SCTP_ALL_ASSOC, .assoc_value = SCTP_ENABLE_RESET_STREAM_REQ};
  struct sctp_initmsg init;
  int one = 1;
  int sndbuf = (int)a->opts.send_buffer_size, rcvbuf = (int)a->opts.max_receiver_window_buffer_size;
  if (usrsctp_set_non_blocking(a->sock, 1) != 0) return SFU_EIO;
  if (sfu__setopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0) return SFU_EIO;
  if (sfu__setopt(a, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &av, sizeof(av)) != 0) return SFU_EIO;
  if (sfu__setopt(a, IPPROTO_SCTP, SCTP_NODELAY, &one, sizeof(one)) != 0) return SFU_EIO;
  if (sfu__setopt(a, IPPROTO_SCTP, SCTP_RECVRCVINFO, &one, sizeof(one)) != 0) return SFU_EIO;
  for (size_t i = 0; i < sizeof(sfu__events) / sizeof(sfu__events[0]); i++) {
    struct sctp_event ev = {.se_assoc_id = SCTP_ALL_ASSOC, .se_type = sfu__events[i], .se_on = 1};
    if (sfu__setopt(a, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof(ev)) != 0) return SFU_EIO;
  }
  memset(&init, 0, sizeof(init));
  init.sinit_num_ostreams = SFU_SCTP_STREAMS;
  init.sinit_max_instreams = SFU_SCTP_STREAMS;
  if (sfu__setopt(a, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof(init)) != 0) return SFU_EIO;
  /* Retransmission timeouts for interactive data (RFC 4960 defaults are 3 s /
   * 1 s / 60 s): a lost packet on a short path costs 120 ms, not a second. */
  struct sctp_rtoinfo rto = {.srto_assoc_id = SCTP_ALL_ASSOC, .srto_initial = 1000, .srto_min = 120, .srto_max = 10000};
  if (sfu__setopt(a, IPPROTO_SCTP, SCTP_RTOINFO, &rto, sizeof(rto)) != 0) return SFU_EIO;
  /* No partial delivery below the largest message we take: usrsctp otherwise
   * starts it at half the receive buffer it had when the socket was made
   * (messages over ~128 kB), and then can hand a later message of the same
   * ordered stream over before the last part of the big one. */
  if (sndbuf > 0 && sfu__setopt(a, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) != 0) return SFU_EIO;
  if (rcvbuf > 0 && sfu__setopt(a, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0) return SFU_EIO;
  /* (usrsctp takes a point up to the receive buffer only) */
  int have = 0;
  socklen_t hl = sizeof(have);
  if (usrsctp_getsockopt(a->sock, SOL_SOCKET, SO_RCVBUF, &have, &hl) != 0 || have <= 0) have = rcvbuf;
  uint32_t pd_point = a->opts.max_receive_message_size + 1;
  if (have > 0 && pd_point > (uint32_t)have) pd_point = (uint32_t)have;
  if (sfu__setopt(a, IPPROTO_SCTP, SCTP_PARTIAL_DELIVERY_POINT, &pd_point, sizeof(pd_point)) != 0) return SFU_EIO;
  return 0;
}

int sfu_sctp_assoc_create(sfu_ctx_t *ctx, const sfu_sctp_options_t *opts, const sfu_sctp_assoc_listener_t *l,
                          void *arg, sfu_sctp_assoc_t **out) {
  sfu_sctp_assoc_t *a = calloc(1, sizeof(*a));
  int r;
  if (a == NULL) return SFU_ENOMEM;
  a->ctx = ctx;
  a->listener = l;
  a->arg = arg;
  a->opts = *opts;
  if (a->opts.send_buffer_size == 0) a->opts.send_buffer_size = 2000000;
  if (a->opts.max_receive_message_size == 0) a->opts.max_receive_message_size = 262144;
  if (a->opts.max_send_message_size == 0) a->opts.max_send_message_size = 262144;
  if ((r = sfu_sctp_env_add(ctx, a, &a->id)) != 0) goto fail_env;
  usrsctp_register_address((void *)(uintptr_t)a->id);
  a->sock = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, sfu__recv_cb, sfu__send_cb, 0,
                           (void *)(uintptr_t)a->id);
  if (a->sock == NULL) {
    SFU_ERROR(&ctx->log, "usrsctp_socket() failed [errno:%d]", errno);
    r = SFU_EIO;
    goto fail_sock;
  }
  if ((r = sfu__configure(a)) != 0) goto fail_conf;
  struct sockaddr_conn local = sfu__sconn(a->id);
  if (usrsctp_bind(a->sock, (struct sockaddr *)&local, sizeof(local)) != 0) {
    SFU_ERROR(&ctx->log, "usrsctp_bind() failed [errno:%d]", errno);
    r = SFU_EIO;
    goto fail_conf;
  }
  *out = a;
  return 0;

fail_conf:
  usrsctp_close(a->sock);
fail_sock:
  usrsctp_deregister_address((void *)(uintptr_t)a->id);
  sfu_sctp_env_remove(a->id);
fail_env:
  free(a);
  return r;
}

void sfu_sctp_assoc_connect(sfu_sctp_assoc_t *a) {
  if (a->connect_called) return;
  a->connect_called = true;
  struct sockaddr_conn remote = sfu__sconn(a->id);
  int r = usrsctp_connect(a->sock, (struct sockaddr *)&remote, sizeof(remote));
  if (r < 0 && errno != EINPROGRESS) {
    SFU_ERROR(&a->ctx->log, "usrsctp_connect() failed [errno:%d]", errno);
    sfu__set_state(a, SFU_SCTP_FAILED);
    return;
  }
  /* A fixed path MTU that fits DTLS and UDP on any path. */
  struct sctp_paddrparams pp;
  memset(&pp, 0, sizeof(pp));
  memcpy(&pp.spp_address, &remote, sizeof(remote));
  pp.spp_flags = SPP_PMTUD_DISABLE;
  pp.spp_pathmtu = 1200;
  (void)usrsctp_setsockopt(a->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof(pp));
  if (a->state == SFU_SCTP_NEW) sfu__set_state(a, SFU_SCTP_CONNECTING);
}

void sfu_sctp_assoc_receive(sfu_sctp_assoc_t *a, const uint8_t *p, size_t len) {
  if (len == 0) return;
  a->packets_in++;
  usrsctp_conninput((void *)(uintptr_t)a->id, p, len, 0);
}

int sfu_sctp_assoc_send(sfu_sctp_assoc_t *a, uint16_t sid, uint32_t ppid, const uint8_t *p, size_t len,
                        const sfu_sctp_send_params_t *sp) {
  struct sctp_sendv_spa spa;
  if (len > a->opts.max_send_message_size) return SFU_ETOOBIG;
  /* while connecting usrsctp queues the message and sends it once established */
  if (a->state != SFU_SCTP_CONNECTED && a->state != SFU_SCTP_CONNECTING) return SFU_ESTATE;
  memset(&spa, 0, sizeof(spa));
  spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
  spa.sendv_sndinfo.snd_sid = sid;
  spa.sendv_sndinfo.snd_ppid = htonl(ppid);
  spa.sendv_sndinfo.snd_flags = SCTP_EOR | (sp->ordered ? 0 : SCTP_UNORDERED);
  if (sp->has_max_packet_life_time) {
    spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_TTL;
    spa.sendv_prinfo.pr_value = sp->max_packet_life_time;
  } else if (sp->has_max_retransmits) {
    spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
    spa.sendv_prinfo.pr_value = sp->max_retransmits;
  }
  ssize_t n = usrsctp_sendv(a->sock, p, len, NULL, 0, &spa, (socklen_t)sizeof(spa), SCTP_SENDV_SPA, 0);
  if (n < 0) {
    if (errno == EWOULDBLOCK || errno == EAGAIN || errno == ENOBUFS) return SFU_EIO;
    SFU_WARN_TAG(&a->ctx->log, sctp, "usrsctp_sendv() failed [errno:%d, len:%zu]", errno, len);
    return SFU_EIO;
  }
  a->messages_out++;
  /* The buffered amount follows usrsctp's send buffer at each SACK (send_cb):
   * what is queued or in flight, as far as the association knows. */
  return 0;
}

void sfu_sctp_assoc_reset_stream(sfu_sctp_assoc_t *a, uint16_t sid) {
  if (a->state != SFU_SCTP_CONNECTED) return;
  sfu__reset_outgoing(a, &sid, 1);
}

void sfu_sctp_assoc_destroy(sfu_sctp_assoc_t *a) {
  if (a == NULL) return;
  if (a->ctx->log.level <= SFU_LOG_LEVEL_DEBUG && (a->ctx->log.tags & SFU_LOGTAG_sctp) != 0u) {
    struct sctpstat st;
    usrsctp_get_stat(&st);
    SFU_DEBUG_TAG(&a->ctx->log, sctp,
                  "SCTP association closed [id:%u, packets in:%llu out:%llu, messages in:%llu out:%llu; usrsctp "
                  "totals: fast retransmits %u, marked retransmits %u, T3 timeouts %u, duplicate data %u]",
                  a->id, (unsigned long long)a->packets_in, (unsigned long long)a->packets_out,
                  (unsigned long long)a->messages_in, (unsigned long long)a->messages_out, st.sctps_sendfastretrans,
                  st.sctps_markedretrans, st.sctps_timodata, st.sctps_recvdupdata);
  }
  /* The ABORT usrsctp_close sends still reaches the peer; nothing else is told. */
  usrsctp_set_ulpinfo(a->sock, NULL);
  usrsctp_close(a->sock);
  usrsctp_deregister_address((void *)(uintptr_t)a->id);
  sfu_sctp_env_remove(a->id);
  free(a->msg);
  free(a);
}
