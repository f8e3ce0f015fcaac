import { defineConfig } from 'tsup'

export default defineConfig([
  {
    // The library: ESM and CommonJS with types, one entry per export.
    entry: { index: 'src/index.ts', db: 'src/db.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    // import.meta.url in the CommonJS build (rule packs are found relative to the module).
    shims: true,
    clean: true,
    target: 'node20',
    sourcemap: true,
    // lowdb is ESM-only: bundled, so the CommonJS build loads on every Node 20 (require(esm) came in 20.19).
    noExternal: ['lowdb', 'steno'],
  },
  {
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    noExternal: ['lowdb', 'steno'],
  },
])
