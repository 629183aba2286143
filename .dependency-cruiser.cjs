/**
 * The import contracts of docs/architecture.md, checked by `npm run lint`:
 * - no import circles;
 * - a folder is used from outside only through its `index.ts` (a folder is `src/<name>/`,
 *   `devices/<name>/`, or `broker/`); files at the top of `src/` are shared leaves anyone imports.
 * Tests may reach inside the folder they test.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle: break it by moving the shared part down a layer (docs/architecture.md).',
      from: { path: '^(src|broker|devices)/' },
      to: { circular: true },
    },
    {
      name: 'src-folder-through-index',
      severity: 'error',
      comment: 'Another folder is used through its index.ts only (docs/architecture.md).',
      from: { path: '^(src|devices)/([^/]+)/' },
      to: { path: '^(src|devices)/([^/]+)/', pathNot: ['^$1/$2/', '^(src|devices)/[^/]+/index\\.ts$'] },
    },
    {
      name: 'from-top-into-folder',
      severity: 'error',
      comment: 'A top-level file uses a folder through its index.ts only (docs/architecture.md).',
      from: { path: '^src/[^/]+\\.ts$' },
      to: { path: '^(src|devices)/[^/]+/', pathNot: ['^(src|devices)/[^/]+/index\\.ts$'] },
    },
    {
      name: 'into-broker-through-index',
      severity: 'error',
      comment: 'The broker is used through broker/index.ts only (docs/architecture.md).',
      from: { path: '^(src|devices)/' },
      to: { path: '^broker/', pathNot: ['^broker/index\\.ts$'] },
    },
    {
      name: 'broker-into-src-through-index',
      severity: 'error',
      comment: 'The broker uses a src folder through its index.ts only (docs/architecture.md).',
      from: { path: '^broker/' },
      to: { path: '^(src|devices)/[^/]+/', pathNot: ['^(src|devices)/[^/]+/index\\.ts$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(test|dist|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
