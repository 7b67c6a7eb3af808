#include "sfu_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fbs_generated.h"
#include "sfu_error.h"
#include "sfu_rtcp.h"
#include "sfu_rtcp_feedback.h"

#define SFU_RTCP_INTERVAL_MS 1000
#define SFU_RTCP_SENDER_SSRC 1u
#define SFU_RTCP_MTU 1200

typedef struct sfu_listen_entry {
  uint32_t ssrc;
  sfu_producer_t *producer;
} sfu_listen_entry_t;

uint64_t sfu_now_ms(const sfu_transport_t *t) { return uv_now(t->ctx->loop); }

static void sfu__transport_on_request(sfu_handler_t *h, sfu_request_t *req);
static void sfu__transport_on_notification(sfu_handler_t *h, sfu_notification_t *n);

/* ---- RTP listener ---- */

static sfu_producer_t *sfu__listener_get_ssrc(const sfu_transport_t *t, uint32_t ssrc) {
  for (size_t i = 0; i < t->ssrc_count; i++)
    if (t->ssrc_table[i].ssrc == ssrc) return t->ssrc_table[i].producer;
  return NULL;
}

static int sfu__listener_put_ssrc(sfu_transport_t *t, uint32_t ssrc, sfu_producer_t *p) {
  if (t->ssrc_count == t->ssrc_cap) {
    size_t cap = t->ssrc_cap ? t->ssrc_cap * 2 : 8;
    sfu_listen_entry_t *n = realloc(t->ssrc_table, cap * sizeof(*n));
    if (n == NULL) return SFU_ENOMEM;
    t->ssrc_table = n;
    t->ssrc_cap = cap;
  }
  t->ssrc_table[t->ssrc_count].ssrc = ssrc;
  t->ssrc_table[t->ssrc_count].producer = p;
  t->ssrc_count++;
  return 0;
}

static void sfu__listener_remove(sfu_transport_t *t, const sfu_producer_t *p) {
  size_t j = 0;
  for (size_t i = 0; i < t->ssrc_count; i++)
    if (t->ssrc_table[i].producer != p) t->ssrc_table[j++] = t->ssrc_table[i];
  t->ssrc_count = j;
}

static bool sfu__fb_eq(fb_str_t a, fb_str_t b) { return a.ptr && b.ptr && a.len == b.len && !memcmp(a.ptr, b.ptr, a.len); }

/* mediasoup's RtpListener::AddProducer rules. */
static int sfu__listener_add(sfu_transport_t *t, sfu_producer_t *p, char *err, size_t err_len) {
  sfu_list_t *it;
  int r;
  for (size_t i = 0; i < p->params.nencodings; i++) {
    const sfu_rtp_encoding_t *e = &p->params.encodings[i];
    if (e->has_ssrc && e->ssrc != 0) {
      if (sfu__listener_get_ssrc(t, e->ssrc) != NULL) {
        snprintf(err, err_len, "ssrc already exists in RTP listener [ssrc:%u]", e->ssrc);
        goto dup;
      }
      if ((r = sfu__listener_put_ssrc(t, e->ssrc, p)) != 0) goto fail;
    }
    if (e->has_rtx && e->rtx_ssrc != 0) {
      if (sfu__listener_get_ssrc(t, e->rtx_ssrc) != NULL) {
        snprintf(err, err_len, "RTX ssrc already exists in RTP listener [ssrc:%u]", e->rtx_ssrc);
        goto dup;
      }
      if ((r = sfu__listener_put_ssrc(t, e->rtx_ssrc, p)) != 0) goto fail;
    }
  }
  sfu_list_foreach(it, &t->producer_list) {
    sfu_producer_t *o = sfu_container_of(it, sfu_producer_t, transport_link);
    if (p->params.mid.ptr != NULL && sfu__fb_eq(o->params.mid, p->params.mid)) {
      snprintf(err, err_len, "MID already exists in RTP listener [mid:%.*s]", (int)p->params.mid.len, p->params.mid.ptr);
      goto dup;
    }
    if (p->params.mid.ptr == NULL) {
      for (size_t i = 0; i < p->params.nencodings; i++)
        for (size_t j = 0; j < o->params.nencodings; j++)
          if (sfu__fb_eq(p->params.encodings[i].rid, o->params.encodings[j].rid)) {
            snprintf(err, err_len, "RID already exists in RTP listener and no MID is given");
            goto dup;
          }
    }
  }
  return 0;
dup:
  sfu__listener_remove(t, p);
  return SFU_EEXIST;
fail:
  sfu__listener_remove(t, p);
  snprintf(err, err_len, "out of memory");
  return r;
}

static sfu_producer_t *sfu__listener_find(sfu_transport_t *t, const sfu_rtp_packet_t *pkt) {
  sfu_producer_t *p = sfu__listener_get_ssrc(t, pkt->ssrc);
  sfu_list_t *it;
  const char *s;
  size_t len;
  if (p != NULL) return p;
  if (t->recv_mid_id != 0 && sfu_rtp_read_string(pkt, t->recv_mid_id, &s, &len)) {
    sfu_list_foreach(it, &t->producer_list) {
      sfu_producer_t *o = sfu_container_of(it, sfu_producer_t, transport_link);
      if (o->params.mid.ptr != NULL && o->params.mid.len == len && memcmp(o->params.mid.ptr, s, len) == 0) {
        (void)sfu__listener_put_ssrc(t, pkt->ssrc, o);
        return o;
      }
    }
  }
  if (t->recv_rid_id != 0 && sfu_rtp_read_string(pkt, t->recv_rid_id, &s, &len)) {
    sfu_list_foreach(it, &t->producer_list) {
      sfu_producer_t *o = sfu_container_of(it, sfu_producer_t, transport_link);
      for (size_t i = 0; i < o->params.nencodings; i++) {
        fb_str_t rid = o->params.encodings[i].rid;
        if (rid.ptr != NULL && rid.len == len && memcmp(rid.ptr, s, len) == 0) {
          (void)sfu__listener_put_ssrc(t, pkt->ssrc, o);
          return o;
        }
      }
    }
  }
  return NULL;
}

/* ---- what producers and consumers tell us ---- */

static void sfu__producer_on_rtp(void *arg, sfu_producer_t *p, const sfu_rtp_packet_t *pkt, uint64_t now_ms) {
  sfu_transport_t *t = arg;
  t->listener->on_producer_rtp(t->listener_arg, p, pkt, now_ms);
}

static void sfu__producer_on_paused(void *arg, sfu_producer_t *p, bool paused) {
  sfu_transport_t *t = arg;
  t->listener->on_producer_paused(t->listener_arg, p, paused);
}

static void sfu__producer_on_audio_level(void *arg, sfu_producer_t *p, uint8_t level) {
  sfu_transport_t *t = arg;
  t->listener->on_producer_audio_level(t->listener_arg, p, level);
}

static void sfu__producer_send_rtcp(void *arg, sfu_producer_t *p, const uint8_t *buf, size_t len) {
  (void)p;
  sfu_transport_send_rtcp(arg, buf, len);
}

static void sfu__producer_on_score(void *arg, sfu_producer_t *p) {
  sfu_transport_t *t = arg;
  if (t->listener->on_producer_score != NULL) t->listener->on_producer_score(t->listener_arg, p);
}

static void sfu__producer_on_send(void *arg, sfu_producer_t *p, const uint8_t *data, size_t len);

static const sfu_producer_listener_t sfu__producer_listener = {
    .on_rtp = sfu__producer_on_rtp,
    .on_paused = sfu__producer_on_paused,
    .on_audio_level = sfu__producer_on_audio_level,
    .on_score = sfu__producer_on_score,
    .send_rtcp = sfu__producer_send_rtcp,
    .on_send = sfu__producer_on_send,
};

/* A consumer's packet, usually built in t->scratch already: transport-wide
 * sequence number, congestion control, counters, then the concrete transport. */
void sfu__transport_send_consumer_rtp(sfu_transport_t *t, sfu_consumer_t *c, sfu_rtp_packet_t *pkt, bool is_rtx) {
  if (t->closed || pkt->len > SFU_SEND_BUF - 64) return;
  if (c->twcc_ext_id != 0 && sfu_rtp_write_twcc_seq(pkt, c->twcc_ext_id, ++t->twcc_seq) && t->cc != NULL)
    sfu_transport_cc_on_rtp_out(t->cc, t->twcc_seq, pkt->len, is_rtx);
  if (pkt->buf != t->scratch) memcpy(t->scratch, pkt->buf, pkt->len);
  if (is_rtx) {
    t->stats.rtx_bytes_sent += pkt->len;
    sfu_rate_add(&t->stats.rtx_send_rate, sfu_now_ms(t), pkt->len);
  }
  if (t->ops->send_consumer_rtp != NULL) {
    t->ops->send_consumer_rtp(t, c, t->scratch, pkt->len);
    return;
  }
  t->ops->send_rtp(t, t->scratch, pkt->len, sizeof(t->scratch));
}

static void sfu__consumer_send_rtp(void *arg, sfu_consumer_t *c, sfu_rtp_packet_t *pkt, bool is_rtx) {
  sfu__transport_send_consumer_rtp(arg, c, pkt, is_rtx);
}

static void sfu__remove_consumer(sfu_transport_t *t, sfu_consumer_t *c) {
  sfu_hmap_del(&t->consumers, &c->transport_node);
  sfu_list_remove(&c->transport_link);
  t->listener->on_consumer_closed(t->listener_arg, c);
  sfu_consumer_close(c);
  if (t->cc != NULL && !t->closed) sfu_transport_cc_on_consumers_changed(t->cc);
}

static void sfu__consumer_on_producer_closed(void *arg, sfu_consumer_t *c) { sfu__remove_consumer(arg, c); }

static void sfu__consumer_on_need_bitrate_change(void *arg, sfu_consumer_t *c) {
  sfu_transport_t *t = arg;
  (void)c;
  if (t->cc != NULL) sfu_transport_cc_on_consumers_changed(t->cc);
}

static bool sfu__consumer_may_retransmit(void *arg, sfu_consumer_t *c, size_t len) {
  sfu_transport_t *t = arg;
  (void)c;
  return t->cc == NULL || sfu_transport_cc_may_retransmit(t->cc, len);
}

static const sfu_consumer_listener_t sfu__consumer_listener = {
    .send_rtp = sfu__consumer_send_rtp,
    .on_producer_closed = sfu__consumer_on_producer_closed,
    .on_need_bitrate_change = sfu__consumer_on_need_bitrate_change,
    .may_retransmit = sfu__consumer_may_retransmit,
};

/* The congestion control part, made when the first producer or consumer needs it. */
static sfu_transport_cc_t *sfu__cc(sfu_transport_t *t) {
  if (t->cc == NULL && sfu_transport_cc_create(t, &t->cc) == 0 && t->ops->connected(t)) sfu_transport_cc_on_connected(t->cc);
  return t->cc;
}

/* ---- lifecycle ---- */

static void sfu__timer_closed(uv_handle_t *h) { free(h); }

static void sfu__rtcp_timer_cb(uv_timer_t *timer);

int sfu_transport_init(sfu_transport_t *t, const sfu_transport_parent_t *parent, const sfu_transport_ops_t *ops,
                       const char *id, size_t id_len, fb_table_t base) {
  sfu_ctx_t *ctx = parent->ctx;
  int r;
  t->ctx = ctx;
  t->listener = parent->listener;
  t->listener_arg = parent->arg;
  t->env = parent->env;
  t->ops = ops;
  sfu_list_init(&t->producer_list);
  sfu_list_init(&t->consumer_list);
  sfu_list_init(&t->router_link);
  if ((t->id = malloc(id_len + 1)) == NULL) return SFU_ENOMEM;
  memcpy(t->id, id, id_len);
  t->id[id_len] = '\0';
  t->id_len = id_len;
  if ((r = sfu_hmap_init(&t->producers)) != 0) goto fail_producers;
  if ((r = sfu_hmap_init(&t->consumers)) != 0) goto fail_consumers;
  if (base.buf != NULL) {
    t->direct = FBS_Transport_Options_direct(base);
    t->max_message_size = FBS_Transport_Options_max_send_message_size(base);
    t->initial_available_outgoing_bitrate = FBS_Transport_Options_initial_available_outgoing_bitrate(base);
    t->enable_sctp = FBS_Transport_Options_enable_sctp(base);
    t->sctp_is_data_channel = FBS_Transport_Options_is_data_channel(base);
    t->sctp_max_send_message_size = FBS_Transport_Options_max_send_message_size(base);
    t->sctp_max_receive_message_size = FBS_Transport_Options_max_receive_message_size(base);
    t->sctp_send_buffer_size = FBS_Transport_Options_sctp_send_buffer_size(base);
    t->sctp_per_stream_send_queue_limit = FBS_Transport_Options_sctp_per_stream_send_queue_limit(base);
    t->sctp_max_receiver_window_buffer_size = FBS_Transport_Options_sctp_max_receiver_window_buffer_size(base);
  }
  if ((r = sfu_transport_data_init(t, base)) != 0) goto fail_data;
  if ((t->rtcp_timer = malloc(sizeof(*t->rtcp_timer))) == NULL) {
    r = SFU_ENOMEM;
    goto fail_timer;
  }
  uv_timer_init(ctx->loop, t->rtcp_timer);
  t->rtcp_timer->data = t;
  t->handler.on_request = sfu__transport_on_request;
  t->handler.on_notification = sfu__transport_on_notification;
  if ((r = sfu_ctx_register(ctx, &t->handler, t->id, t->id_len)) != 0) goto fail_register;
  t->router_node.key = t->id;
  t->router_node.key_len = t->id_len;
  return 0;

fail_register:
  t->rtcp_timer->data = NULL;
  uv_close((uv_handle_t *)t->rtcp_timer, sfu__timer_closed);
  t->rtcp_timer = NULL;
fail_timer:
  sfu_transport_data_close(t);
  sfu_transport_data_free(t);
fail_data:
  sfu_hmap_free(&t->consumers);
fail_consumers:
  sfu_hmap_free(&t->producers);
fail_producers:
  free(t->id);
  t->id = NULL;
  return r;
}

static void sfu__remove_producer(sfu_transport_t *t, sfu_producer_t *p) {
  sfu__listener_remove(t, p);
  sfu_hmap_del(&t->producers, &p->transport_node);
  sfu_list_remove(&p->transport_link);
  t->listener->on_producer_closed(t->listener_arg, t, p);
  sfu_producer_close(p);
}

void sfu_transport_close(sfu_transport_t *t) {
  if (t->closed) return;
  t->closed = true;
  sfu_ctx_unregister(t->ctx, &t->handler);
  while (!sfu_list_empty(&t->producer_list))
    sfu__remove_producer(t, sfu_container_of(t->producer_list.next, sfu_producer_t, transport_link));
  while (!sfu_list_empty(&t->consumer_list))
    sfu__remove_consumer(t, sfu_container_of(t->consumer_list.next, sfu_consumer_t, transport_link));
  if (t->rtcp_timer != NULL) {
    t->rtcp_timer->data = NULL;
    uv_close((uv_handle_t *)t->rtcp_timer, sfu__timer_closed);
    t->rtcp_timer = NULL;
  }
  if (t->cc != NULL) {
    sfu_transport_cc_close(t->cc);
    t->cc = NULL;
  }
  sfu_transport_data_close(t);
  t->ops->close(t);
}

static void sfu__transport_reap(sfu_closing_t *c) {
  sfu_transport_t *t = sfu_container_of(c, sfu_transport_t, closing);
  sfu_hmap_free(&t->producers);
  sfu_hmap_free(&t->consumers);
  sfu_transport_data_free(t);
  free(t->ssrc_table);
  free(t->id);
  t->ops->destroy(t);
}

void sfu_transport_released(sfu_transport_t *t) { sfu_ctx_defer(t->ctx, &t->closing, sfu__transport_reap); }

/* ---- media in ---- */

void sfu_transport_receive_rtp(sfu_transport_t *t, uint8_t *buf, size_t len, size_t cap) {
  sfu_rtp_packet_t pkt;
  uint64_t now = sfu_now_ms(t);
  t->stats.bytes_received += len;
  sfu_rate_add(&t->stats.recv_rate, now, len);
  if (sfu_rtp_parse(&pkt, buf, len, cap) != 0) {
    SFU_DEBUG_TAG(&t->ctx->log, rtp, "dropping invalid RTP packet [len:%zu]", len);
    return;
  }
  if (t->cc != NULL && t->cc->recv_mode != SFU_BWE_NONE) sfu_transport_cc_on_rtp_in(t->cc, &pkt, now);
  sfu_producer_t *p = sfu__listener_find(t, &pkt);
  if (p == NULL) {
    SFU_DEBUG_TAG(&t->ctx->log, rtp, "no producer for RTP packet [ssrc:%u, pt:%u]", pkt.ssrc, pkt.payload_type);
    return;
  }
  /* As mediasoup: RTP counters are media packets a producer took, RTX
   * counters its retransmissions; discarded packets count only in bytes_received. */
  switch (sfu_producer_receive_rtp(p, &pkt, now)) {
    case SFU_PRODUCER_RTP_MEDIA:
      t->stats.rtp_bytes_received += len;
      sfu_rate_add(&t->stats.rtp_recv_rate, now, len);
      break;
    case SFU_PRODUCER_RTP_RTX:
      t->stats.rtx_bytes_received += len;
      sfu_rate_add(&t->stats.rtx_recv_rate, now, len);
      break;
    case SFU_PRODUCER_RTP_DISCARDED:
      break;
  }
}

static sfu_consumer_t *sfu__consumer_by_ssrc(sfu_transport_t *t, uint32_t ssrc) {
  sfu_list_t *it;
  sfu_list_foreach(it, &t->consumer_list) {
    sfu_consumer_t *c = sfu_container_of(it, sfu_consumer_t, transport_link);
    if (sfu_consumer_has_ssrc(c, ssrc)) return c;
  }
  return NULL;
}

void sfu_transport_receive_rtcp(sfu_transport_t *t, const uint8_t *buf, size_t len) {
  sfu_rtcp_iter_t it;
  sfu_rtcp_hdr_t h;
  uint64_t now = sfu_now_ms(t);
  int r;

  t->stats.bytes_received += len;
  sfu_rate_add(&t->stats.recv_rate, now, len);
  sfu_rtcp_iter_init(&it, buf, len);
  while ((r = sfu_rtcp_iter_next(&it, &h)) == 1) {
    switch (h.pt) {
      case SFU_RTCP_PT_SR: {
        sfu_rtcp_sr_t sr;
        if (sfu_rtcp_sr_parse(&h, &sr) != 0) break;
        sfu_producer_t *p = sfu__listener_get_ssrc(t, sr.ssrc);
        if (p != NULL) sfu_producer_receive_sr(p, &sr, now);
        for (unsigned i = 0; i < sr.report_count; i++) {
          sfu_consumer_t *c = sfu__consumer_by_ssrc(t, sr.reports[i].ssrc);
          if (c == NULL) continue;
          sfu_consumer_on_rr(c, &sr.reports[i], now);
          if (t->cc != NULL) sfu_transport_cc_on_report(t->cc, &sr.reports[i], (int64_t)c->stream.rtt_ms);
        }
        break;
      }
      case SFU_RTCP_PT_RR: {
        sfu_rtcp_rr_t rr;
        if (sfu_rtcp_rr_parse(&h, &rr) != 0) break;
        for (unsigned i = 0; i < rr.report_count; i++) {
          sfu_consumer_t *c = sfu__consumer_by_ssrc(t, rr.reports[i].ssrc);
          if (c == NULL) continue;
          sfu_consumer_on_rr(c, &rr.reports[i], now);
          if (t->cc != NULL) sfu_transport_cc_on_report(t->cc, &rr.reports[i], (int64_t)c->stream.rtt_ms);
        }
        break;
      }
      case SFU_RTCP_PT_RTPFB:
        if (h.count == SFU_RTCP_RTPFB_TCC && t->cc != NULL) sfu_transport_cc_on_rtcp(t->cc, &h);
        if (h.count == 1) {
          sfu_rtcp_nack_t nack;
          if (sfu_rtcp_nack_parse(&h, &nack) != 0) break;
          sfu_consumer_t *c = sfu__consumer_by_ssrc(t, nack.fb.media_ssrc);
          if (c != NULL) sfu_consumer_on_nack(c, &nack, now);
        }
        break;
      case SFU_RTCP_PT_PSFB:
        if (h.count == SFU_RTCP_PSFB_AFB && t->cc != NULL) sfu_transport_cc_on_rtcp(t->cc, &h);
        if (h.count == 1) {
          sfu_rtcp_fb_t fb;
          if (sfu_rtcp_pli_parse(&h, &fb) != 0) break;
          sfu_consumer_t *c = sfu__consumer_by_ssrc(t, fb.media_ssrc);
          if (c != NULL) sfu_consumer_on_key_frame_request(c, fb.media_ssrc, false, now);
        } else if (h.count == 4) {
          sfu_rtcp_fir_t fir;
          if (sfu_rtcp_fir_parse(&h, &fir) != 0) break;
          for (size_t i = 0; i < fir.count; i++) {
            sfu_rtcp_fir_entry_t e;
            sfu_rtcp_fir_entry(&fir, i, &e);
            sfu_consumer_t *c = sfu__consumer_by_ssrc(t, e.ssrc);
            if (c != NULL) sfu_consumer_on_key_frame_request(c, e.ssrc, true, now);
          }
        }
        break;
      default:
        break; /* SDES, BYE, APP, XR: nothing to do */
    }
  }
  if (r < 0) SFU_DEBUG_TAG(&t->ctx->log, rtcp, "malformed RTCP compound [len:%zu]", len);
}

/* ---- media out ---- */

void sfu_transport_account_sent(sfu_transport_t *t, size_t len, bool rtp) {
  uint64_t now = sfu_now_ms(t);
  t->stats.bytes_sent += len;
  sfu_rate_add(&t->stats.send_rate, now, len);
  if (rtp) {
    t->stats.rtp_bytes_sent += len;
    sfu_rate_add(&t->stats.rtp_send_rate, now, len);
  }
}

void sfu_transport_send_rtcp(sfu_transport_t *t, const uint8_t *buf, size_t len) {
  if (t->closed || len > SFU_SEND_BUF - 64 || !t->ops->connected(t)) return;
  memcpy(t->scratch, buf, len);
  t->ops->send_rtcp(t, t->scratch, len, sizeof(t->scratch));
}

static void sfu__rtcp_timer_cb(uv_timer_t *timer) {
  sfu_transport_t *t = timer->data;
  uint8_t buf[SFU_RTCP_MTU];
  sfu_rtcp_writer_t w;
  sfu_list_t *it;
  uint64_t now;

  if (t == NULL || t->closed || !t->ops->connected(t)) return;
  now = sfu_now_ms(t);
  sfu_list_foreach(it, &t->consumer_list) {
    sfu_consumer_t *c = sfu_container_of(it, sfu_consumer_t, transport_link);
    sfu_rtcp_writer_init(&w, buf, sizeof(buf));
    sfu_consumer_write_sr(c, &w, now);
    if (w.len > 0) sfu_transport_send_rtcp(t, buf, w.len);
  }
  sfu_rtcp_rr_t rr;
  memset(&rr, 0, sizeof(rr));
  rr.ssrc = SFU_RTCP_SENDER_SSRC;
  sfu_list_foreach(it, &t->producer_list) {
    sfu_producer_t *p = sfu_container_of(it, sfu_producer_t, transport_link);
    rr.report_count += (uint8_t)sfu_producer_fill_rr(p, &rr.reports[rr.report_count], SFU_RTCP_MAX_COUNT - rr.report_count, now);
    if (rr.report_count >= SFU_RTCP_MAX_COUNT) break;
  }
  if (rr.report_count > 0) {
    sfu_rtcp_writer_init(&w, buf, sizeof(buf));
    if (sfu_rtcp_writer_commit(&w, sfu_rtcp_rr_build(sfu_rtcp_writer_tail(&w), sfu_rtcp_writer_room(&w), &rr)) > 0)
      sfu_transport_send_rtcp(t, buf, w.len);
  }
}

void sfu_transport_on_connected(sfu_transport_t *t) {
  sfu_list_t *it;
  if (t->closed) return;
  sfu_transport_data_on_connected(t);
  t->connected_once = true;
  if (t->rtcp_timer != NULL) uv_timer_start(t->rtcp_timer, sfu__rtcp_timer_cb, SFU_RTCP_INTERVAL_MS, SFU_RTCP_INTERVAL_MS);
  if (t->cc != NULL) sfu_transport_cc_on_connected(t->cc);
  uint64_t now = sfu_now_ms(t);
  sfu_list_foreach(it, &t->consumer_list) {
    sfu_consumer_transport_connected(sfu_container_of(it, sfu_consumer_t, transport_link), now);
  }
}

void sfu_transport_on_disconnected(sfu_transport_t *t) {
  sfu_list_t *it;
  if (t->rtcp_timer != NULL) uv_timer_stop(t->rtcp_timer);
  if (t->cc != NULL) sfu_transport_cc_on_disconnected(t->cc);
  sfu_list_foreach(it, &t->consumer_list) {
    sfu_consumer_transport_disconnected(sfu_container_of(it, sfu_consumer_t, transport_link));
  }
}

/* ---- requests ---- */

static void sfu__produce(sfu_transport_t *t, sfu_request_t *req) {
  fb_table_t body;
  sfu_producer_t *p;
  char err[256] = "";
  int r;

  if (!sfu_request_body(req, FBS_Request_Body_Transport_ProduceRequest, &body)) return;
  fb_str_t id = FBS_Transport_ProduceRequest_producer_id(body);
  if (sfu_hmap_get(&t->producers, id.ptr, id.len) != NULL || sfu_ctx_find(t->ctx, id.ptr, id.len) != NULL) {
    sfu_request_fail(req, SFU_EEXIST, "a Producer with same producerId already exists");
    return;
  }
  if ((r = sfu_producer_create(t->ctx, &sfu__producer_listener, t, body, &p, err, sizeof(err))) != 0) {
    sfu_request_fail(req, r, "%s", err[0] ? err : sfu_strerror(r));
    return;
  }
  if ((r = sfu__listener_add(t, p, err, sizeof(err))) != 0) {
    sfu_producer_close(p);
    sfu_request_fail(req, r == SFU_EEXIST ? SFU_ESTATE : r, "%s", err);
    return;
  }
  if ((r = t->listener->on_producer_new(t->listener_arg, t, p)) != 0) {
    sfu__listener_remove(t, p);
    sfu_producer_close(p);
    sfu_request_fail(req, r, "Producer already exists in the router");
    return;
  }
  sfu_hmap_put(&t->producers, &p->transport_node);
  sfu_list_insert_tail(&t->producer_list, &p->transport_link);

  const sfu_rtp_params_t *pp = &p->params;
  if (pp->ext_id[FBS_RtpParameters_RtpHeaderExtensionUri_Mid]) t->recv_mid_id = pp->ext_id[FBS_RtpParameters_RtpHeaderExtensionUri_Mid];
  if (pp->ext_id[FBS_RtpParameters_RtpHeaderExtensionUri_RtpStreamId])
    t->recv_rid_id = pp->ext_id[FBS_RtpParameters_RtpHeaderExtensionUri_RtpStreamId];
  if (pp->ext_id[FBS_RtpParameters_RtpHeaderExtensionUri_RepairRtpStreamId])
    t->recv_rrid_id = pp->ext_id[FBS_RtpParameters_RtpHeaderExtensionUri_RepairRtpStreamId];
  if (pp->ext_id[FBS_RtpParameters_RtpHeaderExtensionUri_AbsSendTime])
    t->recv_abs_send_time_id = pp->ext_id[FBS_RtpParameters_RtpHeaderExtensionUri_AbsSendTime];
  if (pp->ext_id[FBS_RtpParameters_RtpHeaderExtensionUri_TransportWideCcDraft01])
    t->recv_twcc_id = pp->ext_id[FBS_RtpParameters_RtpHeaderExtensionUri_TransportWideCcDraft01];
  if (sfu__cc(t) != NULL) sfu_transport_cc_on_producer(t->cc, p);

  fb_builder_t *b = &t->ctx->fbb;
  FBS_Transport_ProduceResponse_start(b);
  FBS_Transport_ProduceResponse_add_type(b, (uint8_t)p->type);
  sfu_request_accept_body(req, FBS_Response_Body_Transport_ProduceResponse, FBS_Transport_ProduceResponse_end(b));
}

static void sfu__consume(sfu_transport_t *t, sfu_request_t *req) {
  fb_table_t body;
  sfu_consumer_t *c;
  char err[256] = "";
  int r;

  if (!sfu_request_body(req, FBS_Request_Body_Transport_ConsumeRequest, &body)) return;
  fb_str_t id = FBS_Transport_ConsumeRequest_consumer_id(body);
  if (sfu_hmap_get(&t->consumers, id.ptr, id.len) != NULL || sfu_ctx_find(t->ctx, id.ptr, id.len) != NULL) {
    sfu_request_fail(req, SFU_EEXIST, "a Consumer with same consumerId already exists");
    return;
  }
  fb_str_t pid = FBS_Transport_ConsumeRequest_producer_id(body);
  sfu_producer_t *p = t->listener->get_producer(t->listener_arg, pid.ptr, pid.len);
  if (p == NULL) {
    sfu_request_fail(req, SFU_ENOTFOUND, "Producer not found [producerId:%.*s]", (int)pid.len, pid.ptr);
    return;
  }
  if ((r = sfu_consumer_create(t->ctx, &sfu__consumer_listener, t, t->scratch, sizeof(t->scratch), p, body, &c, err,
                               sizeof(err))) != 0) {
    sfu_request_fail(req, r, "%s", err[0] ? err : sfu_strerror(r));
    return;
  }
  sfu_hmap_put(&t->consumers, &c->transport_node);
  sfu_list_insert_tail(&t->consumer_list, &c->transport_link);
  t->listener->on_consumer_new(t->listener_arg, c, p);
  if (t->ops->connected(t)) sfu_consumer_transport_connected(c, sfu_now_ms(t));
  if (sfu__cc(t) != NULL) sfu_transport_cc_on_consumer(t->cc, c);

  fb_builder_t *b = &t->ctx->fbb;
  fb_ref_t score = sfu_consumer_build_score(c, b);
  fb_ref_t layers = sfu_consumer_build_preferred_layers(c, b);
  FBS_Transport_ConsumeResponse_start(b);
  FBS_Transport_ConsumeResponse_add_preferred_layers(b, layers);
  FBS_Transport_ConsumeResponse_add_paused(b, c->paused);
  FBS_Transport_ConsumeResponse_add_producer_paused(b, c->producer_paused);
  FBS_Transport_ConsumeResponse_add_score(b, score);
  sfu_request_accept_body(req, FBS_Response_Body_Transport_ConsumeResponse, FBS_Transport_ConsumeResponse_end(b));
}

static void sfu__transport_on_request(sfu_handler_t *h, sfu_request_t *req) {
  sfu_transport_t *t = sfu_container_of(h, sfu_transport_t, handler);
  fb_table_t body;

  switch (req->method) {
    case FBS_Request_Method_TRANSPORT_PRODUCE:
      sfu__produce(t, req);
      return;
    case FBS_Request_Method_TRANSPORT_CONSUME:
      sfu__consume(t, req);
      return;
    case FBS_Request_Method_TRANSPORT_CLOSE_PRODUCER: {
      if (!sfu_request_body(req, FBS_Request_Body_Transport_CloseProducerRequest, &body)) return;
      fb_str_t id = FBS_Transport_CloseProducerRequest_producer_id(body);
      sfu_hnode_t *n = sfu_hmap_get(&t->producers, id.ptr, id.len);
      if (n == NULL) {
        sfu_request_fail(req, SFU_ENOTFOUND, "Producer not found");
        return;
      }
      sfu__remove_producer(t, sfu_container_of(n, sfu_producer_t, transport_node));
      sfu_request_accept(req);
      return;
    }
    case FBS_Request_Method_TRANSPORT_CLOSE_CONSUMER: {
      if (!sfu_request_body(req, FBS_Request_Body_Transport_CloseConsumerRequest, &body)) return;
      fb_str_t id = FBS_Transport_CloseConsumerRequest_consumer_id(body);
      sfu_hnode_t *n = sfu_hmap_get(&t->consumers, id.ptr, id.len);
      if (n == NULL) {
        sfu_request_fail(req, SFU_ENOTFOUND, "Consumer not found");
        return;
      }
      sfu__remove_consumer(t, sfu_container_of(n, sfu_consumer_t, transport_node));
      sfu_request_accept(req);
      return;
    }
    case FBS_Request_Method_TRANSPORT_SET_MAX_INCOMING_BITRATE:
      if (!sfu_request_body(req, FBS_Request_Body_Transport_SetMaxIncomingBitrateRequest, &body)) return;
      t->max_incoming_bitrate = FBS_Transport_SetMaxIncomingBitrateRequest_max_incoming_bitrate(body);
      if (t->cc != NULL) sfu_transport_cc_set_max_incoming(t->cc, t->max_incoming_bitrate);
      sfu_request_accept(req);
      return;
    case FBS_Request_Method_TRANSPORT_SET_MAX_OUTGOING_BITRATE: {
      if (!sfu_request_body(req, FBS_Request_Body_Transport_SetMaxOutgoingBitrateRequest, &body)) return;
      uint64_t v = FBS_Transport_SetMaxOutgoingBitrateRequest_max_outgoing_bitrate(body);
      if (v != 0 && t->min_outgoing_bitrate != 0 && v < t->min_outgoing_bitrate) {
        sfu_request_fail(req, SFU_EINVAL, "maxOutgoingBitrate must be >= minOutgoingBitrate");
        return;
      }
      t->max_outgoing_bitrate = v;
      if (t->cc != NULL) sfu_transport_cc_set_max_outgoing(t->cc, v);
      sfu_request_accept(req);
      return;
    }
    case FBS_Request_Method_TRANSPORT_SET_MIN_OUTGOING_BITRATE: {
      if (!sfu_request_body(req, FBS_Request_Body_Transport_SetMinOutgoingBitrateRequest, &body)) return;
      uint64_t v = FBS_Transport_SetMinOutgoingBitrateRequest_min_outgoing_bitrate(body);
      if (v != 0 && t->max_outgoing_bitrate != 0 && v > t->max_outgoing_bitrate) {
        sfu_request_fail(req, SFU_EINVAL, "minOutgoingBitrate must be <= maxOutgoingBitrate");
        return;
      }
      t->min_outgoing_bitrate = v;
      if (t->cc != NULL) sfu_transport_cc_set_min_outgoing(t->cc, v);
      sfu_request_accept(req);
      return;
    }
    case FBS_Request_Method_TRANSPORT_ENABLE_TRACE_EVENT: {
      if (!sfu_request_body(req, FBS_Request_Body_Transport_EnableTraceEventRequest, &body)) return;
      fb_vec_t ev = FBS_Transport_EnableTraceEventRequest_events(body);
      uint8_t types = 0;
      for (uint32_t i = 0; i < ev.len; i++)
        if (fb_vec_u8(ev, i) < 8) types |= (uint8_t)(1u << fb_vec_u8(ev, i));
      t->trace_types = types;
      sfu_request_accept(req);
      return;
    }
    case FBS_Request_Method_TRANSPORT_DUMP: {
      uint8_t type = 0;
      fb_ref_t dump = t->ops->dump(t, &t->ctx->fbb, &type);
      sfu_request_accept_body(req, type, dump);
      return;
    }
    default:
      break;
  }
  if (sfu_transport_data_on_request(t, req)) return;
  if (!t->ops->on_request(t, req)) sfu_request_not_implemented(req);
}

/* ---- dumps ---- */

fb_ref_t sfu_transport_dump_base(sfu_transport_t *t, fb_builder_t *b) {
  sfu_list_t *it;
  size_t np = sfu_list_count(&t->producer_list), nc = sfu_list_count(&t->consumer_list);
  size_t cap = np + nc * SFU_RTP_MAX_ENCODINGS + t->ssrc_count + 1;
  fb_ref_t *refs = malloc(cap * sizeof(*refs));
  size_t n;
  if (refs == NULL) return 0;

  fb_ref_t id = fb_create_string(b, t->id, t->id_len);
  fb_ref_t empty = fb_create_vec_refs(b, NULL, 0);
  n = 0;
  sfu_list_foreach(it, &t->producer_list) {
    sfu_producer_t *p = sfu_container_of(it, sfu_producer_t, transport_link);
    refs[n++] = fb_create_string(b, p->id, p->id_len);
  }
  fb_ref_t producer_ids = fb_create_vec_refs(b, refs, n);
  n = 0;
  sfu_list_foreach(it, &t->consumer_list) {
    sfu_consumer_t *c = sfu_container_of(it, sfu_consumer_t, transport_link);
    refs[n++] = fb_create_string(b, c->id, c->id_len);
  }
  fb_ref_t consumer_ids = fb_create_vec_refs(b, refs, n);
  n = 0;
  sfu_list_foreach(it, &t->consumer_list) {
    sfu_consumer_t *c = sfu_container_of(it, sfu_consumer_t, transport_link);
    sfu_rtp_stream_t *ss[SFU_RTP_MAX_ENCODINGS];
    size_t ns = sfu_consumer_streams(c, ss, SFU_RTP_MAX_ENCODINGS);
    for (size_t i = 0; i < ns; i++) {
      fb_ref_t v = fb_create_string(b, c->id, c->id_len);
      FBS_Common_Uint32String_start(b);
      FBS_Common_Uint32String_add_key(b, ss[i]->params.ssrc);
      FBS_Common_Uint32String_add_value(b, v);
      refs[n++] = FBS_Common_Uint32String_end(b);
    }
  }
  fb_ref_t ssrc_consumer = fb_create_vec_refs(b, refs, n);
  n = 0;
  sfu_list_foreach(it, &t->consumer_list) {
    sfu_consumer_t *c = sfu_container_of(it, sfu_consumer_t, transport_link);
    sfu_rtp_stream_t *ss[SFU_RTP_MAX_ENCODINGS];
    size_t ns = sfu_consumer_streams(c, ss, SFU_RTP_MAX_ENCODINGS);
    for (size_t i = 0; i < ns; i++) {
      if (!ss[i]->params.has_rtx) continue;
      fb_ref_t v = fb_create_string(b, c->id, c->id_len);
      FBS_Common_Uint32String_start(b);
      FBS_Common_Uint32String_add_key(b, ss[i]->params.rtx_ssrc);
      FBS_Common_Uint32String_add_value(b, v);
      refs[n++] = FBS_Common_Uint32String_end(b);
    }
  }
  fb_ref_t rtx_ssrc_consumer = fb_create_vec_refs(b, refs, n);

  FBS_Transport_RecvRtpHeaderExtensions_start(b);
  if (t->recv_mid_id) FBS_Transport_RecvRtpHeaderExtensions_add_mid(b, t->recv_mid_id);
  if (t->recv_rid_id) FBS_Transport_RecvRtpHeaderExtensions_add_rid(b, t->recv_rid_id);
  if (t->recv_rrid_id) FBS_Transport_RecvRtpHeaderExtensions_add_rrid(b, t->recv_rrid_id);
  if (t->recv_abs_send_time_id) FBS_Transport_RecvRtpHeaderExtensions_add_abs_send_time(b, t->recv_abs_send_time_id);
  if (t->recv_twcc_id) FBS_Transport_RecvRtpHeaderExtensions_add_transport_wide_cc01(b, t->recv_twcc_id);
  fb_ref_t recv_exts = FBS_Transport_RecvRtpHeaderExtensions_end(b);

  n = 0;
  for (size_t i = 0; i < t->ssrc_count; i++) {
    fb_ref_t v = fb_create_string(b, t->ssrc_table[i].producer->id, t->ssrc_table[i].producer->id_len);
    FBS_Common_Uint32String_start(b);
    FBS_Common_Uint32String_add_key(b, t->ssrc_table[i].ssrc);
    FBS_Common_Uint32String_add_value(b, v);
    refs[n++] = FBS_Common_Uint32String_end(b);
  }
  fb_ref_t ssrc_table = fb_create_vec_refs(b, refs, n);
  n = 0;
  sfu_list_foreach(it, &t->producer_list) {
    sfu_producer_t *p = sfu_container_of(it, sfu_producer_t, transport_link);
    if (p->params.mid.ptr == NULL) continue;
    fb_ref_t k = fb_create_string(b, p->params.mid.ptr, p->params.mid.len);
    fb_ref_t v = fb_create_string(b, p->id, p->id_len);
    FBS_Common_StringString_start(b);
    FBS_Common_StringString_add_key(b, k);
    FBS_Common_StringString_add_value(b, v);
    refs[n++] = FBS_Common_StringString_end(b);
  }
  fb_ref_t mid_table = fb_create_vec_refs(b, refs, n);
  free(refs);
  FBS_Transport_RtpListener_start(b);
  FBS_Transport_RtpListener_add_ssrc_table(b, ssrc_table);
  FBS_Transport_RtpListener_add_mid_table(b, mid_table);
  FBS_Transport_RtpListener_add_rid_table(b, empty);
  fb_ref_t listener = FBS_Transport_RtpListener_end(b);

  uint8_t types[8];
  size_t nt = 0;
  for (uint8_t i = 0; i < 8; i++)
    if (t->trace_types & (1u << i)) types[nt++] = i;
  fb_ref_t vtypes = fb_create_vec_scalars(b, types, 1, nt);
  fb_ref_t sctp = 0, sctp_caps = 0, sctp_listener = 0;
  fb_ref_t data_producer_ids = sfu_transport_data_producer_ids(t, b);
  fb_ref_t data_consumer_ids = sfu_transport_data_consumer_ids(t, b);
  if (t->enable_sctp) {
    FBS_SctpParameters_SctpParameters_start(b);
    FBS_SctpParameters_SctpParameters_add_port(b, 5000);
    FBS_SctpParameters_SctpParameters_add_max_send_message_size(b, t->sctp_max_send_message_size);
    FBS_SctpParameters_SctpParameters_add_max_receive_message_size(b, t->sctp_max_receive_message_size);
    FBS_SctpParameters_SctpParameters_add_send_buffer_size(b, t->sctp_send_buffer_size);
    FBS_SctpParameters_SctpParameters_add_per_stream_send_queue_limit(b, t->sctp_per_stream_send_queue_limit);
    FBS_SctpParameters_SctpParameters_add_max_receiver_window_buffer_size(b, t->sctp_max_receiver_window_buffer_size);
    FBS_SctpParameters_SctpParameters_add_is_data_channel(b, t->sctp_is_data_channel);
    sctp = FBS_SctpParameters_SctpParameters_end(b);
    sctp_caps = sfu_transport_data_sctp_caps(t, b);
    sctp_listener = sfu_transport_data_sctp_listener(t, b);
  }

  FBS_Transport_Dump_start(b);
  FBS_Transport_Dump_add_id(b, id);
  FBS_Transport_Dump_add_direct(b, t->direct);
  FBS_Transport_Dump_add_producer_ids(b, producer_ids);
  FBS_Transport_Dump_add_consumer_ids(b, consumer_ids);
  FBS_Transport_Dump_add_map_ssrc_consumer_id(b, ssrc_consumer);
  FBS_Transport_Dump_add_map_rtx_ssrc_consumer_id(b, rtx_ssrc_consumer);
  FBS_Transport_Dump_add_data_producer_ids(b, data_producer_ids);
  FBS_Transport_Dump_add_data_consumer_ids(b, data_consumer_ids);
  FBS_Transport_Dump_add_recv_rtp_header_extensions(b, recv_exts);
  FBS_Transport_Dump_add_rtp_listener(b, listener);
  FBS_Transport_Dump_add_max_send_message_size(b, t->max_message_size);
  FBS_Transport_Dump_add_max_receive_message_size(b, t->max_message_size);
  FBS_Transport_Dump_add_trace_event_types(b, vtypes);
  if (t->enable_sctp) {
    FBS_Transport_Dump_add_sctp_parameters(b, sctp);
    FBS_Transport_Dump_add_sctp_state(b, (uint8_t)t->data.sctp_state);
    FBS_Transport_Dump_add_sctp_negotiated_capabilities(b, sctp_caps);
    FBS_Transport_Dump_add_sctp_listener(b, sctp_listener);
  }
  return FBS_Transport_Dump_end(b);
}

fb_ref_t sfu_transport_stats_base(sfu_transport_t *t, fb_builder_t *b) {
  uint64_t now = sfu_now_ms(t);
  sfu_transport_counters_t *s = &t->stats;
  fb_ref_t id = fb_create_string(b, t->id, t->id_len);
  FBS_Transport_Stats_start(b);
  FBS_Transport_Stats_add_transport_id(b, id);
  FBS_Transport_Stats_add_timestamp(b, now);
  FBS_Transport_Stats_add_bytes_received(b, s->bytes_received);
  FBS_Transport_Stats_add_recv_bitrate(b, sfu_rate_bps(&s->recv_rate, now));
  FBS_Transport_Stats_add_bytes_sent(b, s->bytes_sent);
  FBS_Transport_Stats_add_send_bitrate(b, sfu_rate_bps(&s->send_rate, now));
  FBS_Transport_Stats_add_rtp_bytes_received(b, s->rtp_bytes_received);
  FBS_Transport_Stats_add_rtp_recv_bitrate(b, sfu_rate_bps(&s->rtp_recv_rate, now));
  FBS_Transport_Stats_add_rtp_bytes_sent(b, s->rtp_bytes_sent);
  FBS_Transport_Stats_add_rtp_send_bitrate(b, sfu_rate_bps(&s->rtp_send_rate, now));
  FBS_Transport_Stats_add_rtx_bytes_received(b, s->rtx_bytes_received);
  FBS_Transport_Stats_add_rtx_recv_bitrate(b, sfu_rate_bps(&s->rtx_recv_rate, now));
  FBS_Transport_Stats_add_rtx_bytes_sent(b, s->rtx_bytes_sent);
  FBS_Transport_Stats_add_rtx_send_bitrate(b, sfu_rate_bps(&s->rtx_send_rate, now));
  if (t->cc != NULL) {
    uint64_t out = sfu_transport_cc_available_outgoing(t->cc), in = sfu_transport_cc_available_incoming(t->cc);
    double ls = sfu_transport_cc_loss_sent(t->cc), lr = sfu_transport_cc_loss_received(t->cc);
    FBS_Transport_Stats_add_probation_bytes_sent(b, t->cc->probation_bytes);
    FBS_Transport_Stats_add_probation_send_bitrate(b, sfu_rate_bps(&t->cc->probation_rate, now));
    if (out) FBS_Transport_Stats_add_available_outgoing_bitrate(b, out);
    if (in) FBS_Transport_Stats_add_available_incoming_bitrate(b, in);
    if (lr >= 0) FBS_Transport_Stats_add_rtp_packet_loss_received(b, lr);
    if (ls >= 0) FBS_Transport_Stats_add_rtp_packet_loss_sent(b, ls);
  }
  if (t->max_incoming_bitrate) FBS_Transport_Stats_add_max_incoming_bitrate(b, t->max_incoming_bitrate);
  if (t->max_outgoing_bitrate) FBS_Transport_Stats_add_max_outgoing_bitrate(b, t->max_outgoing_bitrate);
  if (t->min_outgoing_bitrate) FBS_Transport_Stats_add_min_outgoing_bitrate(b, t->min_outgoing_bitrate);
  if (t->enable_sctp) FBS_Transport_Stats_add_sctp_state(b, (uint8_t)t->data.sctp_state);
  return FBS_Transport_Stats_end(b);
}

/* ---- notifications from Node: RTCP and RTP of a DirectTransport ---- */

static void sfu__transport_on_notification(sfu_handler_t *h, sfu_notification_t *n) {
  sfu_transport_t *t = sfu_container_of(h, sfu_transport_t, handler);
  if (n->event != FBS_Notification_Event_TRANSPORT_SEND_RTCP ||
      n->body_type != FBS_Notification_Body_Transport_SendRtcpNotification || !t->direct) {
    SFU_DEBUG(&t->ctx->log, "unexpected transport notification dropped [event:%s]", n->event_name);
    return;
  }
  fb_vec_t data = FBS_Transport_SendRtcpNotification_data(n->body);
  if (data.len == 0 || data.len > SFU_SEND_BUF) return;
  sfu_transport_receive_rtcp(t, data.buf + data.pos, data.len);
}

static void sfu__producer_on_send(void *arg, sfu_producer_t *p, const uint8_t *data, size_t len) {
  sfu_transport_t *t = arg;
  (void)p;
  if (!t->direct) {
    SFU_DEBUG(&t->ctx->log, "PRODUCER_SEND on a transport that is not a DirectTransport dropped");
    return;
  }
  if (len == 0 || len > sizeof(t->scratch)) {
    SFU_WARN_TAG(&t->ctx->log, rtp, "RTP packet from Node too big or empty dropped [len:%zu]", len);
    return;
  }
  uint8_t *buf = malloc(SFU_SEND_BUF);
  if (buf == NULL) return;
  memcpy(buf, data, len);
  sfu_transport_receive_rtp(t, buf, len, SFU_SEND_BUF);
  free(buf);
}
