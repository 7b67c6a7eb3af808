/*
 * fb_interop_tool: helper for tests/unit/fb_interop.test.mjs and the fuzz
 * seed corpus.
 *
 *   fb_interop_tool read          FlatBuffer on stdin -> verify as
 *                                 FBS.Message.Message -> JSON summary on
 *                                 stdout ({"error": ...} and exit 2 if the
 *                                 verifier rejects it)
 *   fb_interop_tool emit KIND     C-built message on stdout
 *   fb_interop_tool list          the KINDs, one per line
 *   fb_interop_tool seeds DIR     every KIND into DIR/seed-KIND.bin
 *
 * 64-bit integers are printed as JSON strings (JavaScript numbers cannot hold
 * them); absent optional fields print as null.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fbs_generated.h"

#define TOOL_MAX_INPUT (4u * 1024 * 1024)

/* ------------------------------------------------------------ JSON writer */

typedef struct jw {
	FILE *f;
	int depth;
	bool first[64];
	bool after_key;
} jw_t;

static void jw_value_start(jw_t *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0) {
		if (!w->first[w->depth])
			fputc(',', w->f);
		w->first[w->depth] = false;
	}
}

static void jw_quoted(jw_t *w, const char *s, size_t len)
{
	size_t i;

	fputc('"', w->f);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(w->f, "\\%c", c);
		else if (c < 0x20)
			fprintf(w->f, "\\u%04x", c);
		else
			fputc(c, w->f);
	}
	fputc('"', w->f);
}

static void jw_key(jw_t *w, const char *k)
{
	jw_value_start(w);
	jw_quoted(w, k, strlen(k));
	fputc(':', w->f);
	w->after_key = true;
}

static void jw_open(jw_t *w, char c)
{
	jw_value_start(w);
	fputc(c, w->f);
	w->depth++;
	w->first[w->depth] = true;
}

static void jw_close(jw_t *w, char c)
{
	fputc(c, w->f);
	w->depth--;
}

static void jw_null(jw_t *w)
{
	jw_value_start(w);
	fputs("null", w->f);
}

static void jw_cstr(jw_t *w, const char *s)
{
	jw_value_start(w);
	if (s == NULL)
		fputs("null", w->f);
	else
		jw_quoted(w, s, strlen(s));
}

static void jw_str(jw_t *w, fb_str_t s)
{
	jw_value_start(w);
	if (s.ptr == NULL)
		fputs("null", w->f);
	else
		jw_quoted(w, s.ptr, s.len);
}

static void jw_uint(jw_t *w, uint64_t v)
{
	jw_value_start(w);
	fprintf(w->f, "%llu", (unsigned long long)v);
}

static void jw_u64(jw_t *w, uint64_t v) /* as a string */
{
	jw_value_start(w);
	fprintf(w->f, "\"%llu\"", (unsigned long long)v);
}

static void jw_bool(jw_t *w, bool v)
{
	jw_value_start(w);
	fputs(v ? "true" : "false", w->f);
}

static void jw_double(jw_t *w, double v)
{
	jw_value_start(w);
	fprintf(w->f, "%.17g", v);
}

static void jw_str_vec(jw_t *w, fb_vec_t v)
{
	uint32_t i;

	if (v.buf == NULL) {
		jw_null(w);
		return;
	}
	jw_open(w, '[');
	for (i = 0; i < v.len; i++)
		jw_str(w, fb_vec_str(v, i));
	jw_close(w, ']');
}

static void jw_u8_vec(jw_t *w, fb_vec_t v)
{
	uint32_t i;

	if (v.buf == NULL) {
		jw_null(w);
		return;
	}
	jw_open(w, '[');
	for (i = 0; i < v.len; i++)
		jw_uint(w, fb_vec_u8(v, i));
	jw_close(w, ']');
}

static void jw_u16_vec(jw_t *w, fb_vec_t v)
{
	uint32_t i;

	if (v.buf == NULL) {
		jw_null(w);
		return;
	}
	jw_open(w, '[');
	for (i = 0; i < v.len; i++)
		jw_uint(w, fb_vec_u16(v, i));
	jw_close(w, ']');
}

/* ------------------------------------------------------------- summaries */

static void sum_parameter(jw_t *w, fb_table_t p)
{
	uint8_t type = FBS_RtpParameters_Parameter_value_type(p);
	fb_table_t v = FBS_RtpParameters_Parameter_value(p);
	fb_vec_t arr;
	uint32_t i;

	jw_open(w, '{');
	jw_key(w, "name");
	jw_str(w, FBS_RtpParameters_Parameter_name(p));
	jw_key(w, "value_type");
	jw_cstr(w, FBS_RtpParameters_Value_name(type));
	jw_key(w, "value");
	switch (type) {
	case FBS_RtpParameters_Value_Boolean:
		jw_uint(w, FBS_RtpParameters_Boolean_value(v));
		break;
	case FBS_RtpParameters_Value_Integer32:
		jw_value_start(w);
		fprintf(w->f, "%d", (int)FBS_RtpParameters_Integer32_value(v));
		break;
	case FBS_RtpParameters_Value_Double:
		jw_double(w, FBS_RtpParameters_Double_value(v));
		break;
	case FBS_RtpParameters_Value_String:
		jw_str(w, FBS_RtpParameters_String_value(v));
		break;
	case FBS_RtpParameters_Value_Integer32Array:
		arr = FBS_RtpParameters_Integer32Array_value(v);
		jw_open(w, '[');
		for (i = 0; i < arr.len; i++) {
			jw_value_start(w);
			fprintf(w->f, "%d", (int)fb_vec_i32(arr, i));
		}
		jw_close(w, ']');
		break;
	default:
		jw_null(w);
		break;
	}
	jw_close(w, '}');
}

static void sum_rtp_parameters(jw_t *w, fb_table_t rp)
{
	fb_vec_t v = FBS_RtpParameters_RtpParameters_codecs(rp), v2;
	uint32_t i, j;

	jw_open(w, '{');
	jw_key(w, "mid");
	jw_str(w, FBS_RtpParameters_RtpParameters_mid(rp));
	jw_key(w, "codecs");
	jw_open(w, '[');
	for (i = 0; i < v.len; i++) {
		fb_table_t c = fb_vec_table(v, i);
		jw_open(w, '{');
		jw_key(w, "mime_type");
		jw_str(w, FBS_RtpParameters_RtpCodecParameters_mime_type(c));
		jw_key(w, "payload_type");
		jw_uint(w, FBS_RtpParameters_RtpCodecParameters_payload_type(c));
		jw_key(w, "clock_rate");
		jw_uint(w, FBS_RtpParameters_RtpCodecParameters_clock_rate(c));
		jw_key(w, "channels");
		if (FBS_RtpParameters_RtpCodecParameters_has_channels(c))
			jw_uint(w, FBS_RtpParameters_RtpCodecParameters_channels(c));
		else
			jw_null(w);
		jw_key(w, "parameters");
		v2 = FBS_RtpParameters_RtpCodecParameters_parameters(c);
		jw_open(w, '[');
		for (j = 0; j < v2.len; j++)
			sum_parameter(w, fb_vec_table(v2, j));
		jw_close(w, ']');
		jw_key(w, "rtcp_feedback");
		v2 = FBS_RtpParameters_RtpCodecParameters_rtcp_feedback(c);
		jw_open(w, '[');
		for (j = 0; j < v2.len; j++) {
			fb_table_t fb = fb_vec_table(v2, j);
			jw_open(w, '{');
			jw_key(w, "type");
			jw_str(w, FBS_RtpParameters_RtcpFeedback_type(fb));
			jw_key(w, "parameter");
			jw_str(w, FBS_RtpParameters_RtcpFeedback_parameter(fb));
			jw_close(w, '}');
		}
		jw_close(w, ']');
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_key(w, "header_extensions");
	v = FBS_RtpParameters_RtpParameters_header_extensions(rp);
	jw_open(w, '[');
	for (i = 0; i < v.len; i++) {
		fb_table_t h = fb_vec_table(v, i);
		jw_open(w, '{');
		jw_key(w, "uri");
		jw_cstr(w, FBS_RtpParameters_RtpHeaderExtensionUri_name(
				   FBS_RtpParameters_RtpHeaderExtensionParameters_uri(h)));
		jw_key(w, "id");
		jw_uint(w, FBS_RtpParameters_RtpHeaderExtensionParameters_id(h));
		jw_key(w, "encrypt");
		jw_bool(w, FBS_RtpParameters_RtpHeaderExtensionParameters_encrypt(h));
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_key(w, "encodings");
	v = FBS_RtpParameters_RtpParameters_encodings(rp);
	jw_open(w, '[');
	for (i = 0; i < v.len; i++) {
		fb_table_t e = fb_vec_table(v, i);
		fb_table_t rtx = FBS_RtpParameters_RtpEncodingParameters_rtx(e);
		jw_open(w, '{');
		jw_key(w, "ssrc");
		if (FBS_RtpParameters_RtpEncodingParameters_has_ssrc(e))
			jw_uint(w, FBS_RtpParameters_RtpEncodingParameters_ssrc(e));
		else
			jw_null(w);
		jw_key(w, "rid");
		jw_str(w, FBS_RtpParameters_RtpEncodingParameters_rid(e));
		jw_key(w, "codec_payload_type");
		if (FBS_RtpParameters_RtpEncodingParameters_has_codec_payload_type(e))
			jw_uint(w, FBS_RtpParameters_RtpEncodingParameters_codec_payload_type(e));
		else
			jw_null(w);
		jw_key(w, "rtx_ssrc");
		if (rtx.buf != NULL)
			jw_uint(w, FBS_RtpParameters_Rtx_ssrc(rtx));
		else
			jw_null(w);
		jw_key(w, "dtx");
		jw_bool(w, FBS_RtpParameters_RtpEncodingParameters_dtx(e));
		jw_key(w, "scalability_mode");
		jw_str(w, FBS_RtpParameters_RtpEncodingParameters_scalability_mode(e));
		jw_key(w, "max_bitrate");
		if (FBS_RtpParameters_RtpEncodingParameters_has_max_bitrate(e))
			jw_u64(w, FBS_RtpParameters_RtpEncodingParameters_max_bitrate(e));
		else
			jw_null(w);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_key(w, "rtcp");
	jw_open(w, '{');
	jw_key(w, "cname");
	jw_str(w, FBS_RtpParameters_RtcpParameters_cname(FBS_RtpParameters_RtpParameters_rtcp(rp)));
	jw_key(w, "reduced_size");
	jw_bool(w, FBS_RtpParameters_RtcpParameters_reduced_size(
			   FBS_RtpParameters_RtpParameters_rtcp(rp)));
	jw_close(w, '}');
	jw_key(w, "msid");
	jw_str(w, FBS_RtpParameters_RtpParameters_msid(rp));
	jw_close(w, '}');
}

static void sum_produce(jw_t *w, fb_table_t b)
{
	fb_table_t map = FBS_Transport_ProduceRequest_rtp_mapping(b);
	fb_vec_t v;
	uint32_t i;

	jw_key(w, "producer_id");
	jw_str(w, FBS_Transport_ProduceRequest_producer_id(b));
	jw_key(w, "kind");
	jw_cstr(w, FBS_RtpParameters_MediaKind_name(FBS_Transport_ProduceRequest_kind(b)));
	jw_key(w, "paused");
	jw_bool(w, FBS_Transport_ProduceRequest_paused(b));
	jw_key(w, "key_frame_request_delay");
	jw_uint(w, FBS_Transport_ProduceRequest_key_frame_request_delay(b));
	jw_key(w, "rtp_parameters");
	sum_rtp_parameters(w, FBS_Transport_ProduceRequest_rtp_parameters(b));
	jw_key(w, "rtp_mapping");
	jw_open(w, '{');
	jw_key(w, "codecs");
	v = FBS_RtpParameters_RtpMapping_codecs(map);
	jw_open(w, '[');
	for (i = 0; i < v.len; i++) {
		fb_table_t c = fb_vec_table(v, i);
		jw_open(w, '[');
		jw_uint(w, FBS_RtpParameters_CodecMapping_payload_type(c));
		jw_uint(w, FBS_RtpParameters_CodecMapping_mapped_payload_type(c));
		jw_close(w, ']');
	}
	jw_close(w, ']');
	jw_key(w, "encodings");
	v = FBS_RtpParameters_RtpMapping_encodings(map);
	jw_open(w, '[');
	for (i = 0; i < v.len; i++) {
		fb_table_t e = fb_vec_table(v, i);
		jw_open(w, '{');
		jw_key(w, "rid");
		jw_str(w, FBS_RtpParameters_EncodingMapping_rid(e));
		jw_key(w, "ssrc");
		if (FBS_RtpParameters_EncodingMapping_has_ssrc(e))
			jw_uint(w, FBS_RtpParameters_EncodingMapping_ssrc(e));
		else
			jw_null(w);
		jw_key(w, "mapped_ssrc");
		jw_uint(w, FBS_RtpParameters_EncodingMapping_mapped_ssrc(e));
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}

static void sum_request(jw_t *w, fb_table_t r)
{
	uint8_t type = FBS_Request_Request_body_type(r);
	fb_table_t b = FBS_Request_Request_body(r);

	jw_key(w, "id");
	jw_uint(w, FBS_Request_Request_id(r));
	jw_key(w, "method");
	jw_cstr(w, FBS_Request_Method_name(FBS_Request_Request_method(r)));
	jw_key(w, "handler_id");
	jw_str(w, FBS_Request_Request_handler_id(r));
	jw_key(w, "body_type");
	jw_cstr(w, FBS_Request_Body_name(type));
	jw_key(w, "body");
	if (type == FBS_Request_Body_NONE) {
		jw_null(w);
		return;
	}
	jw_open(w, '{');
	switch (type) {
	case FBS_Request_Body_Worker_CreateRouterRequest:
		jw_key(w, "router_id");
		jw_str(w, FBS_Worker_CreateRouterRequest_router_id(b));
		break;
	case FBS_Request_Body_Worker_UpdateSettingsRequest:
		jw_key(w, "log_level");
		jw_str(w, FBS_Worker_UpdateSettingsRequest_log_level(b));
		jw_key(w, "log_tags");
		jw_str_vec(w, FBS_Worker_UpdateSettingsRequest_log_tags(b));
		break;
	case FBS_Request_Body_DataConsumer_SetSubchannelsRequest:
		jw_key(w, "subchannels");
		jw_u16_vec(w, FBS_DataConsumer_SetSubchannelsRequest_subchannels(b));
		break;
	case FBS_Request_Body_Transport_ProduceRequest:
		sum_produce(w, b);
		break;
	default:
		break;
	}
	jw_close(w, '}');
}

static void sum_notification(jw_t *w, fb_table_t n)
{
	uint8_t type = FBS_Notification_Notification_body_type(n);
	fb_table_t b = FBS_Notification_Notification_body(n);

	jw_key(w, "handler_id");
	jw_str(w, FBS_Notification_Notification_handler_id(n));
	jw_key(w, "event");
	jw_cstr(w, FBS_Notification_Event_name(FBS_Notification_Notification_event(n)));
	jw_key(w, "body_type");
	jw_cstr(w, FBS_Notification_Body_name(type));
	jw_key(w, "body");
	if (type == FBS_Notification_Body_NONE) {
		jw_null(w);
		return;
	}
	jw_open(w, '{');
	switch (type) {
	case FBS_Notification_Body_Transport_SendRtcpNotification:
		jw_key(w, "data");
		jw_u8_vec(w, FBS_Transport_SendRtcpNotification_data(b));
		break;
	case FBS_Notification_Body_DataProducer_SendNotification:
		jw_key(w, "ppid");
		jw_uint(w, FBS_DataProducer_SendNotification_ppid(b));
		jw_key(w, "data");
		jw_u8_vec(w, FBS_DataProducer_SendNotification_data(b));
		jw_key(w, "subchannels");
		jw_u16_vec(w, FBS_DataProducer_SendNotification_subchannels(b));
		jw_key(w, "required_subchannel");
		if (FBS_DataProducer_SendNotification_has_required_subchannel(b))
			jw_uint(w, FBS_DataProducer_SendNotification_required_subchannel(b));
		else
			jw_null(w);
		jw_key(w, "ignored_subchannel");
		if (FBS_DataProducer_SendNotification_has_ignored_subchannel(b))
			jw_uint(w, FBS_DataProducer_SendNotification_ignored_subchannel(b));
		else
			jw_null(w);
		break;
	case FBS_Notification_Body_WebRtcTransport_IceStateChangeNotification:
		jw_key(w, "ice_state");
		jw_cstr(w, FBS_WebRtcTransport_IceState_name(
				   FBS_WebRtcTransport_IceStateChangeNotification_ice_state(b)));
		break;
	default:
		break;
	}
	jw_close(w, '}');
}

static void sum_consume_response(jw_t *w, fb_table_t b)
{
	fb_table_t score = FBS_Transport_ConsumeResponse_score(b);
	fb_table_t layers = FBS_Transport_ConsumeResponse_preferred_layers(b);

	jw_key(w, "paused");
	jw_bool(w, FBS_Transport_ConsumeResponse_paused(b));
	jw_key(w, "producer_paused");
	jw_bool(w, FBS_Transport_ConsumeResponse_producer_paused(b));
	jw_key(w, "score");
	jw_open(w, '{');
	jw_key(w, "score");
	jw_uint(w, FBS_Consumer_ConsumerScore_score(score));
	jw_key(w, "producer_score");
	jw_uint(w, FBS_Consumer_ConsumerScore_producer_score(score));
	jw_key(w, "producer_scores");
	jw_u8_vec(w, FBS_Consumer_ConsumerScore_producer_scores(score));
	jw_close(w, '}');
	jw_key(w, "preferred_layers");
	if (layers.buf == NULL) {
		jw_null(w);
		return;
	}
	jw_open(w, '{');
	jw_key(w, "spatial_layer");
	jw_uint(w, FBS_Consumer_ConsumerLayers_spatial_layer(layers));
	jw_key(w, "temporal_layer");
	if (FBS_Consumer_ConsumerLayers_has_temporal_layer(layers))
		jw_uint(w, FBS_Consumer_ConsumerLayers_temporal_layer(layers));
	else
		jw_null(w);
	jw_close(w, '}');
}

static void sum_stats(jw_t *w, fb_table_t s)
{
	jw_key(w, "transport_id");
	jw_str(w, FBS_Transport_Stats_transport_id(s));
	jw_key(w, "timestamp");
	jw_u64(w, FBS_Transport_Stats_timestamp(s));
	jw_key(w, "bytes_received");
	jw_u64(w, FBS_Transport_Stats_bytes_received(s));
	jw_key(w, "available_outgoing_bitrate");
	if (FBS_Transport_Stats_has_available_outgoing_bitrate(s))
		jw_u64(w, FBS_Transport_Stats_available_outgoing_bitrate(s));
	else
		jw_null(w);
	jw_key(w, "rtp_packet_loss_received");
	if (FBS_Transport_Stats_has_rtp_packet_loss_received(s))
		jw_double(w, FBS_Transport_Stats_rtp_packet_loss_received(s));
	else
		jw_null(w);
	jw_key(w, "rtp_packet_loss_sent");
	if (FBS_Transport_Stats_has_rtp_packet_loss_sent(s))
		jw_double(w, FBS_Transport_Stats_rtp_packet_loss_sent(s));
	else
		jw_null(w);
}

static void sum_response(jw_t *w, fb_table_t r)
{
	uint8_t type = FBS_Response_Response_body_type(r);
	fb_table_t b = FBS_Response_Response_body(r);

	jw_key(w, "id");
	jw_uint(w, FBS_Response_Response_id(r));
	jw_key(w, "accepted");
	jw_bool(w, FBS_Response_Response_accepted(r));
	jw_key(w, "error");
	jw_str(w, FBS_Response_Response_error(r));
	jw_key(w, "reason");
	jw_str(w, FBS_Response_Response_reason(r));
	jw_key(w, "body_type");
	jw_cstr(w, FBS_Response_Body_name(type));
	jw_key(w, "body");
	if (type == FBS_Response_Body_NONE) {
		jw_null(w);
		return;
	}
	jw_open(w, '{');
	if (type == FBS_Response_Body_Worker_DumpResponse) {
		fb_table_t h = FBS_Worker_DumpResponse_channel_message_handlers(b);
		jw_key(w, "pid");
		jw_uint(w, FBS_Worker_DumpResponse_pid(b));
		jw_key(w, "web_rtc_server_ids");
		jw_str_vec(w, FBS_Worker_DumpResponse_web_rtc_server_ids(b));
		jw_key(w, "router_ids");
		jw_str_vec(w, FBS_Worker_DumpResponse_router_ids(b));
		jw_key(w, "channel_request_handlers");
		jw_str_vec(w, FBS_Worker_ChannelMessageHandlers_channel_request_handlers(h));
		jw_key(w, "channel_notification_handlers");
		jw_str_vec(w, FBS_Worker_ChannelMessageHandlers_channel_notification_handlers(h));
	} else if (type == FBS_Response_Body_Transport_ConsumeResponse) {
		sum_consume_response(w, b);
	} else if (type == FBS_Response_Body_DirectTransport_GetStatsResponse) {
		sum_stats(w, FBS_DirectTransport_GetStatsResponse_base(b));
	}
	jw_close(w, '}');
}

static int cmd_read(void)
{
	jw_t w = { stdout, 0, { false }, false };
	uint8_t *buf = malloc(TOOL_MAX_INPUT + 1);
	size_t len = 0, n;
	fb_table_t m;
	uint8_t type;
	int r;

	if (buf == NULL)
		return 1;
	while ((n = fread(buf + len, 1, TOOL_MAX_INPUT + 1 - len, stdin)) > 0)
		len += n;
	if (len > TOOL_MAX_INPUT) {
		printf("{\"error\":\"input too large\"}\n");
		free(buf);
		return 2;
	}
	r = FBS_Message_Message_verify_root(buf, len);
	if (r != 0) {
		printf("{\"error\":\"%s\",\"code\":%d}\n", fb_strerror(r), r);
		free(buf);
		return 2;
	}
	m = FBS_Message_Message_root(buf, len);
	type = FBS_Message_Message_data_type(m);
	jw_open(&w, '{');
	jw_key(&w, "type");
	jw_cstr(&w, FBS_Message_Body_name(type));
	switch (type) {
	case FBS_Message_Body_Request:
		jw_key(&w, "request");
		jw_open(&w, '{');
		sum_request(&w, FBS_Message_Message_data(m));
		jw_close(&w, '}');
		break;
	case FBS_Message_Body_Response:
		jw_key(&w, "response");
		jw_open(&w, '{');
		sum_response(&w, FBS_Message_Message_data(m));
		jw_close(&w, '}');
		break;
	case FBS_Message_Body_Notification:
		jw_key(&w, "notification");
		jw_open(&w, '{');
		sum_notification(&w, FBS_Message_Message_data(m));
		jw_close(&w, '}');
		break;
	case FBS_Message_Body_Log:
		jw_key(&w, "log");
		jw_str(&w, FBS_Log_Log_data(FBS_Message_Message_data(m)));
		break;
	default:
		break;
	}
	jw_close(&w, '}');
	fputc('\n', stdout);
	free(buf);
	return 0;
}

/* --------------------------------------------------------------- emitters */

static fb_ref_t vec_strings(fb_builder_t *b, const char *const *s, size_t n)
{
	fb_ref_t refs[16];
	size_t i;

	for (i = 0; i < n && i < 16; i++)
		refs[i] = fb_create_cstring(b, s[i]);
	return fb_create_vec_refs(b, refs, i);
}

static fb_ref_t wrap(fb_builder_t *b, uint8_t type, fb_ref_t inner)
{
	FBS_Message_Message_start(b);
	FBS_Message_Message_add_data(b, type, inner);
	return FBS_Message_Message_end(b);
}

static fb_ref_t request(fb_builder_t *b, uint32_t id, uint8_t method, const char *handler,
			uint8_t body_type, fb_ref_t body)
{
	fb_ref_t h = fb_create_cstring(b, handler), req;

	FBS_Request_Request_start(b);
	FBS_Request_Request_add_id(b, id);
	FBS_Request_Request_add_method(b, method);
	FBS_Request_Request_add_handler_id(b, h);
	FBS_Request_Request_add_body(b, body_type, body);
	req = FBS_Request_Request_end(b);
	return wrap(b, FBS_Message_Body_Request, req);
}

static fb_ref_t emit_request_create_router(fb_builder_t *b)
{
	fb_ref_t id = fb_create_cstring(b, "router-1"), body;

	FBS_Worker_CreateRouterRequest_start(b);
	FBS_Worker_CreateRouterRequest_add_router_id(b, id);
	body = FBS_Worker_CreateRouterRequest_end(b);
	return request(b, 1, FBS_Request_Method_WORKER_CREATE_ROUTER, "",
		       FBS_Request_Body_Worker_CreateRouterRequest, body);
}

static fb_ref_t emit_request_subchannels(fb_builder_t *b)
{
	static const uint16_t subs[] = { 0, 1, 65535, 300 };
	fb_ref_t v = fb_create_vec_scalars(b, subs, sizeof subs[0], 4), body;

	FBS_DataConsumer_SetSubchannelsRequest_start(b);
	FBS_DataConsumer_SetSubchannelsRequest_add_subchannels(b, v);
	body = FBS_DataConsumer_SetSubchannelsRequest_end(b);
	return request(b, 77, FBS_Request_Method_DATACONSUMER_SET_SUBCHANNELS, "dc-1",
		       FBS_Request_Body_DataConsumer_SetSubchannelsRequest, body);
}

static fb_ref_t param_string(fb_builder_t *b, const char *name, const char *value)
{
	fb_ref_t n = fb_create_cstring(b, name), s = fb_create_cstring(b, value), v;

	FBS_RtpParameters_String_start(b);
	FBS_RtpParameters_String_add_value(b, s);
	v = FBS_RtpParameters_String_end(b);
	FBS_RtpParameters_Parameter_start(b);
	FBS_RtpParameters_Parameter_add_name(b, n);
	FBS_RtpParameters_Parameter_add_value(b, FBS_RtpParameters_Value_String, v);
	return FBS_RtpParameters_Parameter_end(b);
}

static fb_ref_t param_int(fb_builder_t *b, const char *name, int32_t value)
{
	fb_ref_t n = fb_create_cstring(b, name), v;

	FBS_RtpParameters_Integer32_start(b);
	FBS_RtpParameters_Integer32_add_value(b, value);
	v = FBS_RtpParameters_Integer32_end(b);
	FBS_RtpParameters_Parameter_start(b);
	FBS_RtpParameters_Parameter_add_name(b, n);
	FBS_RtpParameters_Parameter_add_value(b, FBS_RtpParameters_Value_Integer32, v);
	return FBS_RtpParameters_Parameter_end(b);
}

static fb_ref_t emit_request_produce(fb_builder_t *b)
{
	fb_ref_t params[3], fbk[1], codecs[1], hdrs[1], encs[2], cmaps[1], emaps[2];
	fb_ref_t mime, vparams, vfb, vcodecs, vhdrs, vencs, rtcp, rp, map, pid, body, s1, s2;
	static const int32_t arr[] = { -1, 2 };
	fb_ref_t a, av, an;

	params[0] = param_string(b, "profile-level-id", "42e01f");
	a = fb_create_vec_scalars(b, arr, sizeof arr[0], 2);
	FBS_RtpParameters_Integer32Array_start(b);
	FBS_RtpParameters_Integer32Array_add_value(b, a);
	av = FBS_RtpParameters_Integer32Array_end(b);
	an = fb_create_cstring(b, "arr");
	FBS_RtpParameters_Parameter_start(b);
	FBS_RtpParameters_Parameter_add_name(b, an);
	FBS_RtpParameters_Parameter_add_value(b, FBS_RtpParameters_Value_Integer32Array, av);
	params[1] = FBS_RtpParameters_Parameter_end(b);
	params[2] = param_int(b, "packetization-mode", 1);
	vparams = fb_create_vec_refs(b, params, 3);
	s1 = fb_create_cstring(b, "nack");
	FBS_RtpParameters_RtcpFeedback_start(b);
	FBS_RtpParameters_RtcpFeedback_add_type(b, s1);
	fbk[0] = FBS_RtpParameters_RtcpFeedback_end(b);
	vfb = fb_create_vec_refs(b, fbk, 1);
	mime = fb_create_cstring(b, "video/H264");
	FBS_RtpParameters_RtpCodecParameters_start(b);
	FBS_RtpParameters_RtpCodecParameters_add_mime_type(b, mime);
	FBS_RtpParameters_RtpCodecParameters_add_payload_type(b, 101);
	FBS_RtpParameters_RtpCodecParameters_add_clock_rate(b, 90000);
	FBS_RtpParameters_RtpCodecParameters_add_parameters(b, vparams);
	FBS_RtpParameters_RtpCodecParameters_add_rtcp_feedback(b, vfb);
	codecs[0] = FBS_RtpParameters_RtpCodecParameters_end(b);
	vcodecs = fb_create_vec_refs(b, codecs, 1);
	FBS_RtpParameters_RtpHeaderExtensionParameters_start(b);
	FBS_RtpParameters_RtpHeaderExtensionParameters_add_uri(
		b, FBS_RtpParameters_RtpHeaderExtensionUri_AbsSendTime);
	FBS_RtpParameters_RtpHeaderExtensionParameters_add_id(b, 4);
	hdrs[0] = FBS_RtpParameters_RtpHeaderExtensionParameters_end(b);
	vhdrs = fb_create_vec_refs(b, hdrs, 1);
	s1 = fb_create_cstring(b, "r0");
	FBS_RtpParameters_RtpEncodingParameters_start(b);
	FBS_RtpParameters_RtpEncodingParameters_add_ssrc(b, 0); /* optional: written */
	FBS_RtpParameters_RtpEncodingParameters_add_rid(b, s1);
	FBS_RtpParameters_RtpEncodingParameters_add_max_bitrate(b, UINT64_C(5000000000));
	encs[0] = FBS_RtpParameters_RtpEncodingParameters_end(b);
	FBS_RtpParameters_Rtx_start(b);
	FBS_RtpParameters_Rtx_add_ssrc(b, 2222);
	s2 = FBS_RtpParameters_Rtx_end(b);
	FBS_RtpParameters_RtpEncodingParameters_start(b);
	FBS_RtpParameters_RtpEncodingParameters_add_ssrc(b, 1111);
	FBS_RtpParameters_RtpEncodingParameters_add_rtx(b, s2);
	FBS_RtpParameters_RtpEncodingParameters_add_dtx(b, true);
	encs[1] = FBS_RtpParameters_RtpEncodingParameters_end(b);
	vencs = fb_create_vec_refs(b, encs, 2);
	s1 = fb_create_cstring(b, "cname-x");
	FBS_RtpParameters_RtcpParameters_start(b);
	FBS_RtpParameters_RtcpParameters_add_cname(b, s1);
	FBS_RtpParameters_RtcpParameters_add_reduced_size(b, false);
	rtcp = FBS_RtpParameters_RtcpParameters_end(b);
	s1 = fb_create_cstring(b, "0");
	FBS_RtpParameters_RtpParameters_start(b);
	FBS_RtpParameters_RtpParameters_add_mid(b, s1);
	FBS_RtpParameters_RtpParameters_add_codecs(b, vcodecs);
	FBS_RtpParameters_RtpParameters_add_header_extensions(b, vhdrs);
	FBS_RtpParameters_RtpParameters_add_encodings(b, vencs);
	FBS_RtpParameters_RtpParameters_add_rtcp(b, rtcp);
	rp = FBS_RtpParameters_RtpParameters_end(b);
	FBS_RtpParameters_CodecMapping_start(b);
	FBS_RtpParameters_CodecMapping_add_payload_type(b, 101);
	FBS_RtpParameters_CodecMapping_add_mapped_payload_type(b, 102);
	cmaps[0] = FBS_RtpParameters_CodecMapping_end(b);
	s1 = fb_create_cstring(b, "r0");
	FBS_RtpParameters_EncodingMapping_start(b);
	FBS_RtpParameters_EncodingMapping_add_rid(b, s1);
	FBS_RtpParameters_EncodingMapping_add_mapped_ssrc(b, 9);
	emaps[0] = FBS_RtpParameters_EncodingMapping_end(b);
	FBS_RtpParameters_EncodingMapping_start(b);
	FBS_RtpParameters_EncodingMapping_add_ssrc(b, 1111);
	FBS_RtpParameters_EncodingMapping_add_mapped_ssrc(b, 10);
	emaps[1] = FBS_RtpParameters_EncodingMapping_end(b);
	s1 = fb_create_vec_refs(b, cmaps, 1);
	s2 = fb_create_vec_refs(b, emaps, 2);
	FBS_RtpParameters_RtpMapping_start(b);
	FBS_RtpParameters_RtpMapping_add_codecs(b, s1);
	FBS_RtpParameters_RtpMapping_add_encodings(b, s2);
	map = FBS_RtpParameters_RtpMapping_end(b);
	pid = fb_create_cstring(b, "producer-1");
	FBS_Transport_ProduceRequest_start(b);
	FBS_Transport_ProduceRequest_add_producer_id(b, pid);
	FBS_Transport_ProduceRequest_add_kind(b, FBS_RtpParameters_MediaKind_VIDEO);
	FBS_Transport_ProduceRequest_add_rtp_parameters(b, rp);
	FBS_Transport_ProduceRequest_add_rtp_mapping(b, map);
	FBS_Transport_ProduceRequest_add_paused(b, true);
	FBS_Transport_ProduceRequest_add_key_frame_request_delay(b, 1000);
	body = FBS_Transport_ProduceRequest_end(b);
	return request(b, 9, FBS_Request_Method_TRANSPORT_PRODUCE, "transport-1",
		       FBS_Request_Body_Transport_ProduceRequest, body);
}

static fb_ref_t notification(fb_builder_t *b, const char *handler, uint8_t event, uint8_t type,
			     fb_ref_t body)
{
	fb_ref_t h = fb_create_cstring(b, handler), n;

	FBS_Notification_Notification_start(b);
	FBS_Notification_Notification_add_handler_id(b, h);
	FBS_Notification_Notification_add_event(b, event);
	FBS_Notification_Notification_add_body(b, type, body);
	n = FBS_Notification_Notification_end(b);
	return wrap(b, FBS_Message_Body_Notification, n);
}

static fb_ref_t emit_notification_running(fb_builder_t *b)
{
	return notification(b, "", FBS_Notification_Event_WORKER_RUNNING, FBS_Notification_Body_NONE,
			    0);
}

static fb_ref_t emit_notification_ice(fb_builder_t *b)
{
	fb_ref_t body;

	FBS_WebRtcTransport_IceStateChangeNotification_start(b);
	FBS_WebRtcTransport_IceStateChangeNotification_add_ice_state(
		b, FBS_WebRtcTransport_IceState_COMPLETED);
	body = FBS_WebRtcTransport_IceStateChangeNotification_end(b);
	return notification(b, "transport-1", FBS_Notification_Event_WEBRTCTRANSPORT_ICE_STATE_CHANGE,
			    FBS_Notification_Body_WebRtcTransport_IceStateChangeNotification, body);
}

static fb_ref_t emit_notification_send(fb_builder_t *b)
{
	static const uint8_t data[] = { 0, 1, 2, 250, 255 };
	static const uint16_t subs[] = { 7, 8 };
	fb_ref_t d = fb_create_vec_scalars(b, data, 1, sizeof data);
	fb_ref_t s = fb_create_vec_scalars(b, subs, 2, 2), body;

	FBS_DataProducer_SendNotification_start(b);
	FBS_DataProducer_SendNotification_add_ppid(b, 51);
	FBS_DataProducer_SendNotification_add_data(b, d);
	FBS_DataProducer_SendNotification_add_subchannels(b, s);
	FBS_DataProducer_SendNotification_add_required_subchannel(b, 0);
	body = FBS_DataProducer_SendNotification_end(b);
	return notification(b, "dp-1", FBS_Notification_Event_DATAPRODUCER_SEND,
			    FBS_Notification_Body_DataProducer_SendNotification, body);
}

static fb_ref_t emit_log(fb_builder_t *b)
{
	fb_ref_t s = fb_create_cstring(b, "D(worker) hello \"world\" \xc3\xa9\t"), l;

	FBS_Log_Log_start(b);
	FBS_Log_Log_add_data(b, s);
	l = FBS_Log_Log_end(b);
	return wrap(b, FBS_Message_Body_Log, l);
}

static fb_ref_t response(fb_builder_t *b, uint32_t id, bool accepted, fb_ref_t error,
			 fb_ref_t reason, uint8_t type, fb_ref_t body)
{
	fb_ref_t r;

	FBS_Response_Response_start(b);
	FBS_Response_Response_add_id(b, id);
	FBS_Response_Response_add_accepted(b, accepted);
	FBS_Response_Response_add_body(b, type, body);
	FBS_Response_Response_add_error(b, error);
	FBS_Response_Response_add_reason(b, reason);
	r = FBS_Response_Response_end(b);
	return wrap(b, FBS_Message_Body_Response, r);
}

static fb_ref_t emit_response_ok(fb_builder_t *b)
{
	return response(b, 3, true, 0, 0, FBS_Response_Body_NONE, 0);
}

static fb_ref_t emit_response_error(fb_builder_t *b)
{
	fb_ref_t e = fb_create_cstring(b, "TypeError");
	fb_ref_t r = fb_create_cstring(b, "missing \"routerId\" \xe2\x82\xac");

	return response(b, 7, false, e, r, FBS_Response_Body_NONE, 0);
}

static fb_ref_t emit_response_dump(fb_builder_t *b)
{
	static const char *const servers[] = { "ws-1" };
	static const char *const routers[] = { "r-1", "r-2" };
	static const char *const reqs[] = { "worker", "r-1", "r-2" };
	fb_ref_t vs = vec_strings(b, servers, 1), vr = vec_strings(b, routers, 2);
	fb_ref_t vq = vec_strings(b, reqs, 3), vn = vec_strings(b, NULL, 0), h, d;

	FBS_Worker_ChannelMessageHandlers_start(b);
	FBS_Worker_ChannelMessageHandlers_add_channel_request_handlers(b, vq);
	FBS_Worker_ChannelMessageHandlers_add_channel_notification_handlers(b, vn);
	h = FBS_Worker_ChannelMessageHandlers_end(b);
	FBS_Worker_DumpResponse_start(b);
	FBS_Worker_DumpResponse_add_pid(b, 4242);
	FBS_Worker_DumpResponse_add_web_rtc_server_ids(b, vs);
	FBS_Worker_DumpResponse_add_router_ids(b, vr);
	FBS_Worker_DumpResponse_add_channel_message_handlers(b, h);
	d = FBS_Worker_DumpResponse_end(b);
	return response(b, 42, true, 0, 0, FBS_Response_Body_Worker_DumpResponse, d);
}

static fb_ref_t emit_response_consume(fb_builder_t *b)
{
	static const uint8_t scores[] = { 10, 0, 7 };
	fb_ref_t v = fb_create_vec_scalars(b, scores, 1, 3), s, l, c;

	FBS_Consumer_ConsumerScore_start(b);
	FBS_Consumer_ConsumerScore_add_score(b, 10);
	FBS_Consumer_ConsumerScore_add_producer_score(b, 9);
	FBS_Consumer_ConsumerScore_add_producer_scores(b, v);
	s = FBS_Consumer_ConsumerScore_end(b);
	FBS_Consumer_ConsumerLayers_start(b);
	FBS_Consumer_ConsumerLayers_add_spatial_layer(b, 2);
	FBS_Consumer_ConsumerLayers_add_temporal_layer(b, 0); /* optional, set to 0 */
	l = FBS_Consumer_ConsumerLayers_end(b);
	FBS_Transport_ConsumeResponse_start(b);
	FBS_Transport_ConsumeResponse_add_paused(b, true);
	FBS_Transport_ConsumeResponse_add_producer_paused(b, false);
	FBS_Transport_ConsumeResponse_add_score(b, s);
	FBS_Transport_ConsumeResponse_add_preferred_layers(b, l);
	c = FBS_Transport_ConsumeResponse_end(b);
	return response(b, 11, true, 0, 0, FBS_Response_Body_Transport_ConsumeResponse, c);
}

static fb_ref_t emit_response_stats(fb_builder_t *b)
{
	fb_ref_t id = fb_create_cstring(b, "transport-9"), st, g;

	FBS_Transport_Stats_start(b);
	FBS_Transport_Stats_add_transport_id(b, id);
	FBS_Transport_Stats_add_timestamp(b, UINT64_C(1700000000123));
	FBS_Transport_Stats_add_bytes_received(b, UINT64_C(18446744073709551615));
	FBS_Transport_Stats_add_available_outgoing_bitrate(b, 0);
	FBS_Transport_Stats_add_rtp_packet_loss_received(b, 0.25);
	st = FBS_Transport_Stats_end(b);
	FBS_DirectTransport_GetStatsResponse_start(b);
	FBS_DirectTransport_GetStatsResponse_add_base(b, st);
	g = FBS_DirectTransport_GetStatsResponse_end(b);
	return response(b, 12, true, 0, 0, FBS_Response_Body_DirectTransport_GetStatsResponse, g);
}

typedef struct emitter {
	const char *name;
	fb_ref_t (*fn)(fb_builder_t *b);
} emitter_t;

static const emitter_t emitters[] = {
	{ "request-create-router", emit_request_create_router },
	{ "request-subchannels", emit_request_subchannels },
	{ "request-produce", emit_request_produce },
	{ "notification-running", emit_notification_running },
	{ "notification-ice", emit_notification_ice },
	{ "notification-send", emit_notification_send },
	{ "log", emit_log },
	{ "response-ok", emit_response_ok },
	{ "response-error", emit_response_error },
	{ "response-dump", emit_response_dump },
	{ "response-consume", emit_response_consume },
	{ "response-stats", emit_response_stats },
};

#define N_EMITTERS (sizeof emitters / sizeof emitters[0])

/* Builds one message and writes it to f. */
static int emit(const emitter_t *e, FILE *f)
{
	fb_builder_t b;
	const uint8_t *out;
	size_t len;
	int r = fb_builder_init(&b, 0);

	if (r == 0)
		r = fb_builder_finish(&b, e->fn(&b), &out, &len);
	if (r == 0 && FBS_Message_Message_verify_root(out, len) != 0)
		r = FB_EINVAL; /* we must only ever emit valid messages */
	if (r == 0 && fwrite(out, 1, len, f) != len)
		r = FB_EINVAL;
	if (r != 0)
		fprintf(stderr, "fb_interop_tool: %s: %s\n", e->name, fb_strerror(r));
	fb_builder_free(&b);
	return r;
}

static const emitter_t *find_emitter(const char *name)
{
	size_t i;

	for (i = 0; i < N_EMITTERS; i++)
		if (strcmp(emitters[i].name, name) == 0)
			return &emitters[i];
	return NULL;
}

static int cmd_seeds(const char *dir)
{
	char path[4096];
	size_t i;
	int r = 0;

	for (i = 0; i < N_EMITTERS && r == 0; i++) {
		FILE *f;
		snprintf(path, sizeof path, "%s/seed-%s.bin", dir, emitters[i].name);
		f = fopen(path, "wb");
		if (f == NULL) {
			fprintf(stderr, "fb_interop_tool: %s: %s\n", path, strerror(errno));
			return 1;
		}
		r = emit(&emitters[i], f);
		if (fclose(f) != 0)
			r = 1;
	}
	return r != 0 ? 1 : 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: fb_interop_tool read | emit KIND | list | seeds DIR\n");
	return 1;
}

int main(int argc, char **argv)
{
	const emitter_t *e;
	size_t i;

	if (argc == 2 && strcmp(argv[1], "read") == 0)
		return cmd_read();
	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		for (i = 0; i < N_EMITTERS; i++)
			printf("%s\n", emitters[i].name);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "emit") == 0) {
		e = find_emitter(argv[2]);
		if (e == NULL)
			return usage();
		return emit(e, stdout) != 0 ? 1 : 0;
	}
	if (argc == 3 && strcmp(argv[1], "seeds") == 0)
		return cmd_seeds(argv[2]);
	return usage();
}
