// Smoke of the soak (tests/load/soak.mjs) for the test command: 40 join/leave
// cycles (20 calls, 20 % abrupt) against the controller with real media; no
// worker object and no worker socket left at the checkpoint and at the end.
// (The RSS/heap tolerance is loose here: 20 cycles are too few for a level.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('soak smoke: 40 cycles leave nothing in the worker', { timeout: 180000 }, async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [path.join(repoRoot, 'tests/load/soak.mjs'), '--cycles', '40', '--checkpoint', '20', '--tolerance', '0.5'],
    { timeout: 170000 },
  ).catch((err) => {
    throw new Error(`soak.mjs failed: ${err.stdout ?? ''} ${err.stderr ?? ''}`);
  });
  const r = JSON.parse(stdout.trim().split('\n').pop());
  assert.equal(r.cycles, 40);
  assert.ok(r.abrupt > 0, 'some abrupt disconnects');
  assert.equal(r.mediaUp, 80);
  assert.deepEqual(r.fails, []);
  for (const s of [r.checkpoint, r.end]) {
    assert.equal(s.routers, 0);
    assert.equal(s.handlers, 0);
    assert.equal(s.sockets, 0);
  }
});
