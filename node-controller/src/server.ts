// Starts the controller: listens on HOST:PORT; SIGTERM/SIGINT close it
// gracefully (rooms told room_closed "shutdown", workers closed).
import { build } from './app';
import { loadConfig } from './config';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await build({ config });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    // Rooms first: a terminal's Ctrl-C or a group SIGTERM also reaches the
    // workers, whose death would otherwise be reported as worker_died.
    app.rooms.closeAll('shutdown');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(() => process.exit(0), (err) => {
      app.log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await app.listen({ host: config.host, port: config.port });
}

main().catch((err) => {
  // One clear line (bad configuration, Redis unreachable, workers that cannot start...).
  console.error(`sfu-controller: cannot start: ${err instanceof Error ? err.message : String(err)}`);
  if (process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace') console.error(err);
  process.exit(1);
});
