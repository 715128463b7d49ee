// The production build (npm run build): the CLI bundled by esbuild into dist/. One ESM module graph with
// code splitting: each command is an entry point of its own (dist/commands/<id>.js, which oclif imports
// alone, finding it through oclif.manifest.json), so a command reads only the modules it imports, and
// each dynamic import() (a heavy adapter loaded on first use) becomes a chunk that a command which never
// needs it never reads. Other entry points: dist/run.js (oclif's runner, for bin/run.js), dist/index.js
// (the package's main: every command by id) and dist/cli/help.js (the help class).
// The module graph with sizes goes to .cache/bundle-meta.json (paste it into esbuild's analyzer).
import {mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {build} from 'esbuild'

import {clientNodeUsedModels, clientNodeUsedOnly, constructOnFirstUse} from './client-node-plugins.mjs'

/**
 * zod's `z` namespace carries every locale's error messages (about 290 KiB, read on every start); the CLI
 * words its own errors and zod's own default is English, so its locale index is replaced by English alone.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({filter: /^\.\.\/locales\/index\.js$/}, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? {
            path: path.join(path.dirname(args.importer), '..', 'locales', 'index.js'),
            namespace: 'zod-locales',
          }
        : undefined,
    )
    build.onLoad({filter: /.*/, namespace: 'zod-locales'}, (args) => ({
      contents: "export {default as en} from './en.js'",
      resolveDir: path.dirname(args.path),
    }))
  },
}

/**
 * Modules that dependencies require at load time for features a run rarely uses, each of which is a
 * function: required here on the first call instead (esbuild runs a bundled CommonJS module when it is
 * first required). docker-modem's ssh:// transport loads ssh2, which checks its ciphers as it loads;
 * dockerode's BuildKit session loads gRPC and protobufjs (about 550 KiB): every Docker call paid for both.
 */
const ON_FIRST_CALL = [
  {importer: /[\\/]docker-modem[\\/]lib[\\/]modem\.js$/, specifier: './ssh'},
  {importer: /[\\/]dockerode[\\/]lib[\\/]docker\.js$/, specifier: './session'},
]
const requireOnFirstCall = {
  name: 'require-on-first-call',
  setup(build) {
    build.onResolve({filter: /^\.\/(ssh|session)$/}, (args) =>
      ON_FIRST_CALL.some(({importer, specifier}) => importer.test(args.importer) && specifier === args.path)
        ? {path: path.join(path.dirname(args.importer), `${args.path}.js`), namespace: 'on-first-call'}
        : undefined,
    )
    build.onLoad({filter: /.*/, namespace: 'on-first-call'}, (args) => ({
      contents: `module.exports = function (...args) { return require(${JSON.stringify(args.path)})(...args) }`,
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }))
  },
}

const result = await build({
  entryPoints: {
    run: 'src/run.ts',
    index: 'src/index.ts',
    'cli/help': 'src/cli/help.ts',
    ...Object.fromEntries(
      readdirSync('src/commands')
        .filter((file) => file.endsWith('.ts'))
        .map((file) => [`commands/${file.replace(/\.ts$/, '')}`, `src/commands/${file}`]),
    ),
  },
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
  // Less to parse on every start: see scripts/shims/whatwg-url.mjs, and the plugins above.
  alias: {'whatwg-url': './scripts/shims/whatwg-url.mjs'},
  plugins: [
    zodEnglishOnly,
    requireOnFirstCall,
    clientNodeUsedOnly,
    clientNodeUsedModels,
    constructOnFirstUse,
  ],
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
