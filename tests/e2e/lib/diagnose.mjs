import { recentLibraryLog, withTimeout } from './common.mjs';

// Failure reports: when an e2e test fails, the error message says which step
// failed and carries what the server side knew (signalling trace, transport
// ICE/DTLS events, the worker's view of the objects, page console lines).

/** Server-side stats of mediasoup objects, each guarded: the worker may not implement them. */
export async function workerStats(entries) {
  const lines = [];
  for (const [label, obj] of entries) {
    if (!obj || obj.closed) continue;
    try {
      const s = await withTimeout(obj.getStats(), 3000, 'getStats');
      lines.push(`${label} stats: ${JSON.stringify(s).slice(0, 600)}`);
    } catch (err) {
      lines.push(`${label} stats: (${err.message})`);
    }
  }
  return lines.join('\n');
}

/**
 * Runs body(); on failure rethrows an Error whose message is the original one
 * followed by the output of every collector (async functions returning text).
 */
export async function withDiagnostics(body, collectors) {
  try {
    return await body();
  } catch (err) {
    const parts = [];
    for (const c of [...collectors, async () => recentLibraryLog()]) {
      try {
        const text = await c();
        if (text) parts.push(text);
      } catch (e) {
        parts.push(`(diagnostic failed: ${e.message})`);
      }
    }
    const e = new Error(`${err.message}\n--- diagnostics ---\n${parts.join('\n')}`);
    e.stack = `Error: ${e.message}`;
    throw e;
  }
}

/**
 * Polls sample() every intervalMs for durationMs after a first sample and
 * requires every counter named in `counters` ({label: (sample) => number}) to
 * increase strictly between consecutive samples. Returns the samples.
 */
export async function assertRising({ sample, counters, durationMs = 5000, intervalMs = 500 }) {
  const samples = [];
  const t0 = Date.now();
  const first = await sample();
  samples.push({ t: 0, s: first });
  const steps = Math.ceil(durationMs / intervalMs);
  for (let i = 1; i <= steps; i++) {
    await new Promise((r) => setTimeout(r, t0 + i * intervalMs - Date.now()));
    const s = await sample();
    const t = Date.now() - t0;
    const prev = samples[samples.length - 1];
    samples.push({ t, s });
    for (const [label, get] of Object.entries(counters)) {
      const a = get(prev.s);
      const b = get(s);
      if (!(typeof b === 'number' && typeof a === 'number' && b > a)) {
        const history = samples.map((x) => `${(x.t / 1000).toFixed(1)}s=${get(x.s)}`).join(' ');
        throw new Error(`${label} did not increase between ${(prev.t / 1000).toFixed(1)} s and ${(t / 1000).toFixed(1)} s `
          + `(${a} -> ${b}); history: ${history}`);
      }
    }
  }
  return samples;
}

/** Waits until predicate(await sample()) is true; the error names what was awaited and the last sample. */
export async function waitFor(what, sample, predicate, { timeoutMs = 15000, intervalMs = 250 } = {}) {
  const t0 = Date.now();
  let last;
  for (;;) {
    last = await sample();
    if (predicate(last)) return last;
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`${what}: not reached within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
