// Interop between our C FlatBuffers code (proto/) and the official
// flatbuffers JS library + mediasoup's generated classes, which is what the
// mediasoup Node side uses to talk to the worker.
//
//   FB_INTEROP_TOOL=build/proto/fb_interop_tool node --test tests/unit/fb_interop.test.mjs
//
// (`make proto-test` builds the tool and runs this.)  Both directions:
//  - JS builds messages the way mediasoup's Channel does; the C tool verifies
//    them and prints a JSON summary that must equal the summary JS reads back
//    from the same bytes (and the values that went in);
//  - the C tool builds Response/Notification/Log messages; JS reads them with
//    Message.getRootAsMessage()/unpack() and must see the same values.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const controller = path.join(root, 'node-controller');
const require = createRequire(path.join(controller, 'package.json'));
const lib = path.join(controller, 'node_modules/mediasoup/node/lib');
const flatbuffers = require('flatbuffers');
const fbs = (name) => require(path.join(lib, 'fbs', name));
const FbsMessage = fbs('message.js');
const FbsRequest = fbs('request.js');
const FbsResponse = fbs('response.js');
const FbsNotification = fbs('notification.js');
const FbsLog = fbs('log.js');
const FbsWorker = fbs('worker.js');
const FbsTransport = fbs('transport.js');
const FbsRtp = fbs('rtp-parameters.js');
const FbsDataProducer = fbs('data-producer.js');
const FbsDataConsumer = fbs('data-consumer.js');
const FbsWebRtcTransport = fbs('web-rtc-transport.js');
const FbsConsumer = fbs('consumer.js');
const FbsDirectTransport = fbs('direct-transport.js');
const { serializeRtpParameters } = require(path.join(lib, 'rtpParametersFbsUtils.js'));
const { serializeRtpMapping } = require(path.join(lib, 'ortc.js'));

const tool = process.env.FB_INTEROP_TOOL ?? path.join(root, 'build/proto/fb_interop_tool');

function runTool(args, input) {
	const res = spawnSync(tool, args, { input, maxBuffer: 64 << 20 });
	if (res.error) throw new Error(`cannot run ${tool}: ${res.error.message}`);
	return res;
}

function cRead(bytes) {
	const res = runTool(['read'], Buffer.from(bytes));
	const out = JSON.parse(res.stdout.toString('utf8'));
	assert.equal(res.status, 0, `C rejected the message: ${res.stdout}${res.stderr}`);
	return out;
}

function cEmit(kind) {
	const res = runTool(['emit', kind]);
	assert.equal(res.status, 0, `emit ${kind} failed: ${res.stderr}`);
	return new Uint8Array(res.stdout);
}

// ------------------------------------------------ JS-side summary (same shape
// as the C tool's JSON, read through mediasoup's generated accessors)

const u64 = (v) => (v === null ? null : String(v));
const list = (n, f) => Array.from({ length: n }, (_, i) => f(i));

function jsParameter(p) {
	const type = p.valueType();
	const name = FbsRtp.Value[type];
	let value = null;
	switch (type) {
	case FbsRtp.Value.Boolean: value = p.value(new FbsRtp.Boolean()).value(); break;
	case FbsRtp.Value.Integer32: value = p.value(new FbsRtp.Integer32()).value(); break;
	case FbsRtp.Value.Double: value = p.value(new FbsRtp.Double()).value(); break;
	case FbsRtp.Value.String: value = p.value(new FbsRtp.String()).value(); break;
	case FbsRtp.Value.Integer32Array: {
		const a = p.value(new FbsRtp.Integer32Array());
		value = list(a.valueLength(), (i) => a.value(i));
		break;
	}
	}
	return { name: p.name(), value_type: name, value };
}

function jsRtpParameters(rp) {
	return {
		mid: rp.mid(),
		codecs: list(rp.codecsLength(), (i) => {
			const c = rp.codecs(i);
			return {
				mime_type: c.mimeType(),
				payload_type: c.payloadType(),
				clock_rate: c.clockRate(),
				channels: c.channels(),
				parameters: list(c.parametersLength(), (j) => jsParameter(c.parameters(j))),
				rtcp_feedback: list(c.rtcpFeedbackLength(), (j) => ({
					type: c.rtcpFeedback(j).type(),
					parameter: c.rtcpFeedback(j).parameter(),
				})),
			};
		}),
		header_extensions: list(rp.headerExtensionsLength(), (i) => {
			const h = rp.headerExtensions(i);
			return { uri: FbsRtp.RtpHeaderExtensionUri[h.uri()], id: h.id(), encrypt: h.encrypt() };
		}),
		encodings: list(rp.encodingsLength(), (i) => {
			const e = rp.encodings(i);
			const rtx = e.rtx();
			return {
				ssrc: e.ssrc(),
				rid: e.rid(),
				codec_payload_type: e.codecPayloadType(),
				rtx_ssrc: rtx === null ? null : rtx.ssrc(),
				dtx: e.dtx(),
				scalability_mode: e.scalabilityMode(),
				max_bitrate: u64(e.maxBitrate()),
			};
		}),
		rtcp: { cname: rp.rtcp().cname(), reduced_size: rp.rtcp().reducedSize() },
		msid: rp.msid(),
	};
}

function jsRequestBody(r) {
	const B = FbsRequest.Body;
	switch (r.bodyType()) {
	case B.NONE:
		return null;
	case B.Worker_CreateRouterRequest:
		return { router_id: r.body(new FbsWorker.CreateRouterRequest()).routerId() };
	case B.Worker_UpdateSettingsRequest: {
		const b = r.body(new FbsWorker.UpdateSettingsRequest());
		return { log_level: b.logLevel(), log_tags: list(b.logTagsLength(), (i) => b.logTags(i)) };
	}
	case B.DataConsumer_SetSubchannelsRequest: {
		const b = r.body(new FbsDataConsumer.SetSubchannelsRequest());
		return { subchannels: list(b.subchannelsLength(), (i) => b.subchannels(i)) };
	}
	case B.Transport_ProduceRequest: {
		const b = r.body(new FbsTransport.ProduceRequest());
		const map = b.rtpMapping();
		return {
			producer_id: b.producerId(),
			kind: FbsRtp.MediaKind[b.kind()],
			paused: b.paused(),
			key_frame_request_delay: b.keyFrameRequestDelay(),
			rtp_parameters: jsRtpParameters(b.rtpParameters()),
			rtp_mapping: {
				codecs: list(map.codecsLength(), (i) => [
					map.codecs(i).payloadType(),
					map.codecs(i).mappedPayloadType(),
				]),
				encodings: list(map.encodingsLength(), (i) => ({
					rid: map.encodings(i).rid(),
					ssrc: map.encodings(i).ssrc(),
					mapped_ssrc: map.encodings(i).mappedSsrc(),
				})),
			},
		};
	}
	default:
		return {};
	}
}

function jsNotificationBody(n) {
	const B = FbsNotification.Body;
	switch (n.bodyType()) {
	case B.NONE:
		return null;
	case B.Transport_SendRtcpNotification: {
		const b = n.body(new FbsTransport.SendRtcpNotification());
		return { data: list(b.dataLength(), (i) => b.data(i)) };
	}
	case B.DataProducer_SendNotification: {
		const b = n.body(new FbsDataProducer.SendNotification());
		return {
			ppid: b.ppid(),
			data: list(b.dataLength(), (i) => b.data(i)),
			// The C tool prints an absent vector as null.
			subchannels: b.subchannelsArray() === null ? null : list(b.subchannelsLength(), (i) => b.subchannels(i)),
			required_subchannel: b.requiredSubchannel(),
			ignored_subchannel: b.ignoredSubchannel(),
		};
	}
	case B.WebRtcTransport_IceStateChangeNotification: {
		const b = n.body(new FbsWebRtcTransport.IceStateChangeNotification());
		return { ice_state: FbsWebRtcTransport.IceState[b.iceState()] };
	}
	default:
		return {};
	}
}

function jsResponseBody(r) {
	const B = FbsResponse.Body;
	switch (r.bodyType()) {
	case B.NONE:
		return null;
	case B.Worker_DumpResponse: {
		const d = r.body(new FbsWorker.DumpResponse()).unpack();
		return {
			pid: d.pid,
			web_rtc_server_ids: d.webRtcServerIds,
			router_ids: d.routerIds,
			channel_request_handlers: d.channelMessageHandlers.channelRequestHandlers,
			channel_notification_handlers: d.channelMessageHandlers.channelNotificationHandlers,
		};
	}
	case B.Transport_ConsumeResponse: {
		const c = r.body(new FbsTransport.ConsumeResponse()).unpack();
		return {
			paused: c.paused,
			producer_paused: c.producerPaused,
			score: {
				score: c.score.score,
				producer_score: c.score.producerScore,
				producer_scores: c.score.producerScores,
			},
			preferred_layers: c.preferredLayers === null ? null : {
				spatial_layer: c.preferredLayers.spatialLayer,
				temporal_layer: c.preferredLayers.temporalLayer,
			},
		};
	}
	case B.DirectTransport_GetStatsResponse: {
		const s = r.body(new FbsDirectTransport.GetStatsResponse()).unpack().base;
		return {
			transport_id: s.transportId,
			timestamp: u64(s.timestamp),
			bytes_received: u64(s.bytesReceived),
			available_outgoing_bitrate: u64(s.availableOutgoingBitrate),
			rtp_packet_loss_received: s.rtpPacketLossReceived,
			rtp_packet_loss_sent: s.rtpPacketLossSent,
		};
	}
	default:
		return {};
	}
}

function jsSummary(bytes) {
	const msg = FbsMessage.Message.getRootAsMessage(new flatbuffers.ByteBuffer(bytes));
	const type = msg.dataType();
	const out = { type: FbsMessage.Body[type] };
	switch (type) {
	case FbsMessage.Body.Request: {
		const r = msg.data(new FbsRequest.Request());
		out.request = {
			id: r.id(),
			method: FbsRequest.Method[r.method()],
			handler_id: r.handlerId(),
			body_type: FbsRequest.Body[r.bodyType()],
			body: jsRequestBody(r),
		};
		break;
	}
	case FbsMessage.Body.Response: {
		const r = msg.data(new FbsResponse.Response());
		out.response = {
			id: r.id(),
			accepted: r.accepted(),
			error: r.error(),
			reason: r.reason(),
			body_type: FbsResponse.Body[r.bodyType()],
			body: jsResponseBody(r),
		};
		break;
	}
	case FbsMessage.Body.Notification: {
		const n = msg.data(new FbsNotification.Notification());
		out.notification = {
			handler_id: n.handlerId(),
			event: FbsNotification.Event[n.event()],
			body_type: FbsNotification.Body[n.bodyType()],
			body: jsNotificationBody(n),
		};
		break;
	}
	case FbsMessage.Body.Log:
		out.log = msg.data(new FbsLog.Log()).data();
		break;
	}
	return out;
}

// ------------------------------------------- JS builders (as Channel.js does)

function finishRequest(builder, id, method, handlerId, bodyType, bodyOffset) {
	const handlerIdOffset = builder.createString(handlerId);
	const req = bodyType
		? FbsRequest.Request.createRequest(builder, id, method, handlerIdOffset, bodyType, bodyOffset)
		: FbsRequest.Request.createRequest(builder, id, method, handlerIdOffset, FbsRequest.Body.NONE, 0);
	builder.finish(FbsMessage.Message.createMessage(builder, FbsMessage.Body.Request, req));
	return builder.asUint8Array().slice();
}

function finishNotification(builder, event, handlerId, bodyType, bodyOffset) {
	const handlerIdOffset = builder.createString(handlerId);
	const n = FbsNotification.Notification.createNotification(builder, handlerIdOffset, event, bodyType, bodyOffset);
	builder.finish(FbsMessage.Message.createMessage(builder, FbsMessage.Body.Notification, n));
	return builder.asUint8Array().slice();
}

const rtpParameters = {
	mid: 'video-1',
	codecs: [
		{
			mimeType: 'video/VP8',
			payloadType: 96,
			clockRate: 90000,
			// Only strings and numbers: mediasoup's ortc validation rejects other
			// values, and serializeParameters() encodes booleans and arrays
			// incorrectly (see the "malformed" test below).
			parameters: { 'x-google-start-bitrate': 1000, foo: 'bar', ratio: 0.5, 'packetization-mode': 1 },
			rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'goog-remb', parameter: '' }],
		},
		{
			mimeType: 'video/rtx',
			payloadType: 97,
			clockRate: 90000,
			channels: 2,
			parameters: { apt: 96 },
			rtcpFeedback: [],
		},
	],
	headerExtensions: [
		{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1, encrypt: false, parameters: {} },
		{ uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', id: 4, encrypt: true, parameters: {} },
	],
	encodings: [
		{ ssrc: 11111111, rtx: { ssrc: 22222222 }, maxBitrate: 500000, scalabilityMode: 'L1T3', dtx: false },
		{ rid: 'r1', codecPayloadType: 96, maxBitrate: 5000000000 },
		{ rid: 'r2', dtx: true },
	],
	rtcp: { cname: 'cname-ü-€', reducedSize: false },
	msid: 'stream track',
};

const rtpMapping = {
	codecs: [{ payloadType: 96, mappedPayloadType: 101 }, { payloadType: 97, mappedPayloadType: 102 }],
	encodings: [
		{ ssrc: 11111111, mappedSsrc: 333 },
		{ rid: 'r1', mappedSsrc: 334 },
		{ rid: 'r2', mappedSsrc: 335 },
	],
};

const jsMessages = {
	'create-router': () => {
		const b = new flatbuffers.Builder(1024);
		const idOffset = b.createString('router-abc');
		const body = FbsWorker.CreateRouterRequest.createCreateRouterRequest(b, idOffset);
		return finishRequest(b, 1, FbsRequest.Method.WORKER_CREATE_ROUTER, '',
			FbsRequest.Body.Worker_CreateRouterRequest, body);
	},
	'worker-dump (no body)': () =>
		finishRequest(new flatbuffers.Builder(64), 4294967295, FbsRequest.Method.WORKER_DUMP, ''),
	'update-settings': () => {
		const b = new flatbuffers.Builder(1024);
		const body = new FbsWorker.UpdateSettingsRequestT('debug', ['info', 'ice', 'rtp', '']).pack(b);
		return finishRequest(b, 2, FbsRequest.Method.WORKER_UPDATE_SETTINGS, '',
			FbsRequest.Body.Worker_UpdateSettingsRequest, body);
	},
	'set-subchannels': () => {
		const b = new flatbuffers.Builder(1024);
		const v = FbsDataConsumer.SetSubchannelsRequest.createSubchannelsVector(b, [0, 1, 65535, 12345]);
		const body = FbsDataConsumer.SetSubchannelsRequest.createSetSubchannelsRequest(b, v);
		return finishRequest(b, 3, FbsRequest.Method.DATACONSUMER_SET_SUBCHANNELS, 'dc-1',
			FbsRequest.Body.DataConsumer_SetSubchannelsRequest, body);
	},
	produce: () => {
		// Same construction as mediasoup's Transport.createProduceRequest().
		const b = new flatbuffers.Builder(1024);
		const producerIdOffset = b.createString('producer-xyz');
		const rtpParametersOffset = serializeRtpParameters(b, rtpParameters);
		const rtpMappingOffset = serializeRtpMapping(b, rtpMapping);
		FbsTransport.ProduceRequest.startProduceRequest(b);
		FbsTransport.ProduceRequest.addProducerId(b, producerIdOffset);
		FbsTransport.ProduceRequest.addKind(b, FbsRtp.MediaKind.VIDEO);
		FbsTransport.ProduceRequest.addRtpParameters(b, rtpParametersOffset);
		FbsTransport.ProduceRequest.addRtpMapping(b, rtpMappingOffset);
		FbsTransport.ProduceRequest.addPaused(b, true);
		FbsTransport.ProduceRequest.addKeyFrameRequestDelay(b, 5000);
		FbsTransport.ProduceRequest.addEnableMediasoupPacketIdHeaderExtension(b, false);
		const body = FbsTransport.ProduceRequest.endProduceRequest(b);
		return finishRequest(b, 99, FbsRequest.Method.TRANSPORT_PRODUCE, 'transport-1',
			FbsRequest.Body.Transport_ProduceRequest, body);
	},
	'send-rtcp notification': () => {
		const b = new flatbuffers.Builder(1024);
		const data = FbsTransport.SendRtcpNotification.createDataVector(b, [0x80, 0xc8, 0, 6, 255]);
		const body = FbsTransport.SendRtcpNotification.createSendRtcpNotification(b, data);
		return finishNotification(b, FbsNotification.Event.TRANSPORT_SEND_RTCP, 'transport-1',
			FbsNotification.Body.Transport_SendRtcpNotification, body);
	},
	'dataproducer-send notification': () => {
		const b = new flatbuffers.Builder(1024);
		const body = new FbsDataProducer.SendNotificationT(51, [104, 105], [1, 2, 3], 2, null).pack(b);
		return finishNotification(b, FbsNotification.Event.DATAPRODUCER_SEND, 'dp-1',
			FbsNotification.Body.DataProducer_SendNotification, body);
	},
	'dataproducer-send, no subchannels': () => {
		const b = new flatbuffers.Builder(1024);
		const data = FbsDataProducer.SendNotification.createDataVector(b, []);
		FbsDataProducer.SendNotification.startSendNotification(b);
		FbsDataProducer.SendNotification.addPpid(b, 53);
		FbsDataProducer.SendNotification.addData(b, data);
		FbsDataProducer.SendNotification.addIgnoredSubchannel(b, 0);
		const body = FbsDataProducer.SendNotification.endSendNotification(b);
		return finishNotification(b, FbsNotification.Event.DATAPRODUCER_SEND, 'dp-2',
			FbsNotification.Body.DataProducer_SendNotification, body);
	},
};

for (const [name, build] of Object.entries(jsMessages)) {
	test(`JS -> C: ${name}`, () => {
		const bytes = build();
		assert.deepEqual(cRead(bytes), jsSummary(bytes));
	});
}

test('JS -> C: produce request values survive', () => {
	const body = cRead(jsMessages.produce()).request.body;
	const rp = body.rtp_parameters;
	assert.equal(body.producer_id, 'producer-xyz');
	assert.equal(body.kind, 'VIDEO');
	assert.equal(body.key_frame_request_delay, 5000);
	assert.equal(rp.mid, 'video-1');
	assert.deepEqual(rp.codecs.map((c) => c.mime_type), ['video/VP8', 'video/rtx']);
	assert.equal(rp.codecs[1].channels, 2);
	assert.deepEqual(rp.codecs[0].parameters.find((p) => p.name === 'x-google-start-bitrate'),
		{ name: 'x-google-start-bitrate', value_type: 'Integer32', value: 1000 });
	assert.equal(rp.codecs[0].parameters.find((p) => p.name === 'ratio').value, 0.5);
	assert.equal(rp.codecs[0].parameters.find((p) => p.name === 'foo').value, 'bar');
	assert.deepEqual(rp.codecs[0].rtcp_feedback[1], { type: 'nack', parameter: 'pli' });
	assert.deepEqual(rp.header_extensions[1], { uri: 'AbsSendTime', id: 4, encrypt: true });
	assert.deepEqual(rp.encodings[0], {
		ssrc: 11111111, rid: null, codec_payload_type: null, rtx_ssrc: 22222222,
		dtx: false, scalability_mode: 'L1T3', max_bitrate: '500000',
	});
	assert.equal(rp.encodings[1].max_bitrate, '5000000000');
	assert.equal(rp.encodings[1].ssrc, null);
	assert.equal(rp.encodings[2].dtx, true);
	assert.deepEqual(rp.rtcp, { cname: 'cname-ü-€', reduced_size: false });
	assert.equal(rp.msid, 'stream track');
	assert.deepEqual(body.rtp_mapping.encodings[0], { rid: null, ssrc: 11111111, mapped_ssrc: 333 });
});

test('JS -> C: corrupted JS message is rejected, not crashed on', () => {
	const bytes = jsMessages.produce();
	// The first object built (the producer id string) ends the buffer; its
	// alignment padding after the NUL is never read, so cut before that.
	let end = bytes.length;
	while (bytes[end - 1] === 0) end--;
	for (const cut of [0, 3, 4, 17, bytes.length >> 1, end - 1]) {
		const res = runTool(['read'], Buffer.from(bytes.subarray(0, cut)));
		assert.equal(res.status, 2, `truncated to ${cut}: ${res.stdout}${res.stderr}`);
		assert.ok(JSON.parse(res.stdout.toString()).error);
	}
});

test('JS -> C: mediasoup\'s malformed Boolean/array parameter encodings are rejected', () => {
	// serializeParameters() passes 1 as the union *offset* for `true` (it
	// points into other data; `false` makes the JS builder throw) and a bare
	// vector instead of an Integer32Array table for arrays.  mediasoup's own
	// validation never lets such values through; our verifier refuses them.
	for (const flag of [true, [1, -2, 3]]) {
		const b = new flatbuffers.Builder(1024);
		const producerIdOffset = b.createString('p');
		const rp = { ...rtpParameters, codecs: [{ ...rtpParameters.codecs[0], parameters: { flag } }] };
		const rtpParametersOffset = serializeRtpParameters(b, rp);
		const rtpMappingOffset = serializeRtpMapping(b, rtpMapping);
		FbsTransport.ProduceRequest.startProduceRequest(b);
		FbsTransport.ProduceRequest.addProducerId(b, producerIdOffset);
		FbsTransport.ProduceRequest.addRtpParameters(b, rtpParametersOffset);
		FbsTransport.ProduceRequest.addRtpMapping(b, rtpMappingOffset);
		const body = FbsTransport.ProduceRequest.endProduceRequest(b);
		const bytes = finishRequest(b, 5, FbsRequest.Method.TRANSPORT_PRODUCE, 't',
			FbsRequest.Body.Transport_ProduceRequest, body);
		const res = runTool(['read'], Buffer.from(bytes));
		assert.equal(res.status, 2, `flag=${flag}: ${res.stdout}`);
	}
});

// ------------------------------------------------------------------ C -> JS

test('C -> JS: every emitted message reads the same in JS and C', () => {
	const kinds = runTool(['list']).stdout.toString().trim().split('\n');
	assert.ok(kinds.length >= 10);
	for (const kind of kinds) {
		const bytes = cEmit(kind);
		assert.deepEqual(jsSummary(bytes), cRead(bytes), kind);
	}
});

test('C -> JS: Worker.DumpResponse via unpack()', () => {
	const msg = FbsMessage.Message.getRootAsMessage(new flatbuffers.ByteBuffer(cEmit('response-dump')));
	assert.equal(msg.dataType(), FbsMessage.Body.Response);
	const r = msg.data(new FbsResponse.Response());
	assert.equal(r.id(), 42);
	assert.equal(r.accepted(), true);
	assert.equal(r.error(), null);
	assert.equal(r.bodyType(), FbsResponse.Body.Worker_DumpResponse);
	const d = r.body(new FbsWorker.DumpResponse()).unpack();
	assert.equal(d.pid, 4242);
	assert.deepEqual(d.webRtcServerIds, ['ws-1']);
	assert.deepEqual(d.routerIds, ['r-1', 'r-2']);
	assert.deepEqual(d.channelMessageHandlers.channelRequestHandlers, ['worker', 'r-1', 'r-2']);
	assert.deepEqual(d.channelMessageHandlers.channelNotificationHandlers, []);
});

test('C -> JS: error Response', () => {
	const msg = FbsMessage.Message.getRootAsMessage(new flatbuffers.ByteBuffer(cEmit('response-error')));
	const r = msg.data(new FbsResponse.Response());
	assert.equal(r.id(), 7);
	assert.equal(r.accepted(), false);
	assert.equal(r.error(), 'TypeError');
	assert.equal(r.reason(), 'missing "routerId" €');
	assert.equal(r.bodyType(), FbsResponse.Body.NONE);
});

test('C -> JS: Notification and Log', () => {
	let msg = FbsMessage.Message.getRootAsMessage(new flatbuffers.ByteBuffer(cEmit('notification-running')));
	let n = msg.data(new FbsNotification.Notification());
	assert.equal(n.event(), FbsNotification.Event.WORKER_RUNNING);
	assert.equal(n.handlerId(), '');
	assert.equal(n.bodyType(), FbsNotification.Body.NONE);

	msg = FbsMessage.Message.getRootAsMessage(new flatbuffers.ByteBuffer(cEmit('notification-ice')));
	n = msg.data(new FbsNotification.Notification());
	assert.equal(n.handlerId(), 'transport-1');
	assert.equal(n.event(), FbsNotification.Event.WEBRTCTRANSPORT_ICE_STATE_CHANGE);
	const ice = n.body(new FbsWebRtcTransport.IceStateChangeNotification());
	assert.equal(ice.iceState(), FbsWebRtcTransport.IceState.COMPLETED);

	msg = FbsMessage.Message.getRootAsMessage(new flatbuffers.ByteBuffer(cEmit('log')));
	assert.equal(msg.dataType(), FbsMessage.Body.Log);
	assert.equal(msg.data(new FbsLog.Log()).data(), 'D(worker) hello "world" é\t');
});

test('C -> JS: optional scalars, u64 and f64', () => {
	let msg = FbsMessage.Message.getRootAsMessage(new flatbuffers.ByteBuffer(cEmit('response-consume')));
	const c = msg.data(new FbsResponse.Response()).body(new FbsTransport.ConsumeResponse()).unpack();
	assert.equal(c.paused, true);
	assert.equal(c.producerPaused, false);
	assert.deepEqual(c.score.producerScores, [10, 0, 7]);
	assert.equal(c.preferredLayers.spatialLayer, 2);
	assert.equal(c.preferredLayers.temporalLayer, 0); // optional, explicitly 0

	msg = FbsMessage.Message.getRootAsMessage(new flatbuffers.ByteBuffer(cEmit('response-stats')));
	const s = msg.data(new FbsResponse.Response()).body(new FbsDirectTransport.GetStatsResponse()).unpack().base;
	assert.equal(s.transportId, 'transport-9');
	assert.equal(s.timestamp, 1700000000123n);
	assert.equal(s.bytesReceived, 18446744073709551615n);
	assert.equal(s.availableOutgoingBitrate, 0n);
	assert.equal(s.availableIncomingBitrate, null);
	assert.equal(s.rtpPacketLossReceived, 0.25);
	assert.equal(s.rtpPacketLossSent, null);
	assert.equal(s.sctpState, null);
});

test('C -> JS: buffer sizes keep the largest alignment, root offset aligned', () => {
	const kinds = runTool(['list']).stdout.toString().trim().split('\n');
	for (const kind of kinds) {
		const bytes = cEmit(kind);
		assert.equal(bytes.length % (kind === 'response-stats' || kind === 'request-produce' ? 8 : 4), 0, kind);
		const rootPos = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
		assert.equal(rootPos % 4, 0, kind);
	}
});

test('interop tool exists', () => {
	assert.ok(fs.existsSync(tool), `build it first: ${tool}`);
});
