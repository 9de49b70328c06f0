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

/** Whether the chunk has the module (its facade, or one of those put together in it). */
const holds = (chunk: { facadeModuleId: string | null; moduleIds: string[] }, suffix: string) =>
  !!chunk.facadeModuleId?.endsWith(suffix) || chunk.moduleIds.some((id) => id.endsWith(suffix));

// The entry (boot.ts) is small and imports the console (main.tsx) once it has asked the API for the first page's data.
// The console's chunks and the dashboard's (the landing page: the page, what it imports, ECharts) are announced in
// index.html with modulepreload, so the browser fetches and parses them alongside the entry instead of after the entry
// has run and asked for them (a step of the waterfall less). Only in the build: the dev server serves modules.
function preloadDashboardChunks(): Plugin {
  const entries = ['/src/main.tsx', '/src/pages/dashboard/DashboardPage.tsx', '/src/components/chart/echarts.ts'];
  return {
    name: 'kairos-preload-dashboard',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        const chunks = Object.values(ctx.bundle ?? {}).filter((c) => c.type === 'chunk');
        const entry = chunks.find((c) => c.isEntry);
        const have = new Set([entry?.fileName, ...(entry?.imports ?? [])]);
        const wanted: string[] = [];
        const add = (fileName: string) => {
          if (have.has(fileName)) return;
          have.add(fileName);
          const c = chunks.find((x) => x.fileName === fileName);
          c?.imports.forEach(add);
          wanted.push(fileName);
        };
        for (const e of entries) {
          const c = chunks.find((x) => holds(x, e));
          if (!c) throw new Error(`kairos-preload-dashboard: no chunk for ${e}`);
          add(c.fileName);
        }
        return wanted.map((f) => ({ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href: `/${f}` }, injectTo: 'head' as const }));
      },
    },
  };
}

// The dev server proxies the API to a Kairos server on :7700 (dotnet run --project src/Kairos.Cli -- server).
export default defineConfig({
  plugins: [react(), tailwindcss(), preloadDashboardChunks(), precompress()],
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
