// Herald PWA build: `npx vite build --config pwa/vite.config.ts` from the repository root.
// Root is pwa/, output pwa/dist, served by the API at `/` (SPA fallback) with the API under /v1.
import { defineConfig, type Plugin } from 'vite';
import preact from '@preact/preset-vite';
import { VitePWA } from 'vite-plugin-pwa';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

const THEME = '#1e3a8a';
const FIRST_SCREEN_BUDGET = 100 * 1024;

/**
 * Prints the gzipped size of the first screen's JavaScript (the entry chunk plus every chunk it imports
 * statically, i.e. what the browser must fetch before the queue renders) and fails the build above the
 * budget. Without it a stray static import (Chart.js, an admin page) silently lands on every phone.
 */
function firstScreenBudget(limit: number): Plugin {
  return {
    name: 'herald:first-screen-budget',
    apply: 'build',
    generateBundle(_options, bundle) {
      const chunks = new Map<string, { code: string; imports: string[]; isEntry: boolean }>();
      for (const [fileName, out] of Object.entries(bundle)) {
        if (out.type === 'chunk') chunks.set(fileName, { code: out.code, imports: out.imports, isEntry: out.isEntry });
      }
      const entries = [...chunks].filter(([, c]) => c.isEntry).map(([f]) => f);
      if (!entries.length) return;
      const seen = new Set<string>();
      const visit = (f: string) => {
        if (seen.has(f) || !chunks.has(f)) return;
        seen.add(f);
        for (const i of chunks.get(f)!.imports) visit(i);
      };
      entries.forEach(visit);
      let total = 0;
      const rows: string[] = [];
      for (const f of seen) {
        const gz = gzipSync(chunks.get(f)!.code, { level: 9 }).length;
        total += gz;
        rows.push(`  ${f}  ${(gz / 1024).toFixed(2)} KB gz`);
      }
      const line = `first-screen JS (entry + static imports): ${(total / 1024).toFixed(2)} KB gzipped (budget ${(limit / 1024).toFixed(0)} KB)`;
      // eslint-disable-next-line no-console
      console.log(`\n[herald] ${line}\n${rows.join('\n')}`);
      if (total > limit) this.error(`[herald] ${line}: over budget`);
    },
  };
}

export default defineConfig({
  root,
  base: '/',
  publicDir: 'public',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
  },
  plugins: [
    preact(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      // We register with workbox-window ourselves (src/sw-register.ts) to show the update prompt.
      injectRegister: false,
      registerType: 'prompt',
      includeManifestIcons: false,
      injectManifest: {
        rollupFormat: 'iife',
        globPatterns: ['**/*.{js,css,html,png}'],
      },
      manifest: {
        id: '/',
        name: 'Herald',
        short_name: 'Herald',
        description: 'Your alert queue: acknowledge, resolve and follow the SOP before it escalates.',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'any',
        theme_color: THEME,
        background_color: '#ffffff',
        categories: ['business', 'productivity'],
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      devOptions: { enabled: false },
    }),
    firstScreenBudget(FIRST_SCREEN_BUDGET),
  ],
});
