#!/usr/bin/env node
// Bundles the dashboard (master/dashboard/ui) into static files the master serves: index.html,
// app.js, app.css. Everything is bundled so the browser loads nothing from a CDN at run time.
// Usage: node scripts/build-dashboard.mjs [--out DIR]   (default dist/dashboard)
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'master', 'dashboard', 'ui');
const outFlag = process.argv.indexOf('--out');
const out = resolve(outFlag > 0 ? process.argv[outFlag + 1] : join(root, 'dist', 'dashboard'));

const common = { bundle: true, minify: true, write: false, legalComments: 'none', logLevel: 'warning' };
const [js, css] = await Promise.all([
  build({ ...common, entryPoints: [join(src, 'main.ts')], format: 'iife', target: 'es2020', define: { 'process.env.NODE_ENV': '"production"' } }),
  build({ ...common, entryPoints: [join(src, 'app.css')], loader: { '.css': 'css' } }),
]);
const appJs = js.outputFiles[0].contents;
const appCss = css.outputFiles[0].contents;
// The version in the asset URLs changes with their content, so the master can let browsers cache them for good.
const version = createHash('sha256').update(appJs).update(appCss).digest('hex').slice(0, 12);
const index = readFileSync(join(src, 'index.html'), 'utf8').replaceAll('{{version}}', version);

mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'app.js'), appJs);
writeFileSync(join(out, 'app.css'), appCss);
writeFileSync(join(out, 'index.html'), index);
writeFileSync(join(out, 'version'), version);
console.log(`dashboard ${version}: app.js ${(appJs.length / 1024).toFixed(1)} KiB, app.css ${(appCss.length / 1024).toFixed(1)} KiB -> ${out}`);
