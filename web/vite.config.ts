/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

// Writes foo.js.br and foo.js.gz beside every compressible hashed asset (when smaller), once at build time at the
// highest levels; the server sends them to browsers that accept the encoding (src/Kairos.Server/Http/WebConsole.cs).
function precompress(): Plugin {
  return {
    name: 'kairos-precompress',
    apply: 'build',
    writeBundle(options) {
      const assets = join(options.dir ?? 'dist', 'assets');
      for (const name of readdirSync(assets)) {
        if (!/\.(js|css|svg|json|wasm)$/.test(name)) continue;
        const bytes = readFileSync(join(assets, name));
        const br = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } });
        const gz = gzipSync(bytes, { level: 9 });
        if (br.length < bytes.length) writeFileSync(join(assets, `${name}.br`), br);
        if (gz.length < bytes.length) writeFileSync(join(assets, `${name}.gz`), gz);
      }
    },
  };
}

// Marks the ECharts chunk for eager compilation (V8's explicit compile hint, Chrome 136+): nearly all of it runs when the
// first chart is drawn, and compiled while it streams in (off the main thread) it is not compiled function by function
// on the main thread during that first draw. Only that chunk: most of the entry's code does not run at load.
function compileHintForCharts(): Plugin {
  return {
    name: 'kairos-compile-hint',
    apply: 'build',
    generateBundle(_, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type === 'chunk' && chunk.facadeModuleId?.endsWith('/src/components/chart/echarts.ts')) chunk.code = `//# allFunctionsCalledOnLoad\n${chunk.code}`;
      }
    },
  };
}

// The dev server proxies the API to a Kairos server on :7700 (dotnet run --project src/Kairos.Cli -- server).
export default defineConfig({
  plugins: [react(), tailwindcss(), compileHintForCharts(), precompress()],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  server: { proxy: { '/api': 'http://localhost:7700', '/openapi': 'http://localhost:7700' } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    // The machines are small and shared: a slow run is not a failure.
    testTimeout: 30_000,
    reporters: process.env.VITEST_JUNIT ? ['default', ['junit', { outputFile: process.env.VITEST_JUNIT }]] : ['default'],
  },
});
