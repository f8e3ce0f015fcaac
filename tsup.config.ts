import { defineConfig } from 'tsup'

export default defineConfig([
  {
    // The library: ESM and CommonJS with types, one entry per export.
    entry: { index: 'src/index.ts', db: 'src/db.ts' },
    format: ['esm', 'cjs'],
    // One copy of the shared code for both entries in each format (esbuild splits ESM; tsup's splitting
    // does it for CommonJS too): `require('cylestio-monitor')` and `require('cylestio-monitor/db')` must
    // share the sinks, or a query would not see (and write first) what the monitored client has queued.
    splitting: true,
    dts: true,
    // import.meta.url in the CommonJS build (rule packs are found relative to the module).
    shims: true,
    clean: true,
    target: 'node20',
    sourcemap: true,
    // The CommonJS chunks go through a second transform (tsup's splitting for CommonJS) that turns a class
    // with fields into an assignment (`_class4 = class …`): without esbuild's keepNames there,
    // `MonitorBlockedError.name`, stacks and inspect() say `_class4`. Only there: keepNames also names every
    // closure as it is made (a `defineProperty` each), which the ESM build's hot path need not pay.
    esbuildOptions(options, { format }) {
      if (format === 'cjs') options.keepNames = true
    },
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
