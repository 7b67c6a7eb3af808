// Packaging (issue 12): this machine has a Docker client but no engine (and
// no buildx, so no `docker build --check`), so the Dockerfile cannot be
// built here. Instead it is linted against what CI does:
//   - every FROM is Debian 12 (bookworm) with the Node major the tests run on;
//   - every RUN command is a step CI runs (the table below names where);
//   - every COPY source exists, and what the runtime stage copies from the
//     build stage is what those steps produce;
//   - the runtime stage's packages (scripts/setup.sh RUNTIME_APT_PACKAGES)
//     provide every shared library `ldd build/sfu-worker` lists;
//   - ENV only sets variables the controller reads, and its values pass loadConfig;
//   - the image's layout runs: `setup.sh --runtime` in a scratch copy (npm ci
//     --omit=dev from the committed lockfile), the build outputs copied where
//     the Dockerfile puts them, `node dist/src/server.js` started there with
//     the image's ENV (as `docker run --network host` would): /healthz, the
//     demo page, /ops and an RTC-02 whose candidates carry RTC_ANNOUNCED_IP;
//   - `docker build --check` when the client supports it and an engine answers.
// And the systemd unit passes `systemd-analyze verify` with no warning.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config';
import { SECRET, serviceToken, userToken } from './helpers';
import { freeHttpPort } from './cluster-helpers';

const root = path.resolve(__dirname, '..', '..', '..');
const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');

interface Instr { op: string; args: string; line: number; stage: string }

/** Dockerfile instructions: comments dropped, continuation lines joined. */
function parseDockerfile(text: string): Instr[] {
  const out: Instr[] = [];
  const lines = text.split('\n');
  let stage = '';
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i];
    if (/^\s*(#|$)/.test(l)) continue;
    const start = i + 1;
    while (l.endsWith('\\') && i + 1 < lines.length) l = `${l.slice(0, -1)} ${lines[++i].trim()}`;
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(l);
    assert.ok(m, `Dockerfile line ${start}: not an instruction: ${l}`);
    const op = m[1].toUpperCase();
    if (op === 'FROM') stage = /\bAS\s+(\S+)/i.exec(m[2])?.[1] ?? String(out.length);
    out.push({ op, args: m[2].trim(), line: start, stage });
  }
  return out;
}

const dockerfile = parseDockerfile(read('Dockerfile'));

// The build stage's last step (a fresh clone's `npm test` has not run it yet).
before(() => {
  execFileSync(process.execPath, ['demo/build.mjs'], { cwd: path.join(root, 'node-controller'), stdio: 'ignore' });
});

/** Each command a RUN may use, and where CI runs it (file, and a pattern there). */
const CI_STEPS: Array<{ cmd: RegExp; file: string; ci: RegExp }> = [
  { cmd: /^bash scripts\/setup\.sh$/, file: 'scripts/test.sh', ci: /^bash scripts\/setup\.sh --e2e\b/m },
  { cmd: /^bash scripts\/setup\.sh --runtime$/, file: 'scripts/setup.sh', ci: /^if \[ "\$RUNTIME" = 1 \]; then$/m },
  { cmd: /^make -j2 worker$/, file: 'scripts/test.sh', ci: /^make -j"\$\(nproc\)" worker\b/m },
  { cmd: /^cd node-controller$/, file: 'scripts/test.sh', ci: /cd node-controller && npm test/ },
  { cmd: /^npm run build$/, file: 'node-controller/package.json', ci: /"test": "npm run build && / },
  { cmd: /^node demo\/build\.mjs$/, file: 'node-controller/test-e2e/run.sh', ci: /^node "\$ctl\/demo\/build\.mjs"/m },
];

describe('Dockerfile', () => {
  test('Debian 12 (bookworm) base images with the Node major CI runs', () => {
    const froms = dockerfile.filter((i) => i.op === 'FROM');
    assert.ok(froms.length >= 1);
    const major = process.versions.node.split('.')[0];
    for (const f of froms) {
      const image = f.args.split(/\s+/)[0];
      assert.match(image, /^(node:\d+-bookworm(-slim)?|debian:(12|bookworm)(-slim)?)$/, `line ${f.line}: ${image} is not Debian 12`);
      const m = /^node:(\d+)-/.exec(image);
      if (m) assert.equal(m[1], major, `line ${f.line}: Node ${m[1]}, CI runs Node ${major}`);
    }
    assert.equal(froms.at(-1)!.args.split(/\s+/)[0], 'node:20-bookworm-slim', 'the runtime stage is the slim image');
  });

  test('every RUN command is a step CI runs', () => {
    const runs = dockerfile.filter((i) => i.op === 'RUN');
    assert.ok(runs.length >= 4);
    for (const r of runs) {
      assert.doesNotMatch(r.args, /^\[/, `line ${r.line}: exec form`);
      for (const cmd of r.args.split('&&').map((c) => c.trim())) {
        const step = CI_STEPS.find((s) => s.cmd.test(cmd));
        assert.ok(step, `Dockerfile line ${r.line}: "${cmd}" is not a step CI runs`);
        assert.match(read(step.file), step.ci, `${step.file} no longer runs "${cmd}"`);
      }
    }
    // the build stage builds what setup.sh, make and the controller build produce, in that order
    const build = runs.filter((r) => r.stage === 'build').map((r) => r.args);
    assert.deepEqual(build, ['bash scripts/setup.sh', 'make -j2 worker', 'cd node-controller && npm run build && node demo/build.mjs']);
    assert.deepEqual(runs.filter((r) => r.stage === 'runtime').map((r) => r.args), ['bash scripts/setup.sh --runtime']);
  });

  test('COPY sources exist; the runtime stage copies what the build steps produce', () => {
    for (const c of dockerfile.filter((i) => i.op === 'COPY')) {
      const parts = c.args.split(/\s+/);
      const from = parts.find((p) => p.startsWith('--from='));
      const paths = parts.filter((p) => !p.startsWith('--'));
      const srcs = paths.slice(0, -1);
      for (const s of srcs) {
        if (from) {
          assert.equal(from, '--from=build');
          const rel = s.replace(/^\/src\//, '');
          assert.notEqual(rel, s, `line ${c.line}: build stage paths are under /src`);
          assert.ok(fs.existsSync(path.join(root, rel)), `line ${c.line}: ${rel} (made by CI's build steps) is missing here`);
        } else if (s !== '.') {
          assert.ok(fs.existsSync(path.join(root, s)), `line ${c.line}: ${s} not in the repository`);
        }
      }
    }
    const copied = dockerfile.filter((i) => i.op === 'COPY' && i.args.includes('--from=build')).map((i) => i.args.split(/\s+/).at(-1));
    assert.deepEqual(copied, ['build/sfu-worker', 'node-controller/dist', 'node-controller/demo/dist', 'node-controller/ops']);
  });

  test('the runtime packages provide every shared library of build/sfu-worker', () => {
    const setup = read('scripts/setup.sh');
    const m = /^RUNTIME_APT_PACKAGES=\(\n([\s\S]*?)\n\)/m.exec(setup);
    assert.ok(m, 'RUNTIME_APT_PACKAGES not found in scripts/setup.sh');
    const runtime = new Set(m[1].replace(/#.*$/gm, '').split(/\s+/).filter(Boolean));
    const ldd = execFileSync('ldd', [path.join(root, 'build', 'sfu-worker')], { encoding: 'utf8' });
    const libs = [...ldd.matchAll(/=>\s+(\/\S+)/g)].map((x) => x[1]);
    assert.ok(libs.length >= 3, ldd);
    for (const lib of libs) {
      const owner = spawnSync('dpkg', ['-S', fs.realpathSync(lib)], { encoding: 'utf8' });
      const pkg = (owner.stdout || spawnSync('dpkg', ['-S', lib], { encoding: 'utf8' }).stdout).split(':')[0].trim();
      assert.ok(pkg, `no Debian package owns ${lib}`);
      if (pkg === 'libc6') continue; // in every Debian image
      assert.ok(runtime.has(pkg), `${lib} comes from ${pkg}, which RUNTIME_APT_PACKAGES lacks (${[...runtime]})`);
    }
    assert.doesNotMatch(ldd, /libsrtp/, 'libsrtp2 is linked statically (Debian\'s uses NSS)');
  });

  test('ENV sets only variables the controller reads, with values it accepts', () => {
    const env: Record<string, string> = {};
    for (const e of dockerfile.filter((i) => i.op === 'ENV' && i.stage === 'runtime')) {
      for (const kv of e.args.split(/\s+/)) {
        const [k, v] = kv.split('=');
        env[k] = v;
      }
    }
    const config = read('node-controller/src/config.ts');
    for (const k of Object.keys(env)) {
      if (k === 'NODE_ENV') continue;
      assert.ok(config.includes(`'${k}'`) || config.includes(`env.${k}`), `ENV ${k} is not read by src/config.ts`);
    }
    // the image refuses to start without a secret and an announced address (one clear line each)
    assert.throws(() => loadConfig({ ...env, RTC_ANNOUNCED_IP: '203.0.113.10' }), /JWT_SECRET must be set/);
    assert.throws(() => loadConfig({ ...env, JWT_SECRET: SECRET }), /RTC_LISTEN_IP=0\.0\.0\.0 listens on every interface: set RTC_ANNOUNCED_IP/);
    const cfg = loadConfig({ ...env, JWT_SECRET: SECRET, RTC_ANNOUNCED_IP: '203.0.113.10' });
    assert.equal(cfg.host, '0.0.0.0');
    const cmd = dockerfile.filter((i) => i.op === 'CMD').at(-1)!;
    assert.deepEqual(JSON.parse(cmd.args), ['node', 'dist/src/server.js']);
    assert.equal(dockerfile.filter((i) => i.op === 'WORKDIR').at(-1)!.args, '/opt/sfu/node-controller');
    assert.equal(dockerfile.filter((i) => i.op === 'USER').at(-1)?.args, 'node', 'not root at run time');
    // the build context leaves out what the build makes itself
    assert.match(read('.dockerignore'), /^\*\*\/node_modules$/m);
  });

  test('docker build --check (when this machine can)', (t) => {
    const help = spawnSync('docker', ['build', '--help'], { encoding: 'utf8' });
    if (help.error || !/--check\b/.test(help.stdout + help.stderr)) {
      t.diagnostic('docker build --check unavailable: the docker client has no buildx (legacy builder) and no engine runs here; the checks above stand in');
      return;
    }
    const r = spawnSync('docker', ['build', '--check', root], { encoding: 'utf8', timeout: 60_000 });
    if (/Cannot connect to the Docker daemon/.test(r.stderr)) {
      t.diagnostic('docker build --check: no Docker engine here');
      return;
    }
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});

describe('the image layout runs (docker run --network host, simulated)', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-image-'));
  let child: ChildProcess | undefined;
  after(async () => {
    if (child && child.exitCode === null) {
      const done = new Promise((r) => child!.once('exit', r));
      process.kill(-child.pid!, 'SIGTERM');
      await done;
    }
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  test('setup.sh --runtime, the copied build outputs, the image\'s ENV and CMD: a working node', { timeout: 120_000 }, async () => {
    const opt = path.join(scratch, 'opt', 'sfu');
    const copy = (from: string, to: string) => fs.cpSync(path.join(root, from), path.join(opt, to), { recursive: true });
    // the runtime stage, in its order
    copy('scripts/setup.sh', 'scripts/setup.sh');
    copy('node-controller/package.json', 'node-controller/package.json');
    copy('node-controller/package-lock.json', 'node-controller/package-lock.json');
    const setup = spawnSync('bash', [path.join(opt, 'scripts', 'setup.sh'), '--runtime'], {
      encoding: 'utf8', timeout: 110_000, env: { ...process.env, npm_config_prefer_offline: 'true' },
    });
    assert.equal(setup.status, 0, setup.stdout + setup.stderr);
    assert.ok(!fs.existsSync(path.join(opt, 'node-controller', 'node_modules', 'typescript')), 'dev packages installed');
    for (const c of dockerfile.filter((i) => i.op === 'COPY' && i.args.includes('--from=build'))) {
      const [src, dst] = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      copy(src.replace(/^\/src\//, ''), dst);
    }
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    for (const e of dockerfile.filter((i) => i.op === 'ENV' && i.stage === 'runtime')) {
      for (const kv of e.args.split(/\s+/)) { const [k, v] = kv.split('='); env[k] = v; }
    }
    const port = await freeHttpPort();
    Object.assign(env, { JWT_SECRET: SECRET, RTC_ANNOUNCED_IP: '127.0.0.1', PORT: String(port), RTC_WORKERS: '1', LOG_LEVEL: 'warn' });
    const cmd = JSON.parse(dockerfile.filter((i) => i.op === 'CMD').at(-1)!.args) as string[];
    const cwd = path.join(scratch, dockerfile.filter((i) => i.op === 'WORKDIR').at(-1)!.args);
    let out = '';
    child = spawn(cmd[0] === 'node' ? process.execPath : cmd[0], cmd.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c) => { out += c; });
    child.stderr!.on('data', (c) => { out += c; });
    const url = `http://127.0.0.1:${port}`;
    const end = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) assert.fail(`the node exited (${child.exitCode}):\n${out}`);
      if (await fetch(`${url}/healthz`).then((r) => r.status === 200, () => false)) break;
      if (Date.now() > end) assert.fail(`not healthy within 30 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal((await fetch(`${url}/`)).status, 200, 'the demo page');
    assert.equal((await fetch(`${url}/ops?token=${serviceToken()}`)).status, 200, 'the ops page');
    assert.equal((await fetch(`${url}/dev/token`, { method: 'POST' })).status, 404, 'no development routes');
    const auth = { authorization: `Bearer ${userToken('img-1', 'alice')}` };
    assert.equal((await fetch(`${url}/rtc/capabilities?callId=img-1`, { headers: auth })).status, 200);
    const tr = await fetch(`${url}/rtc/transports`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ callId: 'img-1', direction: 'send' }),
    });
    assert.equal(tr.status, 201);
    const candidates = (await tr.json() as { transport: { iceCandidates: Array<{ address: string; port: number }> } }).transport.iceCandidates;
    assert.ok(candidates.length > 0 && candidates.every((c) => c.address === '127.0.0.1' && c.port >= 40000 && c.port <= 41000), JSON.stringify(candidates));
    assert.doesNotMatch(out, /"level":[56]0/, out);
  });
});

describe('systemd unit', () => {
  test('packaging/sfu-controller.service passes systemd-analyze verify without a warning', (t) => {
    const unit = path.join(root, 'packaging', 'sfu-controller.service');
    if (spawnSync('systemd-analyze', ['--version']).error) {
      t.diagnostic('systemd-analyze not installed: only parsed');
    } else {
      // verify checks the unit's files exist: run it on a copy pointing at this checkout and an env file that exists
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-unit-'));
      const envFile = path.join(dir, 'sfu-controller.env');
      fs.copyFileSync(path.join(root, 'packaging', 'sfu-controller.env'), envFile);
      const text = fs.readFileSync(unit, 'utf8')
        .replace('/etc/sfu/sfu-controller.env', envFile)
        .replace('WorkingDirectory=/opt/sfu/node-controller', `WorkingDirectory=${path.join(root, 'node-controller')}`)
        .replace(/^User=sfu$/m, 'User=root').replace(/^Group=sfu$/m, 'Group=root');
      const copy = path.join(dir, 'sfu-controller.service');
      fs.writeFileSync(copy, text);
      const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
      fs.rmSync(dir, { recursive: true, force: true });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim(), '', r.stderr);
    }
    const text = fs.readFileSync(unit, 'utf8');
    assert.match(text, /^ExecStart=\/usr\/bin\/node dist\/src\/server\.js$/m);
    assert.match(text, /^KillSignal=SIGTERM$/m);
    // the env file example only sets variables the controller reads, and passes loadConfig as it is
    const env: Record<string, string> = {};
    for (const l of fs.readFileSync(path.join(root, 'packaging', 'sfu-controller.env'), 'utf8').split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(l);
      if (m) env[m[1]] = m[2];
    }
    const cfg = loadConfig(env);
    assert.equal(cfg.rtcAnnouncedIp, '203.0.113.10');
  });
});
