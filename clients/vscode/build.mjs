// Bundles the extension (and, with --tests, the unit tests) with esbuild.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';

const tests = process.argv.includes('--tests');

if (tests) {
  await build({
    entryPoints: readdirSync('test')
      .filter((name) => name.endsWith('.test.ts'))
      .map((name) => `test/${name}`),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outdir: 'out/unit',
    sourcemap: 'inline',
    // The unit tests cover pure modules; importing `vscode` from them is a bug, so it fails the build.
    logLevel: 'warning',
  });
} else {
  await build({
    entryPoints: ['src/extension.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    outfile: 'out/extension.js',
    external: ['vscode'],
    minify: true,
    sourcemap: false,
    logLevel: 'warning',
  });
}
