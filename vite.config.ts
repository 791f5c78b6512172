import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { linuxAssets } from './src/web/linux-assets.js';

/**
 * The web app: index.html at the root, built to dist-web/ as a static site
 * with relative URLs, so it works from any static host and any sub-path.
 * (dist/ belongs to the CLI's tsc build.)
 */
export default defineConfig({
  base: './',
  // linuxAssets: the Linux guest under linux/ when `npm run build:linux` has built it.
  plugins: [svelte(), linuxAssets()],
  build: {
    outDir: 'dist-web',
    emptyOutDir: true,
    target: 'es2022',
    // Guest ELFs stay files (never inlined as data: URLs).
    assetsInlineLimit: 0,
    // Quiet the per-plugin timing report (the worker bundle dominates it).
    rolldownOptions: { checks: { pluginTimings: false } },
  },
  worker: {
    format: 'es',
  },
  server: {
    port: 5173,
  },
  preview: {
    port: 5173,
    strictPort: true,
  },
});
