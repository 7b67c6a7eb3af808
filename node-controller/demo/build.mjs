#!/usr/bin/env node
// Builds the demo page into node-controller/demo/dist/:
//   dist/index.html   (copied from demo/index.html)
//   dist/demo.js      (demo/main.js + mediasoup-client, bundled by esbuild)
// The controller serves these two files as GET / and GET /demo.js.
//
//   node demo/build.mjs [--outdir DIR]     (from node-controller/)
//
// esbuild and mediasoup-client come from node-controller/node_modules
// (devDependencies); if they are not there yet, from tests/e2e/node_modules
// (installed by scripts/setup.sh --e2e, same pinned versions).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const demoDir = path.dirname(fileURLToPath(import.meta.url));
const controllerDir = path.resolve(demoDir, '..');
const e2eModules = path.resolve(controllerDir, '..', 'tests', 'e2e', 'node_modules');

function loadEsbuild() {
  for (const base of [path.join(controllerDir, 'package.json'), path.join(e2eModules, '..', 'package.json')]) {
    try {
      return createRequire(base)('esbuild');
    } catch { /* next */ }
  }
  throw new Error('esbuild not found: install node-controller devDependencies (npm ci) or run scripts/setup.sh --e2e');
}

/** -> {outdir, files: [paths]}; throws with esbuild's messages on failure. */
export async function buildDemo({ outdir = path.join(demoDir, 'dist'), minify = true } = {}) {
  const esbuild = loadEsbuild();
  fs.mkdirSync(outdir, { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(demoDir, 'main.js')],
    outfile: path.join(outdir, 'demo.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome110',
    minify,
    legalComments: 'none',
    logLevel: 'warning',
    nodePaths: [e2eModules], // fallback only: node-controller/node_modules is searched first
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  fs.copyFileSync(path.join(demoDir, 'index.html'), path.join(outdir, 'index.html'));
  return { outdir, files: ['index.html', 'demo.js'].map((f) => path.join(outdir, f)) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--outdir');
  const outdir = i > 0 ? path.resolve(process.argv[i + 1]) : undefined;
  buildDemo({ outdir }).then(
    (r) => console.log(`demo built: ${r.files.map((f) => path.relative(process.cwd(), f)).join(', ')}`),
    (err) => { console.error(err.message); process.exit(1); },
  );
}
