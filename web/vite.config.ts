/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';

// The dev server proxies the API to a Kairos server on :7700 (dotnet run --project src/Kairos.Cli -- server).
export default defineConfig({
  plugins: [react(), tailwindcss()],
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
