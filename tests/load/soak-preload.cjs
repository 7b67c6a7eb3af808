// Preloaded into the controller by tests/load/soak.mjs (node --expose-gc
// --require): answers "heap" on the IPC channel with the heap used after a
// full collection, so the soak reads the controller's heap from outside.
if (process.send) {
  process.on('message', (m) => {
    if (m !== 'heap') return;
    for (let i = 0; i < 3; i++) global.gc?.();
    process.send({ heap: process.memoryUsage().heapUsed });
  });
  process.channel?.unref?.();
}
