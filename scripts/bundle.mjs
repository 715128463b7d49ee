// The production build (npm run build): the CLI bundled by esbuild into dist/. One ESM module graph with
// code splitting, so each dynamic import() (a heavy adapter loaded on first use) becomes a chunk of its
// own that a command which never needs it never reads. Entry points: dist/run.js (oclif's runner, for
// bin/run.js), dist/index.js (the COMMANDS oclif discovers) and dist/cli/help.js (the help class).
// The module graph with sizes goes to .cache/bundle-meta.json (paste it into esbuild's analyzer).
import {mkdirSync, writeFileSync} from 'node:fs'

import {build} from 'esbuild'

const result = await build({
  entryPoints: {run: 'src/run.ts', index: 'src/index.ts', 'cli/help': 'src/cli/help.ts'},
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  // Less to parse on every start; identifiers are kept so that --verbose stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  metafile: true,
  external: [
    // oclif loads typescript only to run from source (NODE_ENV=development or test), never from the bundle.
    'typescript',
    // docker-modem's ssh:// transport loads native addons by relative path: it stays in node_modules,
    // resolved at run time, and only a Docker call over ssh:// ever loads it.
    'ssh2',
  ],
  // whatwg-url (under client-node's fetch) asks for `punycode`, which esbuild would leave to Node's
  // deprecated built-in (a DEP0040 warning on every run with Node 22+): bundle the userland package.
  alias: {punycode: 'punycode/punycode.js'},
  // CommonJS dependencies inside an ESM bundle call require() and read __filename / __dirname.
  banner: {
    js: [
      "import {createRequire as __createRequire} from 'node:module'",
      "import {fileURLToPath as __fileURLToPath} from 'node:url'",
      "import {dirname as __pathDirname} from 'node:path'",
      'const require = __createRequire(import.meta.url)',
      'const __filename = __fileURLToPath(import.meta.url)',
      'const __dirname = __pathDirname(__filename)',
    ].join(';'),
  },
  logLevel: 'warning',
})
mkdirSync('.cache', {recursive: true})
writeFileSync('.cache/bundle-meta.json', JSON.stringify(result.metafile))
