/*
 * test_fb.c: unit tests for proto/ (FlatBuffers runtime + generated code).
 *
 * Round trips of real mediasoup messages, every scalar/vector kind through
 * the test schema proto/test/fbtest.fbs, builder error handling, and the
 * verifier against truncated, corrupted and randomly mutated buffers.  Meant
 * to run under -fsanitize=address,undefined and valgrind: every buffer handed
 * to the verifier sits in an exact-size heap block so that any overread is
 * caught.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fbs_generated.h"
#include "fbtest_generated.h" /* proto/test/fbtest.fbs: link $(PROTO_TEST_SRCS) */

typedef int (*verify_fn)(const uint8_t *buf, size_t len);
typedef void (*touch_fn)(fb_table_t t, uint64_t *acc);

/* A finished buffer copied into its own exact-size heap block. */
typedef struct msgbuf {
	uint8_t *p;
	size_t len;
} msgbuf_t;

static msgbuf_t finish_copy(fb_builder_t *b, fb_ref_t root)
{
	const uint8_t *out;
	size_t len;
	msgbuf_t m;

	assert_int_equal(fb_builder_error(b), 0);
	assert_int_equal(fb_builder_finish(b, root, &out, &len), 0);
	m.p = malloc(len);
	assert_non_null(m.p);
	memcpy(m.p, out, len);
	m.len = len;
	return m;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t len)
{
	uint8_t *d = malloc(len != 0 ? len : 1);

	assert_non_null(d);
	if (len != 0)
		memcpy(d, p, len);
	return d;
}

static bool str_eq(fb_str_t s, const char *want)
{
	return s.ptr != NULL && s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0 &&
	       s.ptr[s.len] == '\0';
}

static void wle32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void wle16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Vtable position of the table at pos in a valid buffer. */
static uint32_t vtable_of(const uint8_t *buf, uint32_t pos)
{
	return pos - fb__ld_u32(buf + pos);
}

/* ------------------------------------------------- mediasoup message builders */

static fb_ref_t wrap(fb_builder_t *b, uint8_t type, fb_ref_t inner)
{
	FBS_Message_Message_start(b);
	FBS_Message_Message_add_data(b, type, inner);
	return FBS_Message_Message_end(b);
}

static msgbuf_t build_request_create_router(fb_builder_t *b)
{
	fb_ref_t rid = fb_create_cstring(b, "router-1");
	fb_ref_t hid = fb_create_cstring(b, "");
	fb_ref_t body, req;

	FBS_Worker_CreateRouterRequest_start(b);
	FBS_Worker_CreateRouterRequest_add_router_id(b, rid);
	body = FBS_Worker_CreateRouterRequest_end(b);
	FBS_Request_Request_start(b);
	FBS_Request_Request_add_id(b, 123456);
	FBS_Request_Request_add_method(b, FBS_Request_Method_WORKER_CREATE_ROUTER);
	FBS_Request_Request_add_handler_id(b, hid);
	FBS_Request_Request_add_body(b, FBS_Request_Body_Worker_CreateRouterRequest, body);
	req = FBS_Request_Request_end(b);
	return finish_copy(b, wrap(b, FBS_Message_Body_Request, req));
}

static msgbuf_t build_response(fb_builder_t *b, bool accepted)
{
	fb_ref_t err = 0, reason = 0, r;

	if (!accepted) {
		err = fb_create_cstring(b, "TypeError");
		reason = fb_create_cstring(b, "wrong \"routerId\"");
	}
	FBS_Response_Response_start(b);
	FBS_Response_Response_add_id(b, 77);
	FBS_Response_Response_add_accepted(b, accepted);
	FBS_Response_Response_add_error(b, err);
	FBS_Response_Response_add_reason(b, reason);
	r = FBS_Response_Response_end(b);
	return finish_copy(b, wrap(b, FBS_Message_Body_Response, r));
}

static msgbuf_t build_notification(fb_builder_t *b)
{
	static const uint8_t rtcp[] = { 0x80, 0xc9, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef, 0x00 };
	fb_ref_t data = fb_create_vec_scalars(b, rtcp, 1, sizeof rtcp);
	fb_ref_t hid = fb_create_cstring(b, "transport-1");
	fb_ref_t body, n;

	FBS_Transport_SendRtcpNotification_start(b);
	FBS_Transport_SendRtcpNotification_add_data(b, data);
	body = FBS_Transport_SendRtcpNotification_end(b);
	FBS_Notification_Notification_start(b);
	FBS_Notification_Notification_add_handler_id(b, hid);
	FBS_Notification_Notification_add_event(b, FBS_Notification_Event_TRANSPORT_SEND_RTCP);
	FBS_Notification_Notification_add_body(b, FBS_Notification_Body_Transport_SendRtcpNotification,
					       body);
	n = FBS_Notification_Notification_end(b);
	return finish_copy(b, wrap(b, FBS_Message_Body_Notification, n));
}

static msgbuf_t build_log(fb_builder_t *b)
{
	fb_ref_t s = fb_create_cstring(b, "D(worker) hello"), l;

	FBS_Log_Log_start(b);
	FBS_Log_Log_add_data(b, s);
	l = FBS_Log_Log_end(b);
	return finish_copy(b, wrap(b, FBS_Message_Body_Log, l));
}

static fb_ref_t str_vec(fb_builder_t *b, const char *const *s, size_t n)
{
	fb_ref_t refs[8];
	size_t i;

	assert_true(n <= 8);
	for (i = 0; i < n; i++)
		refs[i] = fb_create_cstring(b, s[i]);
	return fb_create_vec_refs(b, refs, n);
}

static msgbuf_t build_dump_response(fb_builder_t *b)
{
	static const char *const servers[] = { "ws-1", "ws-2" };
	static const char *const routers[] = { "r-1", "r-2", "r-3" };
	static const char *const reqs[] = { "worker", "r-1" };
	static const char *const notifs[] = { "transport-9" };
	fb_ref_t vs = str_vec(b, servers, 2), vr = str_vec(b, routers, 3);
	fb_ref_t vq = str_vec(b, reqs, 2), vn = str_vec(b, notifs, 1), h, d, r;

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
	FBS_Response_Response_start(b);
	FBS_Response_Response_add_id(b, 5);
	FBS_Response_Response_add_accepted(b, true);
	FBS_Response_Response_add_body(b, FBS_Response_Body_Worker_DumpResponse, d);
	r = FBS_Response_Response_end(b);
	return finish_copy(b, wrap(b, FBS_Message_Body_Response, r));
}

/* RtpEncodingParameters and ConsumerLayers: optional scalars set and unset. */
static msgbuf_t build_consume_response(fb_builder_t *b)
{
	static const uint8_t scores[] = { 10, 0, 7 };
	fb_ref_t v = fb_create_vec_scalars(b, scores, 1, 3), s, l, c, r;

	FBS_Consumer_ConsumerScore_start(b);
	FBS_Consumer_ConsumerScore_add_score(b, 10);
	FBS_Consumer_ConsumerScore_add_producer_scores(b, v);
	s = FBS_Consumer_ConsumerScore_end(b);
	FBS_Consumer_ConsumerLayers_start(b);
	FBS_Consumer_ConsumerLayers_add_spatial_layer(b, 2);
	FBS_Consumer_ConsumerLayers_add_temporal_layer(b, 0);
	l = FBS_Consumer_ConsumerLayers_end(b);
	FBS_Transport_ConsumeResponse_start(b);
	FBS_Transport_ConsumeResponse_add_paused(b, true);
	FBS_Transport_ConsumeResponse_add_score(b, s);
	FBS_Transport_ConsumeResponse_add_preferred_layers(b, l);
	c = FBS_Transport_ConsumeResponse_end(b);
	FBS_Response_Response_start(b);
	FBS_Response_Response_add_id(b, 6);
	FBS_Response_Response_add_accepted(b, true);
	FBS_Response_Response_add_body(b, FBS_Response_Body_Transport_ConsumeResponse, c);
	r = FBS_Response_Response_end(b);
	return finish_copy(b, wrap(b, FBS_Message_Body_Response, r));
}

/* ---------------------------------------------------- test-schema builders */

static const bool v_bool[] = { true, false, true };
static const int8_t v_i8[] = { -128, 0, 127 };
static const uint8_t v_u8[] = { 0, 1, 255 };
static const int16_t v_i16[] = { -32768, 1, 32767 };
static const uint16_t v_u16[] = { 0, 300, 65535 };
static const int32_t v_i32[] = { INT32_MIN, -1, INT32_MAX };
static const uint32_t v_u32[] = { 0, 0xdeadbeef, UINT32_MAX };
static const int64_t v_i64[] = { INT64_MIN, -1, INT64_MAX };
static const uint64_t v_u64[] = { 0, UINT64_C(0x0123456789abcdef), UINT64_MAX };
static const float v_f32[] = { -1.5f, 0.0f, 3.25f };
static const double v_f64[] = { -1e300, 0.1, 2.5 };
static const int8_t v_color[] = { FbTest_Color_Red, FbTest_Color_Blue };

static fb_ref_t build_inner(fb_builder_t *b, const char *name, int32_t n)
{
	fb_ref_t s = name != NULL ? fb_create_cstring(b, name) : 0;

	FbTest_Inner_start(b);
	FbTest_Inner_add_name(b, s);
	FbTest_Inner_add_n(b, n);
	return FbTest_Inner_end(b);
}

/* An All with every field set to a non-default value. */
static msgbuf_t build_all(fb_builder_t *b)
{
	static const char *const strs[] = { "a", "", "ccc" };
	fb_ref_t vb = fb_create_vec_scalars(b, v_bool, sizeof v_bool[0], 3);
	fb_ref_t vi8 = fb_create_vec_scalars(b, v_i8, 1, 3);
	fb_ref_t vu8 = fb_create_vec_scalars(b, v_u8, 1, 3);
	fb_ref_t vi16 = fb_create_vec_scalars(b, v_i16, 2, 3);
	fb_ref_t vu16 = fb_create_vec_scalars(b, v_u16, 2, 3);
	fb_ref_t vi32 = fb_create_vec_scalars(b, v_i32, 4, 3);
	fb_ref_t vu32 = fb_create_vec_scalars(b, v_u32, 4, 3);
	fb_ref_t vi64 = fb_create_vec_scalars(b, v_i64, 8, 3);
	fb_ref_t vu64 = fb_create_vec_scalars(b, v_u64, 8, 3);
	fb_ref_t vf32 = fb_create_vec_scalars(b, v_f32, 4, 3);
	fb_ref_t vf64 = fb_create_vec_scalars(b, v_f64, 8, 3);
	fb_ref_t vcol = fb_create_vec_scalars(b, v_color, 1, 2);
	fb_ref_t vstr = str_vec(b, strs, 3);
	fb_ref_t inners[2], vinner, inner, other, s, nested;

	inners[0] = build_inner(b, "x", 1);
	inners[1] = build_inner(b, NULL, 7);
	vinner = fb_create_vec_refs(b, inners, 2);
	inner = build_inner(b, "inner", -9);
	FbTest_Other_start(b);
	FbTest_Other_add_x(b, 65000);
	other = FbTest_Other_end(b);
	s = fb_create_cstring(b, "hello");
	FbTest_All_start(b);
	FbTest_All_add_i32(b, 17);
	nested = FbTest_All_end(b);

	FbTest_All_start(b);
	FbTest_All_add_b(b, false);
	FbTest_All_add_i8(b, -128);
	FbTest_All_add_u8(b, 1);
	FbTest_All_add_i16(b, 32767);
	FbTest_All_add_u16(b, 1);
	FbTest_All_add_i32(b, INT32_MIN);
	FbTest_All_add_u32(b, UINT32_MAX);
	FbTest_All_add_i64(b, INT64_MIN);
	FbTest_All_add_u64(b, UINT64_MAX);
	FbTest_All_add_f32(b, -0.5f);
	FbTest_All_add_f64(b, 1e-300);
	FbTest_All_add_f_nan(b, 1.0);
	FbTest_All_add_f_inf(b, 2.0f);
	FbTest_All_add_color(b, FbTest_Color_Red);
	FbTest_All_add_big(b, FbTest_Big_Huge);
	FbTest_All_add_o_b(b, false);
	FbTest_All_add_o_i8(b, 0);
	FbTest_All_add_o_u8(b, 0);
	FbTest_All_add_o_i16(b, -2);
	FbTest_All_add_o_u16(b, 0);
	FbTest_All_add_o_i32(b, 0);
	FbTest_All_add_o_u32(b, 3);
	FbTest_All_add_o_i64(b, 0);
	FbTest_All_add_o_u64(b, 0);
	FbTest_All_add_o_f32(b, 0.0f);
	FbTest_All_add_o_f64(b, 0.0);
	FbTest_All_add_o_color(b, FbTest_Color_Green);
	FbTest_All_add_s(b, s);
	FbTest_All_add_inner(b, inner);
	FbTest_All_add_thing(b, FbTest_Thing_Other, other);
	FbTest_All_add_v_bool(b, vb);
	FbTest_All_add_v_i8(b, vi8);
	FbTest_All_add_v_u8(b, vu8);
	FbTest_All_add_v_i16(b, vi16);
	FbTest_All_add_v_u16(b, vu16);
	FbTest_All_add_v_i32(b, vi32);
	FbTest_All_add_v_u32(b, vu32);
	FbTest_All_add_v_i64(b, vi64);
	FbTest_All_add_v_u64(b, vu64);
	FbTest_All_add_v_f32(b, vf32);
	FbTest_All_add_v_f64(b, vf64);
	FbTest_All_add_v_color(b, vcol);
	FbTest_All_add_v_str(b, vstr);
	FbTest_All_add_v_inner(b, vinner);
	FbTest_All_add_nested(b, nested);
	return finish_copy(b, FbTest_All_end(b));
}

/* ------------------------------------------------------------ round trips */

static void test_request_round_trip(void **state)
{
	fb_builder_t b;
	msgbuf_t m;
	fb_table_t msg, req, body;

	(void)state;
	assert_int_equal(fb_builder_init(&b, 0), 0);
	m = build_request_create_router(&b);
	assert_int_equal(FBS_Message_Message_verify_root(m.p, m.len), 0);
	msg = FBS_Message_Message_root(m.p, m.len);
	assert_true(FBS_Message_Message_has_data(msg));
	assert_int_equal(FBS_Message_Message_data_type(msg), FBS_Message_Body_Request);
	req = FBS_Message_Message_data(msg);
	assert_int_equal(FBS_Request_Request_id(req), 123456);
	assert_int_equal(FBS_Request_Request_method(req), FBS_Request_Method_WORKER_CREATE_ROUTER);
	assert_true(str_eq(FBS_Request_Request_handler_id(req), ""));
	assert_int_equal(FBS_Request_Request_body_type(req), FBS_Request_Body_Worker_CreateRouterRequest);
	body = FBS_Request_Request_body(req);
	assert_non_null(body.buf);
	assert_true(str_eq(FBS_Worker_CreateRouterRequest_router_id(body), "router-1"));
	/* the request also verifies on its own when it is the root */
	assert_int_not_equal(FBS_Request_Request_verify_root(m.p, m.len), 0);
	free(m.p);
	fb_builder_free(&b);
}

static void test_request_without_body(void **state)
{
	fb_builder_t b;
	msgbuf_t m;
	fb_table_t req;
	fb_ref_t h, r;

	(void)state;
	assert_int_equal(fb_builder_init(&b, 16), 0);
	h = fb_create_cstring(&b, "");
	FBS_Request_Request_start(&b);
	FBS_Request_Request_add_method(&b, FBS_Request_Method_WORKER_DUMP); /* default: omitted */
	FBS_Request_Request_add_handler_id(&b, h);
	FBS_Request_Request_add_body(&b, FBS_Request_Body_NONE, 0); /* nothing written */
	r = FBS_Request_Request_end(&b);
	m = finish_copy(&b, wrap(&b, FBS_Message_Body_Request, r));
	assert_int_equal(FBS_Message_Message_verify_root(m.p, m.len), 0);
	req = FBS_Message_Message_data(FBS_Message_Message_root(m.p, m.len));
	assert_false(FBS_Request_Request_has_id(req));
	assert_false(FBS_Request_Request_has_method(req));
	assert_int_equal(FBS_Request_Request_method(req), FBS_Request_Method_WORKER_DUMP);
	assert_false(FBS_Request_Request_has_body(req));
	assert_false(FBS_Request_Request_has_body_type(req));
	assert_int_equal(FBS_Request_Request_body_type(req), FBS_Request_Body_NONE);
	assert_null(FBS_Request_Request_body(req).buf);
	free(m.p);
	fb_builder_free(&b);
}

static void test_response_round_trip(void **state)
{
	fb_builder_t b;
	msgbuf_t ok, err;
	fb_table_t r;

	(void)state;
	assert_int_equal(fb_builder_init(&b, 0), 0);
	ok = build_response(&b, true);
	fb_builder_clear(&b);
	err = build_response(&b, false);
	assert_int_equal(FBS_Message_Message_verify_root(ok.p, ok.len), 0);
	assert_int_equal(FBS_Message_Message_verify_root(err.p, err.len), 0);

	r = FBS_Message_Message_data(FBS_Message_Message_root(ok.p, ok.len));
	assert_int_equal(FBS_Response_Response_id(r), 77);
	assert_true(FBS_Response_Response_accepted(r));
	assert_false(FBS_Response_Response_has_error(r));
	assert_null(FBS_Response_Response_error(r).ptr);
	assert_int_equal(FBS_Response_Response_error(r).len, 0);
	assert_int_equal(FBS_Response_Response_body_type(r), FBS_Response_Body_NONE);

	r = FBS_Message_Message_data(FBS_Message_Message_root(err.p, err.len));
	assert_false(FBS_Response_Response_accepted(r));
	assert_false(FBS_Response_Response_has_accepted(r)); /* false is the default */
	assert_true(str_eq(FBS_Response_Response_error(r), "TypeError"));
	assert_true(str_eq(FBS_Response_Response_reason(r), "wrong \"routerId\""));
	free(ok.p);
	free(err.p);
	fb_builder_free(&b);
}

static void test_notification_and_log(void **state)
{
	fb_builder_t b;
	msgbuf_t n, l;
	fb_table_t t, body;
	fb_vec_t data;

	(void)state;
	assert_int_equal(fb_builder_init(&b, 0), 0);
	n = build_notification(&b);
	fb_builder_clear(&b);
	l = build_log(&b);
	assert_int_equal(FBS_Message_Message_verify_root(n.p, n.len), 0);
	t = FBS_Message_Message_data(FBS_Message_Message_root(n.p, n.len));
	assert_true(str_eq(FBS_Notification_Notification_handler_id(t), "transport-1"));
	assert_int_equal(FBS_Notification_Notification_event(t),
			 FBS_Notification_Event_TRANSPORT_SEND_RTCP);
	body = FBS_Notification_Notification_body(t);
	data = FBS_Transport_SendRtcpNotification_data(body);
	assert_int_equal(data.len, 9);
	assert_int_equal(fb_vec_u8(data, 0), 0x80);
	assert_int_equal(fb_vec_u8(data, 7), 0xef);
	assert_int_equal(fb_vec_u8(data, 8), 0);

	assert_int_equal(FBS_Message_Message_verify_root(l.p, l.len), 0);
	t = FBS_Message_Message_root(l.p, l.len);
	assert_int_equal(FBS_Message_Message_data_type(t), FBS_Message_Body_Log);
	assert_true(str_eq(FBS_Log_Log_data(FBS_Message_Message_data(t)), "D(worker) hello"));
	free(n.p);
	free(l.p);
	fb_builder_free(&b);
}

static void test_dump_response(void **state)
{
	fb_builder_t b;
	msgbuf_t m;
	fb_table_t r, d, h;
	fb_vec_t v;

	(void)state;
	assert_int_equal(fb_builder_init(&b, 0), 0);
	m = build_dump_response(&b);
	assert_int_equal(FBS_Message_Message_verify_root(m.p, m.len), 0);
	r = FBS_Message_Message_data(FBS_Message_Message_root(m.p, m.len));
	assert_int_equal(FBS_Response_Response_body_type(r), FBS_Response_Body_Worker_DumpResponse);
	d = FBS_Response_Response_body(r);
	assert_int_equal(FBS_Worker_DumpResponse_pid(d), 4242);
	v = FBS_Worker_DumpResponse_web_rtc_server_ids(d);
	assert_int_equal(v.len, 2);
	assert_true(str_eq(fb_vec_str(v, 0), "ws-1"));
	assert_true(str_eq(fb_vec_str(v, 1), "ws-2"));
	v = FBS_Worker_DumpResponse_router_ids(d);
	assert_int_equal(v.len, 3);
	assert_true(str_eq(fb_vec_str(v, 2), "r-3"));
	h = FBS_Worker_DumpResponse_channel_message_handlers(d);
	v = FBS_Worker_ChannelMessageHandlers_channel_request_handlers(h);
	assert_int_equal(v.len, 2);
	assert_true(str_eq(fb_vec_str(v, 0), "worker"));
	v = FBS_Worker_ChannelMessageHandlers_channel_notification_handlers(h);
	assert_int_equal(v.len, 1);
	assert_true(str_eq(fb_vec_str(v, 0), "transport-9"));
	free(m.p);
	fb_builder_free(&b);
}

static void test_optional_scalars(void **state)
{
	fb_builder_t b;
	msgbuf_t m;
	fb_table_t t, l, e;
	fb_ref_t rid, encs[2];

	(void)state;
	assert_int_equal(fb_builder_init(&b, 0), 0);
	m = build_consume_response(&b);
	assert_int_equal(FBS_Message_Message_verify_root(m.p, m.len), 0);
	t = FBS_Response_Response_body(FBS_Message_Message_data(FBS_Message_Message_root(m.p, m.len)));
	l = FBS_Transport_ConsumeResponse_preferred_layers(t);
	assert_true(FBS_Consumer_ConsumerLayers_has_temporal_layer(l)); /* set to 0: present */
	assert_int_equal(FBS_Consumer_ConsumerLayers_temporal_layer(l), 0);
	assert_int_equal(FBS_Consumer_ConsumerLayers_spatial_layer(l), 2);
	assert_false(FBS_Consumer_ConsumerScore_has_producer_score(FBS_Transport_ConsumeResponse_score(t)));
	free(m.p);

	fb_builder_clear(&b);
	{
		fb_ref_t codecs, hdrs, e0, e1, ev, rc, rp;

		rid = fb_create_cstring(&b, "r0");
		FBS_RtpParameters_RtpEncodingParameters_start(&b);
		FBS_RtpParameters_RtpEncodingParameters_add_ssrc(&b, 0);
		FBS_RtpParameters_RtpEncodingParameters_add_rid(&b, rid);
		FBS_RtpParameters_RtpEncodingParameters_add_max_bitrate(&b, UINT64_C(5000000000));
		e0 = FBS_RtpParameters_RtpEncodingParameters_end(&b);
		FBS_RtpParameters_RtpEncodingParameters_start(&b);
		e1 = FBS_RtpParameters_RtpEncodingParameters_end(&b);
		encs[0] = e0;
		encs[1] = e1;
		ev = fb_create_vec_refs(&b, encs, 2);
		codecs = fb_create_vec_refs(&b, NULL, 0);
		hdrs = fb_create_vec_refs(&b, NULL, 0);
		FBS_RtpParameters_RtcpParameters_start(&b);
		FBS_RtpParameters_RtcpParameters_add_reduced_size(&b, true);
		rc = FBS_RtpParameters_RtcpParameters_end(&b);
		FBS_RtpParameters_RtpParameters_start(&b);
		FBS_RtpParameters_RtpParameters_add_codecs(&b, codecs);
		FBS_RtpParameters_RtpParameters_add_header_extensions(&b, hdrs);
		FBS_RtpParameters_RtpParameters_add_encodings(&b, ev);
		FBS_RtpParameters_RtpParameters_add_rtcp(&b, rc);
		rp = FBS_RtpParameters_RtpParameters_end(&b);
		m = finish_copy(&b, rp);
	}
	assert_int_equal(FBS_RtpParameters_RtpParameters_verify_root(m.p, m.len), 0);
	t = FBS_RtpParameters_RtpParameters_root(m.p, m.len);
	assert_int_equal(FBS_RtpParameters_RtpParameters_codecs(t).len, 0);
	assert_non_null(FBS_RtpParameters_RtpParameters_codecs(t).buf);
	assert_null(FBS_RtpParameters_RtpParameters_mid(t).ptr);
	assert_false(FBS_RtpParameters_RtcpParameters_has_reduced_size(FBS_RtpParameters_RtpParameters_rtcp(t)));
	assert_true(FBS_RtpParameters_RtcpParameters_reduced_size(FBS_RtpParameters_RtpParameters_rtcp(t)));
	e = fb_vec_table(FBS_RtpParameters_RtpParameters_encodings(t), 0);
	assert_true(FBS_RtpParameters_RtpEncodingParameters_has_ssrc(e));
	assert_int_equal(FBS_RtpParameters_RtpEncodingParameters_ssrc(e), 0);
	assert_false(FBS_RtpParameters_RtpEncodingParameters_has_codec_payload_type(e));
	assert_int_equal(FBS_RtpParameters_RtpEncodingParameters_codec_payload_type(e), 0);
	assert_true(FBS_RtpParameters_RtpEncodingParameters_has_max_bitrate(e));
	assert_true(FBS_RtpParameters_RtpEncodingParameters_max_bitrate(e) == UINT64_C(5000000000));
	assert_false(FBS_RtpParameters_RtpEncodingParameters_has_dtx(e));
	assert_true(str_eq(FBS_RtpParameters_RtpEncodingParameters_rid(e), "r0"));
	e = fb_vec_table(FBS_RtpParameters_RtpParameters_encodings(t), 1);
	assert_false(FBS_RtpParameters_RtpEncodingParameters_has_ssrc(e));
	assert_false(FBS_RtpParameters_RtpEncodingParameters_has_max_bitrate(e));
	assert_null(FBS_RtpParameters_RtpEncodingParameters_rtx(e).buf);
	free(m.p);
	fb_builder_free(&b);
}

static void test_all_scalar_kinds(void **state)
{
	fb_builder_t b;
	msgbuf_t m;
	fb_table_t t, o;
	fb_vec_t v;
	uint32_t i;

	(void)state;
	assert_int_equal(fb_builder_init(&b, 0), 0);
	m = build_all(&b);
	assert_int_equal(FbTest_All_verify_root(m.p, m.len), 0);
	t = FbTest_All_root(m.p, m.len);
	assert_false(FbTest_All_b(t));
	assert_int_equal(FbTest_All_i8(t), -128);
	assert_int_equal(FbTest_All_u8(t), 1);
	assert_int_equal(FbTest_All_i16(t), 32767);
	assert_int_equal(FbTest_All_u16(t), 1);
	assert_true(FbTest_All_i32(t) == INT32_MIN);
	assert_true(FbTest_All_u32(t) == UINT32_MAX);
	assert_true(FbTest_All_i64(t) == INT64_MIN);
	assert_true(FbTest_All_u64(t) == UINT64_MAX);
	assert_true(FbTest_All_f32(t) == -0.5f);
	assert_true(FbTest_All_f64(t) == 1e-300);
	assert_true(FbTest_All_f_nan(t) == 1.0);
	assert_true(FbTest_All_f_inf(t) == 2.0f);
	assert_int_equal(FbTest_All_color(t), FbTest_Color_Red);
	assert_true(FbTest_All_big(t) == FbTest_Big_Huge);
	assert_true(FbTest_All_has_o_b(t) && !FbTest_All_o_b(t));
	assert_true(FbTest_All_has_o_i8(t) && FbTest_All_has_o_u8(t) && FbTest_All_has_o_u16(t));
	assert_int_equal(FbTest_All_o_i16(t), -2);
	assert_int_equal(FbTest_All_o_u32(t), 3);
	assert_true(FbTest_All_has_o_i64(t) && FbTest_All_has_o_u64(t) && FbTest_All_has_o_i32(t));
	assert_true(FbTest_All_has_o_f32(t) && FbTest_All_has_o_f64(t) && FbTest_All_has_o_color(t));
	assert_true(str_eq(FbTest_All_s(t), "hello"));
	assert_int_equal(FbTest_All_thing_type(t), FbTest_Thing_Other);
	o = FbTest_All_thing(t);
	assert_int_equal(FbTest_Other_x(o), 65000);
	assert_true(str_eq(FbTest_Inner_name(FbTest_All_inner(t)), "inner"));
	assert_int_equal(FbTest_Inner_n(FbTest_All_inner(t)), -9);
	assert_true(FbTest_Inner_has_n(FbTest_All_inner(t)));

	v = FbTest_All_v_bool(t);
	assert_int_equal(v.len, 3);
	for (i = 0; i < v.len; i++)
		assert_true(fb_vec_bool(v, i) == v_bool[i]);
	v = FbTest_All_v_i8(t);
	for (i = 0; i < 3; i++)
		assert_int_equal(fb_vec_i8(v, i), v_i8[i]);
	v = FbTest_All_v_u8(t);
	for (i = 0; i < 3; i++)
		assert_int_equal(fb_vec_u8(v, i), v_u8[i]);
	v = FbTest_All_v_i16(t);
	for (i = 0; i < 3; i++)
		assert_int_equal(fb_vec_i16(v, i), v_i16[i]);
	v = FbTest_All_v_u16(t);
	assert_int_equal(v.pos % 2, 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(fb_vec_u16(v, i), v_u16[i]);
	v = FbTest_All_v_i32(t);
	for (i = 0; i < 3; i++)
		assert_true(fb_vec_i32(v, i) == v_i32[i]);
	v = FbTest_All_v_u32(t);
	assert_int_equal(v.pos % 4, 0);
	for (i = 0; i < 3; i++)
		assert_true(fb_vec_u32(v, i) == v_u32[i]);
	v = FbTest_All_v_i64(t);
	for (i = 0; i < 3; i++)
		assert_true(fb_vec_i64(v, i) == v_i64[i]);
	v = FbTest_All_v_u64(t);
	assert_int_equal(v.len, 3);
	assert_int_equal(v.pos % 8, 0); /* 64-bit elements 8-aligned in the buffer */
	for (i = 0; i < 3; i++)
		assert_true(fb_vec_u64(v, i) == v_u64[i]);
	v = FbTest_All_v_f32(t);
	for (i = 0; i < 3; i++)
		assert_true(fb_vec_f32(v, i) == v_f32[i]);
	v = FbTest_All_v_f64(t);
	assert_int_equal(v.pos % 8, 0);
	for (i = 0; i < 3; i++)
		assert_true(fb_vec_f64(v, i) == v_f64[i]);
	v = FbTest_All_v_color(t);
	assert_int_equal(v.len, 2);
	assert_int_equal(fb_vec_i8(v, 0), FbTest_Color_Red);
	v = FbTest_All_v_str(t);
	assert_int_equal(v.len, 3);
	assert_true(str_eq(fb_vec_str(v, 0), "a"));
	assert_true(str_eq(fb_vec_str(v, 1), ""));
	assert_true(str_eq(fb_vec_str(v, 2), "ccc"));
	v = FbTest_All_v_inner(t);
	assert_int_equal(v.len, 2);
	assert_true(str_eq(FbTest_Inner_name(fb_vec_table(v, 0)), "x"));
	assert_int_equal(FbTest_Inner_n(fb_vec_table(v, 0)), 1);
	assert_null(FbTest_Inner_name(fb_vec_table(v, 1)).ptr);
	assert_false(FbTest_Inner_has_n(fb_vec_table(v, 1))); /* 7 is the default */
	assert_int_equal(FbTest_Inner_n(fb_vec_table(v, 1)), 7);
	assert_null(FbTest_All_v_all(t).buf);
	assert_int_equal(FbTest_All_v_all(t).len, 0);
	assert_int_equal(FbTest_All_i32(FbTest_All_nested(t)), 17);
	assert_int_equal(m.len % 8, 0);
	free(m.p);
	fb_builder_free(&b);
}

static void test_defaults(void **state)
{
	fb_builder_t b;
	msgbuf_t m;
	fb_table_t t;

	(void)state;
	assert_int_equal(fb_builder_init(&b, 0), 0);
	FbTest_All_start(&b);
	/* values equal to the defaults are not written */
	FbTest_All_add_b(&b, true);
	FbTest_All_add_i8(&b, -5);
	FbTest_All_add_u32(&b, 4000000000u);
	FbTest_All_add_i64(&b, INT64_C(-5000000000));
	FbTest_All_add_u64(&b, UINT64_C(9000000000000000000));
	FbTest_All_add_f32(&b, 1.5f);
	FbTest_All_add_f64(&b, -2.25);
	FbTest_All_add_f_nan(&b, NAN);
	FbTest_All_add_f_inf(&b, -INFINITY);
	FbTest_All_add_color(&b, FbTest_Color_Blue);
	m = finish_copy(&b, FbTest_All_end(&b));
	assert_int_equal(FbTest_All_verify_root(m.p, m.len), 0);
	t = FbTest_All_root(m.p, m.len);
	assert_false(FbTest_All_has_b(t) || FbTest_All_has_i8(t) || FbTest_All_has_u32(t) ||
		     FbTest_All_has_i64(t) || FbTest_All_has_u64(t) || FbTest_All_has_f32(t) ||
		     FbTest_All_has_f64(t) || FbTest_All_has_f_nan(t) || FbTest_All_has_f_inf(t) ||
		     FbTest_All_has_color(t));
	assert_true(FbTest_All_b(t));
	assert_int_equal(FbTest_All_i8(t), -5);
	assert_int_equal(FbTest_All_u8(t), 200);
	assert_int_equal(FbTest_All_i16(t), -300);
	assert_int_equal(FbTest_All_u16(t), 60000);
	assert_int_equal(FbTest_All_i32(t), -100000);
	assert_true(FbTest_All_u32(t) == 4000000000u);
	assert_true(FbTest_All_i64(t) == INT64_C(-5000000000));
	assert_true(FbTest_All_u64(t) == UINT64_C(9000000000000000000));
	assert_true(FbTest_All_f32(t) == 1.5f);
	assert_true(FbTest_All_f64(t) == -2.25);
	assert_true(isnan(FbTest_All_f_nan(t)));
	assert_true(isinf(FbTest_All_f_inf(t)) && FbTest_All_f_inf(t) < 0);
	assert_int_equal(FbTest_All_color(t), FbTest_Color_Blue);
	assert_true(FbTest_All_big(t) == FbTest_Big_Zero);
	assert_false(FbTest_All_has_o_i32(t));
	assert_int_equal(FbTest_All_o_i32(t), 0);
	assert_false(FbTest_All_o_b(t));
	assert_true(FbTest_All_o_f64(t) == 0.0);
	assert_null(FbTest_All_s(t).ptr);
	assert_int_equal(FbTest_All_thing_type(t), FbTest_Thing_NONE);
	/* a root table with no fields at all: the vtable is just 4 bytes */
	assert_int_equal(fb__ld_u16(m.p + vtable_of(m.p, fb__ld_u32(m.p))), 4);
	free(m.p);
	fb_builder_free(&b);
}

static void test_enum_names_and_constants(void **state)
{
	(void)state;
	assert_int_equal(FBS_Request_Method_WORKER_DUMP, 0);
	assert_int_equal(FBS_Request_Method_WORKER_CREATE_ROUTER, 4);
	assert_int_equal(FBS_Message_Body_NONE, 0);
	assert_int_equal(FBS_Message_Body_Request, 1);
	assert_int_equal(FBS_Message_Body_Log, 4);
	assert_int_equal(FBS_Request_Body_NONE, 0);
	assert_int_equal(FBS_Request_Body_Worker_CreateRouterRequest, 4);
	assert_int_equal(FBS_Transport_Protocol_UDP, 1);
	assert_int_equal(FBS_Transport_Protocol_TCP, 2);
	assert_string_equal(FBS_Request_Method_name(FBS_Request_Method_WORKER_DUMP), "WORKER_DUMP");
	assert_string_equal(FBS_Request_Method_name(FBS_Request_Method_RTPOBSERVER_REMOVE_PRODUCER),
			    "RTPOBSERVER_REMOVE_PRODUCER");
	assert_null(FBS_Request_Method_name(255));
	assert_null(FBS_Request_Method_name(-1));
	assert_string_equal(FBS_Message_Body_name(FBS_Message_Body_Notification), "Notification");
	assert_string_equal(FBS_Request_Body_name(0), "NONE");
	assert_null(FBS_Transport_Protocol_name(0));
	assert_string_equal(FbTest_Color_name(-1), "Red");
	assert_string_equal(FbTest_Big_name((int64_t)FbTest_Big_Huge), "Huge");
	assert_null(FbTest_Big_name(1));
}

/* --------------------------------------------------------------- builder */

static void test_builder_errors(void **state)
{
	fb_builder_t b;
	const uint8_t *out;
	size_t len;
	fb_ref_t r, s;
	int e;

	(void)state;
	assert_int_equal(fb_builder_init(&b, 0), 0);

	/* missing required field */
	FBS_Log_Log_start(&b);
	assert_int_equal(FBS_Log_Log_end(&b), 0);
	assert_int_equal(fb_builder_error(&b), FB_EREQUIRED);
	/* sticky: everything is a no-op now */
	assert_int_equal(fb_create_cstring(&b, "x"), 0);
	assert_int_equal(fb_builder_finish(&b, 4, &out, &len), FB_EREQUIRED);
	assert_null(out);
	assert_int_equal(len, 0);

	/* clear resets the error */
	fb_builder_clear(&b);
	assert_int_equal(fb_builder_error(&b), 0);
	s = fb_create_cstring(&b, "x");
	assert_int_not_equal(s, 0);

	/* nested table start, vector or string inside an open table */
	FBS_Log_Log_start(&b);
	FBS_Log_Log_start(&b);
	assert_int_equal(fb_builder_error(&b), FB_ENESTED);
	fb_builder_clear(&b);
	FBS_Log_Log_start(&b);
	assert_int_equal(fb_create_vec_refs(&b, NULL, 0), 0);
	assert_int_equal(fb_builder_error(&b), FB_ENESTED);
	fb_builder_clear(&b);
	FBS_Log_Log_start(&b);
	assert_int_equal(fb_create_cstring(&b, "nope"), 0);
	assert_int_equal(fb_builder_error(&b), FB_ENESTED);
	fb_builder_clear(&b);

	/* union type without value, value without type */
	r = fb_create_cstring(&b, "y");
	FBS_Message_Message_start(&b);
	FBS_Message_Message_add_data(&b, FBS_Message_Body_Log, 0);
	assert_int_equal(fb_builder_error(&b), FB_EUNION);
	fb_builder_clear(&b);
	r = fb_create_cstring(&b, "y");
	FBS_Message_Message_start(&b);
	FBS_Message_Message_add_data(&b, FBS_Message_Body_NONE, r);
	assert_int_equal(fb_builder_error(&b), FB_EUNION);
	fb_builder_clear(&b);

	/* bad arguments */
	assert_int_equal(fb_create_vec_refs(&b, (const fb_ref_t[]){ 0 }, 1), 0);
	assert_int_equal(fb_builder_error(&b), FB_EINVAL);
	fb_builder_clear(&b);
	assert_int_equal(fb_create_vec_scalars(&b, v_u8, 3, 1), 0);
	assert_int_equal(fb_builder_error(&b), FB_EINVAL);
	fb_builder_clear(&b);
	assert_int_equal(fb_create_cstring(&b, NULL), 0);
	assert_int_equal(fb_builder_error(&b), FB_EINVAL);
	fb_builder_clear(&b);
	assert_int_equal(fb_create_vec_scalars(&b, v_u8, 8, SIZE_MAX / 4), 0);
	assert_int_equal(fb_builder_error(&b), FB_ETOOBIG);
	fb_builder_clear(&b);
	assert_int_equal(fb_builder_finish(&b, 0, &out, &len), FB_EINVAL);
	fb_builder_clear(&b);
	assert_int_equal(FBS_Log_Log_end(&b), 0); /* end without start */
	assert_int_equal(fb_builder_error(&b), FB_EINVAL);
	fb_builder_clear(&b);
	r = fb_create_cstring(&b, "z");
	assert_int_equal(fb_builder_finish(&b, r + 100, &out, &len), FB_EINVAL);

	/* every code has its own text */
	for (e = FB_EINVAL; e <= FB_ENOMEM; e++) {
		int k;
		assert_string_not_equal(fb_strerror(e), "unknown error");
		for (k = e + 1; k <= FB_ENOMEM; k++)
			assert_string_not_equal(fb_strerror(e), fb_strerror(k));
	}
	assert_string_equal(fb_strerror(0), "success");
	assert_string_equal(fb_strerror(-1000), "unknown error");
	fb_builder_free(&b);
	fb_builder_free(&b); /* idempotent */
}

static void test_builder_reuse_is_deterministic(void **state)
{
	fb_builder_t b;
	msgbuf_t m1, m2;

	(void)state;
	assert_int_equal(fb_builder_init(&b, 1), 0); /* tiny: forces growth */
	m1 = build_dump_response(&b);
	fb_builder_clear(&b);
	m2 = build_dump_response(&b);
	assert_int_equal(m1.len, m2.len);
	assert_memory_equal(m1.p, m2.p, m1.len);
	free(m1.p);
	free(m2.p);
	fb_builder_free(&b);
}

static void test_vtable_dedup(void **state)
{
	fb_builder_t b;
	msgbuf_t m;
	fb_ref_t inners[3];
	fb_table_t t;
	fb_vec_t v;
	uint32_t vt0;
	fb_ref_t vec;

	(void)state;
	assert_int_equal(fb_builder_init(&b, 0), 0);
	inners[0] = build_inner(&b, "a", 1);
	inners[1] = build_inner(&b, "b", 2);
	inners[2] = build_inner(&b, "c", 3);
	vec = fb_create_vec_refs(&b, inners, 3);
	FbTest_All_start(&b);
	FbTest_All_add_v_inner(&b, vec);
	m = finish_copy(&b, FbTest_All_end(&b));
	assert_int_equal(FbTest_All_verify_root(m.p, m.len), 0);
	t = FbTest_All_root(m.p, m.len);
	v = FbTest_All_v_inner(t);
	vt0 = vtable_of(m.p, fb_vec_table(v, 0).pos);
	assert_int_equal(vtable_of(m.p, fb_vec_table(v, 1).pos), vt0);
	assert_int_equal(vtable_of(m.p, fb_vec_table(v, 2).pos), vt0);
	assert_int_equal(FbTest_Inner_n(fb_vec_table(v, 2)), 3);
	free(m.p);
	fb_builder_free(&b);
}

static void test_big_buffer(void **state)
{
	fb_builder_t b;
	msgbuf_t m;
	char *big;
	fb_ref_t refs[200];
	size_t i;
	fb_ref_t s, v, l;
	fb_table_t t;

	(void)state;
	big = malloc(1 << 20);
	assert_non_null(big);
	memset(big, 'q', 1 << 20);
	assert_int_equal(fb_builder_init(&b, 8), 0);
	for (i = 0; i < 200; i++)
		refs[i] = fb_create_string(&b, big, i * 100);
	v = fb_create_vec_refs(&b, refs, 200);
	s = fb_create_string(&b, big, 1 << 20);
	FbTest_All_start(&b);
	FbTest_All_add_s(&b, s);
	FbTest_All_add_v_str(&b, v);
	l = FbTest_All_end(&b);
	m = finish_copy(&b, l);
	assert_int_equal(FbTest_All_verify_root(m.p, m.len), 0);
	t = FbTest_All_root(m.p, m.len);
	assert_int_equal(FbTest_All_s(t).len, 1 << 20);
	assert_int_equal(FbTest_All_v_str(t).len, 200);
	assert_int_equal(fb_vec_str(FbTest_All_v_str(t), 199).len, 19900);
	free(m.p);
	free(big);
	fb_builder_free(&b);
}

/* -------------------------------------------------------------- verifier */

/* Bytes of zero padding at the end (unreferenced when they follow the NUL of
 * the first string built, so cutting them may leave a valid buffer). */
static size_t trailing_zeros(const msgbuf_t *m)
{
	size_t n = 0;

	while (n < m->len && m->p[m->len - 1 - n] == 0)
		n++;
	return n;
}

static void check_truncations(const msgbuf_t *m, verify_fn verify, touch_fn touch)
{
	size_t cut, keep = m->len - trailing_zeros(m);

	for (cut = 0; cut < m->len; cut++) {
		uint8_t *p = dup_bytes(m->p, cut);
		int r = verify(p, cut);
		if (cut < keep) {
			assert_true(r < 0);
		} else if (r == 0) {
			uint64_t acc = 0;
			touch(fb__root(p, cut), &acc);
		}
		free(p);
	}
}

static void test_truncations(void **state)
{
	fb_builder_t b;
	msgbuf_t msgs[7];
	size_t i;

	(void)state;
	assert_int_equal(fb_builder_init(&b, 0), 0);
	msgs[0] = build_request_create_router(&b);
	fb_builder_clear(&b);
	msgs[1] = build_response(&b, false);
	fb_builder_clear(&b);
	msgs[2] = build_notification(&b);
	fb_builder_clear(&b);
	msgs[3] = build_log(&b);
	fb_builder_clear(&b);
	msgs[4] = build_dump_response(&b);
	fb_builder_clear(&b);
	msgs[5] = build_consume_response(&b);
	fb_builder_clear(&b);
	msgs[6] = build_all(&b);
	for (i = 0; i < 6; i++) {
		check_truncations(&msgs[i], FBS_Message_Message_verify_root, FBS_Message_Message_touch);
		free(msgs[i].p);
	}
	check_truncations(&msgs[6], FbTest_All_verify_root, FbTest_All_touch);
	free(msgs[6].p);
	fb_builder_free(&b);
}

static void test_bad_sizes_and_root(void **state)
{
	fb_builder_t b;
	msgbuf_t m;
	uint8_t *p;
	static const uint32_t roots[] = { 0xffffffffu, 0x80000000u, 2, 1 };
	size_t i;

	(void)state;
	assert_int_equal(FBS_Message_Message_verify_root(NULL, 16), FB_EINVAL);
	assert_int_equal(FBS_Message_Message_verify_root((const uint8_t *)"", 0), FB_ETRUNC);
	assert_int_equal(FBS_Message_Message_verify_root((const uint8_t *)"abc", 3), FB_ETRUNC);
	/* the size check comes before any read */
	assert_int_equal(FBS_Message_Message_verify_root((const uint8_t *)"abcd", (size_t)1 << 31),
			 FB_ETOOBIG);

	assert_int_equal(fb_builder_init(&b, 0), 0);
	m = build_log(&b);
	p = dup_bytes(m.p, m.len);
	for (i = 0; i < sizeof roots / sizeof roots[0]; i++) {
		wle32(p, roots[i]);
		assert_true(FBS_Message_Message_verify_root(p, m.len) < 0);
	}
	wle32(p, (uint32_t)m.len); /* just past the end */
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_ETRUNC);
	wle32(p, (uint32_t)m.len - 2);
	assert_true(FBS_Message_Message_verify_root(p, m.len) < 0);
	wle32(p, fb__ld_u32(m.p) + 2); /* misaligned table */
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_EALIGN);
	free(p);
	free(m.p);
	fb_builder_free(&b);
}

static void test_bad_vtables(void **state)
{
	fb_builder_t b;
	msgbuf_t m;
	uint8_t *p;
	uint32_t root, vt;

	(void)state;
	assert_int_equal(fb_builder_init(&b, 0), 0);
	m = build_log(&b);
	root = fb__ld_u32(m.p);
	vt = vtable_of(m.p, root);
	p = dup_bytes(m.p, m.len);

	wle32(p + root, (uint32_t)(int32_t)-(int32_t)m.len); /* vtable after the end */
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_ETRUNC);
	wle32(p + root, root + 4); /* vtable before the start */
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_ETRUNC);
	wle32(p + root, 0x80000000u);
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_ETRUNC);
	wle32(p + root, 1); /* odd vtable position */
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_EALIGN);
	memcpy(p, m.p, m.len);

	wle16(p + vt, 5); /* odd vtable size */
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_EVTABLE);
	wle16(p + vt, 2); /* too small */
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_EVTABLE);
	wle16(p + vt, 0xfffe); /* past the end */
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_ETRUNC);
	memcpy(p, m.p, m.len);
	wle16(p + vt + 2, 0xfff0); /* table inline size past the end */
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_ETRUNC);
	wle16(p + vt + 2, 2); /* smaller than the soffset */
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_EVTABLE);
	memcpy(p, m.p, m.len);
	wle16(p + vt + 4, 0xff00); /* field outside the table */
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_ETRUNC);
	wle16(p + vt + 4, 2); /* field overlapping the soffset */
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_EVTABLE);
	memcpy(p, m.p, m.len);
	wle16(p + vt + 6, (uint16_t)(fb__ld_u16(m.p + vt + 6) + 1)); /* misaligned offset field */
	assert_true(FBS_Message_Message_verify_root(p, m.len) < 0);
	free(p);
	free(m.p);
	fb_builder_free(&b);
}

static void test_bad_strings_and_vectors(void **state)
{
	fb_builder_t b;
	msgbuf_t m;
	uint8_t *p;
	fb_table_t t;
	fb_str_t s;
	fb_vec_t v;
	uint32_t spos, vpos;

	(void)state;
	assert_int_equal(fb_builder_init(&b, 0), 0);

	/* string without NUL, string length past the end */
	m = build_log(&b);
	t = FBS_Message_Message_data(FBS_Message_Message_root(m.p, m.len));
	s = FBS_Log_Log_data(t);
	spos = (uint32_t)((const uint8_t *)s.ptr - m.p) - 4;
	p = dup_bytes(m.p, m.len);
	p[spos + 4 + s.len] = 'x';
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_ESTRING);
	memcpy(p, m.p, m.len);
	wle32(p + spos, 0xffffffffu);
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_ETRUNC);
	wle32(p + spos, (uint32_t)m.len - spos - 4); /* NUL would be just past the end */
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_ETRUNC);
	free(p);
	free(m.p);
	fb_builder_clear(&b);

	/* huge vector lengths: bytes, strings, tables */
	m = build_dump_response(&b);
	t = FBS_Response_Response_body(FBS_Message_Message_data(FBS_Message_Message_root(m.p, m.len)));
	v = FBS_Worker_DumpResponse_router_ids(t);
	vpos = v.pos - 4;
	p = dup_bytes(m.p, m.len);
	wle32(p + vpos, 0x7fffffffu);
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_ETRUNC);
	wle32(p + vpos, 0xffffffffu);
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_ETRUNC);
	wle32(p + vpos, 0x40000000u); /* 4 * len wraps to 0 in 32 bits */
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_ETRUNC);
	memcpy(p, m.p, m.len);
	wle32(p + v.pos, 0xfffffff0u); /* element offset out of bounds */
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_ETRUNC);
	free(p);
	free(m.p);
	fb_builder_clear(&b);

	m = build_notification(&b);
	t = FBS_Notification_Notification_body(FBS_Message_Message_data(FBS_Message_Message_root(m.p, m.len)));
	v = FBS_Transport_SendRtcpNotification_data(t);
	p = dup_bytes(m.p, m.len);
	wle32(p + v.pos - 4, 0xffffffffu);
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_ETRUNC);
	wle32(p + v.pos - 4, (uint32_t)(m.len - v.pos + 1));
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_ETRUNC);
	wle32(p + v.pos - 4, (uint32_t)(m.len - v.pos)); /* exactly to the end: fine */
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), 0);
	free(p);
	free(m.p);
	fb_builder_free(&b);
}

static void test_missing_required(void **state)
{
	fb_builder_t b;
	msgbuf_t m;
	fb_ref_t log, s;

	(void)state;
	assert_int_equal(fb_builder_init(&b, 0), 0);
	/* bypass the generated end() to produce what a hostile peer could send */
	fb__table_start(&b, 1);
	log = fb__table_end(&b, NULL, 0);
	m = finish_copy(&b, wrap(&b, FBS_Message_Body_Log, log));
	assert_int_equal(FBS_Message_Message_verify_root(m.p, m.len), FB_EREQUIRED);
	free(m.p);

	fb_builder_clear(&b); /* Message without its required union */
	fb__table_start(&b, 2);
	m = finish_copy(&b, fb__table_end(&b, NULL, 0));
	assert_int_equal(FBS_Message_Message_verify_root(m.p, m.len), FB_EREQUIRED);
	free(m.p);

	fb_builder_clear(&b); /* required vectors missing three levels down */
	{
		static const char *const ids[] = { "r-1" };
		fb_ref_t vs = str_vec(&b, ids, 1), vr = str_vec(&b, ids, 1), h, d, r;

		fb__table_start(&b, 2);
		h = fb__table_end(&b, NULL, 0);
		FBS_Worker_DumpResponse_start(&b);
		FBS_Worker_DumpResponse_add_web_rtc_server_ids(&b, vs);
		FBS_Worker_DumpResponse_add_router_ids(&b, vr);
		FBS_Worker_DumpResponse_add_channel_message_handlers(&b, h);
		d = FBS_Worker_DumpResponse_end(&b);
		FBS_Response_Response_start(&b);
		FBS_Response_Response_add_body(&b, FBS_Response_Body_Worker_DumpResponse, d);
		r = FBS_Response_Response_end(&b);
		m = finish_copy(&b, wrap(&b, FBS_Message_Body_Response, r));
	}
	assert_int_equal(FBS_Message_Message_verify_root(m.p, m.len), FB_EREQUIRED);
	free(m.p);

	fb_builder_clear(&b); /* the generated end() refuses to build such tables */
	FBS_Worker_ChannelMessageHandlers_start(&b);
	s = FBS_Worker_ChannelMessageHandlers_end(&b);
	assert_int_equal(s, 0);
	assert_int_equal(fb_builder_error(&b), FB_EREQUIRED);
	fb_builder_free(&b);
}

static void test_bad_unions(void **state)
{
	fb_builder_t b;
	msgbuf_t m;
	uint8_t *p;
	fb_table_t root;
	uint32_t tpos;
	fb_ref_t s, l;

	(void)state;
	assert_int_equal(fb_builder_init(&b, 0), 0);
	m = build_request_create_router(&b);
	root = FBS_Message_Message_root(m.p, m.len);
	tpos = fb__field(root, 4); /* data_type */
	assert_int_not_equal(tpos, 0);
	p = dup_bytes(m.p, m.len);
	p[tpos] = 99; /* unknown type */
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_EUNION);
	p[tpos] = 0; /* NONE with a value */
	assert_int_equal(FBS_Message_Message_verify_root(p, m.len), FB_EUNION);
	p[tpos] = FBS_Message_Body_Log; /* wrong type: a Request is not a Log */
	assert_true(FBS_Message_Message_verify_root(p, m.len) < 0);
	p[tpos] = FBS_Message_Body_Response; /* a Request read as a Response */
	assert_true(FBS_Message_Message_verify_root(p, m.len) < 0);
	free(p);
	free(m.p);

	/* type without a value */
	fb_builder_clear(&b);
	fb__table_start(&b, 2);
	fb__add_scalar(&b, 0, FBS_Message_Body_Log, 1);
	m = finish_copy(&b, fb__table_end(&b, NULL, 0));
	assert_int_equal(FBS_Message_Message_verify_root(m.p, m.len), FB_EREQUIRED);
	free(m.p);

	fb_builder_clear(&b); /* optional union: type without value */
	s = fb_create_cstring(&b, "h");
	fb__table_start(&b, 5);
	fb__add_ref(&b, 2, s);
	fb__add_scalar(&b, 3, FBS_Request_Body_Worker_CreateRouterRequest, 1);
	l = fb__table_end(&b, NULL, 0);
	m = finish_copy(&b, wrap(&b, FBS_Message_Body_Request, l));
	assert_int_equal(FBS_Message_Message_verify_root(m.p, m.len), FB_EUNION);
	free(m.p);
	fb_builder_free(&b);
}

static fb_ref_t nest(fb_builder_t *b, int levels)
{
	fb_ref_t r = 0;
	int i;

	for (i = 0; i < levels; i++) {
		FbTest_All_start(b);
		FbTest_All_add_nested(b, r);
		FbTest_All_add_i32(b, i);
		r = FbTest_All_end(b);
	}
	return r;
}

static void test_depth_limit(void **state)
{
	fb_builder_t b;
	msgbuf_t m;
	uint64_t acc = 0;

	(void)state;
	assert_int_equal(fb_builder_init(&b, 0), 0);
	m = finish_copy(&b, nest(&b, FB_MAX_DEPTH));
	assert_int_equal(FbTest_All_verify_root(m.p, m.len), 0);
	FbTest_All_touch(FbTest_All_root(m.p, m.len), &acc);
	free(m.p);
	fb_builder_clear(&b);
	m = finish_copy(&b, nest(&b, FB_MAX_DEPTH + 1));
	assert_int_equal(FbTest_All_verify_root(m.p, m.len), FB_EDEPTH);
	free(m.p);
	fb_builder_clear(&b);
	m = finish_copy(&b, nest(&b, 1000));
	assert_int_equal(FbTest_All_verify_root(m.p, m.len), FB_EDEPTH);
	free(m.p);
	fb_builder_free(&b);
}

static void test_budget(void **state)
{
	fb_builder_t b;
	msgbuf_t m;
	fb_ref_t refs[1000], s, v, inner, outer;
	size_t i;

	(void)state;
	assert_int_equal(fb_builder_init(&b, 0), 0);
	/* Legitimate sharing: 1000 elements pointing at one string are fine. */
	s = fb_create_cstring(&b, "shared");
	for (i = 0; i < 1000; i++)
		refs[i] = s;
	v = fb_create_vec_refs(&b, refs, 1000);
	FbTest_All_start(&b);
	FbTest_All_add_v_str(&b, v);
	inner = FbTest_All_end(&b);
	m = finish_copy(&b, inner);
	assert_int_equal(FbTest_All_verify_root(m.p, m.len), 0);
	free(m.p);

	/* A DAG: 1000 references to that table = 10^6 visits from ~8 KB. */
	for (i = 0; i < 1000; i++)
		refs[i] = inner;
	fb_builder_clear(&b);
	s = fb_create_cstring(&b, "shared");
	{
		fb_ref_t srefs[1000];
		for (i = 0; i < 1000; i++)
			srefs[i] = s;
		v = fb_create_vec_refs(&b, srefs, 1000);
	}
	FbTest_All_start(&b);
	FbTest_All_add_v_str(&b, v);
	inner = FbTest_All_end(&b);
	for (i = 0; i < 1000; i++)
		refs[i] = inner;
	v = fb_create_vec_refs(&b, refs, 1000);
	FbTest_All_start(&b);
	FbTest_All_add_v_all(&b, v);
	outer = FbTest_All_end(&b);
	m = finish_copy(&b, outer);
	assert_true(m.len < 16384);
	assert_int_equal(FbTest_All_verify_root(m.p, m.len), FB_EBUDGET);
	free(m.p);
	fb_builder_free(&b);
}

/* ------------------------------------------------------- random mutations */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* Mutates copies of m; the verifier must never crash, and whatever it
 * accepts must be fully readable (touch reads every field). */
static void mutate(const msgbuf_t *m, verify_fn verify, touch_fn touch, unsigned rounds,
		   uint64_t seed, unsigned *accepted)
{
	static const uint32_t interesting[] = { 0, 1, 2, 3, 4, 8, 0x7fff, 0xffff, 0x7fffffff,
						0x80000000u, 0xfffffffc, 0xffffffffu };
	unsigned round;

	for (round = 0; round < rounds; round++) {
		uint8_t *p = dup_bytes(m->p, m->len);
		size_t len = m->len;
		unsigned n = 1 + (unsigned)(rng_next(&seed) % 4), k;
		int r;

		for (k = 0; k < n && len > 0; k++) {
			uint64_t x = rng_next(&seed);
			size_t at = (size_t)(x >> 8) % len;
			switch (x & 7) {
			case 0:
			case 1:
				p[at] ^= (uint8_t)(1u << ((x >> 40) & 7));
				break;
			case 2:
				p[at] = (uint8_t)(x >> 32);
				break;
			case 3:
			case 4:
				at &= ~(size_t)3;
				if (at + 4 <= len)
					wle32(p + at, interesting[(x >> 32) % 12]);
				break;
			case 5:
				at &= ~(size_t)1;
				if (at + 2 <= len)
					wle16(p + at, (uint16_t)(x >> 32));
				break;
			case 6:
				at &= ~(size_t)3;
				if (at + 4 <= len)
					wle32(p + at, (uint32_t)(fb__ld_u32(p + at) + ((x >> 32) % 9) - 4));
				break;
			default:
				len = at; /* truncate */
				break;
			}
		}
		if (len < m->len) { /* exact-size block so ASan sees overreads */
			uint8_t *q = dup_bytes(p, len);
			free(p);
			p = q;
		}
		r = verify(p, len);
		if (r == 0) {
			uint64_t acc = 0;
			touch(fb__root(p, len), &acc);
			(*accepted)++;
		} else {
			assert_true(r < 0);
			assert_string_not_equal(fb_strerror(r), "unknown error");
		}
		free(p);
	}
}

static void test_random_mutations(void **state)
{
	fb_builder_t b;
	msgbuf_t msgs[7];
	unsigned accepted = 0, rounds;
	size_t i;
	const char *env = getenv("FB_TEST_MUTATIONS");

	(void)state;
	rounds = env != NULL ? (unsigned)strtoul(env, NULL, 10) : 4000;
	assert_int_equal(fb_builder_init(&b, 0), 0);
	msgs[0] = build_request_create_router(&b);
	fb_builder_clear(&b);
	msgs[1] = build_response(&b, false);
	fb_builder_clear(&b);
	msgs[2] = build_notification(&b);
	fb_builder_clear(&b);
	msgs[3] = build_log(&b);
	fb_builder_clear(&b);
	msgs[4] = build_dump_response(&b);
	fb_builder_clear(&b);
	msgs[5] = build_consume_response(&b);
	fb_builder_clear(&b);
	msgs[6] = build_all(&b);
	for (i = 0; i < 6; i++)
		mutate(&msgs[i], FBS_Message_Message_verify_root, FBS_Message_Message_touch, rounds,
		       0x9e3779b97f4a7c15u + i, &accepted);
	mutate(&msgs[6], FbTest_All_verify_root, FbTest_All_touch, rounds * 2, 12345, &accepted);
	/* some mutations (e.g. of string bytes) keep the buffer valid */
	print_message("%u of %u mutated buffers verified and were touched\n", accepted, rounds * 8);
	assert_true(accepted > 0);
	for (i = 0; i < 7; i++)
		free(msgs[i].p);
	fb_builder_free(&b);
}

static void test_touch_is_deterministic(void **state)
{
	fb_builder_t b;
	msgbuf_t m1, m2;
	uint64_t a1 = 0, a2 = 0, a3 = 0;

	(void)state;
	assert_int_equal(fb_builder_init(&b, 0), 0);
	m1 = build_all(&b);
	fb_builder_clear(&b);
	m2 = build_dump_response(&b);
	FbTest_All_touch(FbTest_All_root(m1.p, m1.len), &a1);
	FbTest_All_touch(FbTest_All_root(m1.p, m1.len), &a2);
	FBS_Message_Message_touch(FBS_Message_Message_root(m2.p, m2.len), &a3);
	assert_true(a1 == a2);
	assert_true(a1 != a3);
	free(m1.p);
	free(m2.p);
	fb_builder_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_request_without_body),
		cmocka_unit_test(test_response_round_trip),
		cmocka_unit_test(test_notification_and_log),
		cmocka_unit_test(test_dump_response),
		cmocka_unit_test(test_optional_scalars),
		cmocka_unit_test(test_all_scalar_kinds),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_enum_names_and_constants),
		cmocka_unit_test(test_builder_errors),
		cmocka_unit_test(test_builder_reuse_is_deterministic),
		cmocka_unit_test(test_vtable_dedup),
		cmocka_unit_test(test_big_buffer),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_bad_sizes_and_root),
		cmocka_unit_test(test_bad_vtables),
		cmocka_unit_test(test_bad_strings_and_vectors),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_bad_unions),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_random_mutations),
		cmocka_unit_test(test_touch_is_deterministic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
