// Smoke of the capacity benchmark (tests/load/calls.mjs, build/sfu-loadgen):
// a few 1:1 calls over WebRtcTransports (ICE, DTLS client, SRTP, RTCP from
// the load generator) for a few seconds in each mode, then every call closed:
// every packet sent in the window delivered, RTCP came back, no router or
// WebRtcServer left in the worker's dump and no UDP/TCP socket in its fds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, workerBin } from './wire.mjs';

const run = promisify(execFile);

for (const mode of ['server', 'ports']) {
  test(`load smoke: 3 calls for 2 s (${mode})`, { timeout: 120000 }, async () => {
    const { stdout } = await run(
      process.execPath,
      [path.join(repoRoot, 'tests/load/calls.mjs'), '--smoke', '--worker', workerBin, '--ns', '3', '--seconds', '2', '--mode', mode],
      { timeout: 110000 },
    ).catch((err) => {
      throw new Error(`calls.mjs --smoke failed: ${err.stdout ?? ''} ${err.stderr ?? ''} ${err.message}`);
    });
    const r = JSON.parse(stdout.trim().split('\n').pop());
    // 3 calls x 2 producers x 50 packets/s x 2 s = 600 (the loadgen catches up late ticks)
    assert.ok(r.sent >= 540, `sent ${r.sent}`);
    assert.equal(r.recv, r.sent);
    assert.ok(r.rtcpIn > 0);
    assert.equal(r.routersLeft, 0);
    assert.equal(r.serversLeft, 0);
    assert.equal(r.socketsAfter, 0);
  });
}
