#include "sfu_vpx_layers.h"

#include <string.h>

void sfu_vpx_layers_init(sfu_vpx_layers_t *l, sfu_codec_t codec) {
  memset(l, 0, sizeof(*l));
  l->codec = codec;
  l->target_temporal = l->current_temporal = -1;
  l->target_spatial = l->current_spatial = -1;
  sfu_seq_map_init(&l->pid, 15);
}

void sfu_vpx_layers_resync(sfu_vpx_layers_t *l) { l->resync = true; }

static bool sfu__ts_newer(uint32_t a, uint32_t b) { return a != b && (uint32_t)(a - b) < 0x80000000u; }

/* Fills info; switch_point: a frame from which a higher temporal layer may be forwarded. */
static bool sfu__parse(const sfu_vpx_layers_t *l, const sfu_rtp_packet_t *in, sfu_vpx_info_t *info, bool *frame_start,
                       bool *switch_point, bool *has_tid, bool *end_frame) {
  const uint8_t *p = sfu_rtp_payload(in);
  memset(info, 0, sizeof(*info));
  info->marker = in->marker;
  *end_frame = false;
  if (l->codec == SFU_CODEC_VP8) {
    sfu_rtp_vp8_desc_t d;
    if (sfu_rtp_vp8_parse(p, in->payload_len, &d) != 0) return false;
    info->has_pid = d.has_picture_id, info->pid_15bit = d.picture_id_15bit, info->pid = d.picture_id, info->pid_off = d.pid_off;
    info->has_tl0 = d.has_tl0picidx, info->tl0 = d.tl0picidx, info->tl0_off = d.tl0_off;
    info->tid = d.has_tid ? d.tid : 0;
    info->keyframe = d.keyframe;
    *frame_start = d.start && d.partition == 0;
    *switch_point = d.layer_sync || d.keyframe || info->tid == 0;
    *has_tid = d.has_tid;
  } else if (l->codec == SFU_CODEC_VP9) {
    sfu_rtp_vp9_desc_t d;
    if (sfu_rtp_vp9_parse(p, in->payload_len, &d) != 0) return false;
    info->has_pid = d.has_picture_id, info->pid_15bit = d.picture_id_15bit, info->pid = d.picture_id, info->pid_off = d.pid_off;
    info->has_tl0 = d.has_tl0picidx, info->tl0 = d.tl0picidx, info->tl0_off = d.tl0_off;
    info->tid = d.has_layer ? d.tid : 0;
    info->sid = d.has_layer ? d.sid : 0;
    info->keyframe = d.keyframe;
    *frame_start = d.begin_frame;
    *switch_point = d.switching_up || d.keyframe || info->tid == 0;
    *has_tid = d.has_layer;
    *end_frame = d.end_frame;
  } else {
    return false;
  }
  info->parsed = true;
  return true;
}

bool sfu_vpx_packet_layers(const sfu_rtp_packet_t *pkt, sfu_codec_t codec, uint8_t *sid, uint8_t *tid) {
  sfu_vpx_layers_t l;
  sfu_vpx_info_t info;
  bool start, sp, has, end;
  l.codec = codec;
  *tid = *sid = 0;
  if ((codec != SFU_CODEC_VP8 && codec != SFU_CODEC_VP9) || pkt->payload_len == 0) return false;
  if (!sfu__parse(&l, pkt, &info, &start, &sp, &has, &end) || !has) return false;
  *tid = info.tid;
  *sid = info.sid;
  return true;
}

/* Picture id and TL0PICIDX offsets start again at a source switch. */
static void sfu__resync(sfu_vpx_layers_t *l, const sfu_vpx_info_t *info) {
  if (info->has_pid) {
    if (!l->pid_ready || l->pid_15bit != info->pid_15bit) {
      uint32_t next = l->pid_ready ? l->pid.max_out + 1 : info->pid;
      sfu_seq_map_init(&l->pid, info->pid_15bit ? 15 : 7);
      l->pid.max_out = (next - 1) & l->pid.mask;
      l->pid.started = l->pid_ready;
      l->pid_15bit = info->pid_15bit;
      l->pid_ready = true;
    }
    sfu_seq_map_sync(&l->pid, info->pid);
  }
  if (info->has_tl0) {
    if (l->tl0_ready) {
      l->tl0_offset = (uint8_t)(l->max_tl0 + 1 - info->tl0);
    } else {
      l->tl0_offset = 0;
      l->max_tl0 = info->tl0;
    }
    l->tl0_ready = true;
  }
  l->resync = false;
}

bool sfu_vpx_layers_filter(sfu_vpx_layers_t *l, const sfu_rtp_packet_t *in, sfu_vpx_info_t *info) {
  bool frame_start, switch_point, has_tid, end_frame;
  if (l->codec != SFU_CODEC_VP8 && l->codec != SFU_CODEC_VP9) {
    info->parsed = false; /* the per-packet path of everything else */
    return true;
  }
  if (in->payload_len == 0 || !sfu__parse(l, in, info, &frame_start, &switch_point, &has_tid, &end_frame)) {
    memset(info, 0, sizeof(*info));
    info->marker = in->marker;
    return true; /* nothing to go by: forwarded as it is */
  }
  if (l->resync || (info->has_pid && !l->pid_ready) || (info->has_tl0 && !l->tl0_ready)) sfu__resync(l, info);

  bool dropped = false;
  if (!l->have_frame || sfu__ts_newer(in->timestamp, l->frame_ts)) {
    /* a new picture: decided once for all its packets */
    l->have_frame = true;
    l->frame_ts = in->timestamp;
    if (info->keyframe || l->current_temporal < 0) l->current_temporal = l->target_temporal >= 0 ? l->target_temporal : info->tid;
    if (l->target_temporal >= 0 && has_tid) {
      if (l->current_temporal > l->target_temporal) l->current_temporal = l->target_temporal;
      if (info->tid > l->target_temporal) {
        dropped = true;
      } else if (info->tid > l->current_temporal) {
        if (switch_point && frame_start)
          l->current_temporal = info->tid;
        else
          dropped = true;
      }
    } else if (info->tid > l->current_temporal) {
      l->current_temporal = info->tid;
    }
    l->frame_dropped = dropped;
    if (dropped && info->has_pid) sfu_seq_map_drop(&l->pid, info->pid);
  } else if (in->timestamp == l->frame_ts) {
    dropped = l->frame_dropped;
  } else {
    /* a late packet of an older picture (a repair): by its own layer */
    dropped = l->target_temporal >= 0 && has_tid && info->tid > l->target_temporal;
  }
  if (dropped) return false;

  if (l->codec == SFU_CODEC_VP9 && l->target_spatial >= 0 && has_tid) {
    /* SVC: the spatial layers of each picture up to the current one */
    if (info->keyframe || l->current_spatial < 0) l->current_spatial = l->target_spatial;
    if (l->current_spatial > l->target_spatial) l->current_spatial = l->target_spatial;
    if (info->sid > l->current_spatial) return false;
    info->marker = in->marker || (info->sid == l->current_spatial && end_frame);
  }
  return true;
}

void sfu_vpx_layers_rewrite(sfu_vpx_layers_t *l, const sfu_vpx_info_t *info, sfu_rtp_packet_t *out) {
  uint8_t *p;
  if (!info->parsed) return;
  if (info->marker != out->marker) sfu_rtp_set_marker(out, info->marker);
  p = sfu_rtp_payload(out);
  if (info->has_pid && l->pid_ready) {
    uint32_t pid;
    if (sfu_seq_map_input(&l->pid, info->pid, &pid)) sfu_rtp_vpx_write_picture_id(p, info->pid_off, info->pid_15bit, (uint16_t)pid);
  }
  if (info->has_tl0 && l->tl0_ready) {
    uint8_t tl0 = (uint8_t)(info->tl0 + l->tl0_offset);
    if ((uint8_t)(tl0 - l->max_tl0) < 0x80) l->max_tl0 = tl0;
    sfu_rtp_vpx_write_tl0picidx(p, info->tl0_off, tl0);
  }
}
