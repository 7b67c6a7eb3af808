// Bundles page/main.js with mediasoup-client (esbuild, in memory).
import path from 'node:path';
import { e2eDir, e2eRequire } from './common.mjs';

export async function buildPageBundle() {
  const esbuild = e2eRequire('esbuild');
  const result = await esbuild.build({
    entryPoints: [path.join(e2eDir, 'page', 'main.js')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  if (result.errors.length) throw new Error(`esbuild: ${result.errors.map((e) => e.text).join('; ')}`);
  return result.outputFiles[0].text;
}
