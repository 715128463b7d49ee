// The production build (npm run build): the CLI bundled by esbuild into dist/. One ESM module graph with
// code splitting: each command is an entry point of its own (dist/commands/<id>.js, which oclif imports
// alone, finding it through oclif.manifest.json), so a command reads only the modules it imports, and
// each dynamic import() (a heavy adapter loaded on first use) becomes a chunk that a command which never
// needs it never reads. Other entry points: dist/run.js (oclif's runner, for bin/run.js), dist/index.js
// (the package's main: every command by id) and dist/cli/help.js (the help class).
// The module graph with sizes goes to .cache/bundle-meta.json (paste it into esbuild's analyzer).
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {build} from 'esbuild'

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

/**
 * client-node's index re-exports every module of the package, and several of them require CommonJS
 * dependencies as they load (ws for exec/attach/port-forward, tar-fs for cp, ...): every command paid
 * for compiling and running them. The CLI's imports of the index are resolved to the modules that
 * define what it uses instead (a name missing here fails the build). The port-forward adapter, a chunk
 * loaded only by a port-forward, keeps the whole index (its PortForward needs ws anyway).
 */
const CLIENT_NODE_USED = {
  'config.js': ['KubeConfig'],
  'watch.js': ['Watch'],
  'log.js': ['Log'],
  'types.js': ['V1MicroTime'],
  'gen/apis/exception.js': ['ApiException'],
  'gen/http/http.js': ['HttpMethod', 'ResponseContext', 'SelfDecodingBody'],
  'gen/servers.js': ['ServerConfiguration'],
}
const clientNodeUsedOnly = {
  name: 'client-node-used-only',
  setup(build) {
    build.onResolve({filter: /^@kubernetes\/client-node$/}, (args) =>
      /[\\/]src[\\/]/.test(args.importer) && !/[\\/](node_modules|port-forward\.ts$)/.test(args.importer)
        ? {path: '@kubernetes/client-node', namespace: 'client-node-used'}
        : undefined,
    )
    build.onLoad({filter: /.*/, namespace: 'client-node-used'}, () => ({
      contents: Object.entries(CLIENT_NODE_USED)
        .map(([file, names]) => `export {${names.join(', ')}} from '@kubernetes/client-node/dist/${file}'`)
        .join('\n'),
      resolveDir: process.cwd(),
    }))
  },
}

/**
 * client-node's ObjectSerializer turns API objects into instances of its ~700 generated model classes,
 * and importing it (or the package's model index) loads all of them (about 400 KiB bundled). The API
 * calls of src/lib/kube/kube-api.ts name the models they send and receive ('V1Pod', and `${kind}List`):
 * the serializer is bundled with those and every model they reach through their fields, which is all
 * it ever meets, and the other model modules are marked free of side effects so that they drop out.
 */
const CLIENT_NODE_MODELS = path.resolve('node_modules/@kubernetes/client-node/dist/gen/models')
const SERIALIZER = path.join(CLIENT_NODE_MODELS, 'ObjectSerializer.js')

async function modelsReachedFrom(roots) {
  const reached = new Set()
  const queue = [...roots]
  while (queue.length > 0) {
    const name = queue.pop()
    if (reached.has(name) || !existsSync(path.join(CLIENT_NODE_MODELS, `${name}.js`))) continue
    reached.add(name)
    const model = (await import(pathToFileURL(path.join(CLIENT_NODE_MODELS, `${name}.js`)).href))[name]
    if (model.discriminator !== undefined) throw new Error(`client-node model ${name} is polymorphic`)
    for (const {type} of model.getAttributeTypeMap()) queue.push(innerType(type))
  }
  return reached
}

/** `Array<{ [key: string]: V1Foo; }> | null` → `V1Foo`, the way ObjectSerializer unwraps a type. */
function innerType(type) {
  const unwrapped = type
    .replace(/ \| (null|undefined)$/, '')
    .replace(/^Array<(.*)>$/, '$1')
    .replace(/^\{ \[key: string\]: (.*); \}$/, '$1')
  return unwrapped === type ? type : innerType(unwrapped)
}

async function usedSerializerSource() {
  const api = readFileSync('src/lib/kube/kube-api.ts', 'utf8')
  const named = [...api.matchAll(/'((?:V\d|CoreV1)\w*|VersionInfo)'/g)].map((match) => match[1])
  for (const name of named)
    if (!existsSync(path.join(CLIENT_NODE_MODELS, `${name}.js`)))
      throw new Error(`kube-api.ts names '${name}', which is not a client-node model`)
  const models = await modelsReachedFrom(named.flatMap((name) => [name, `${name}List`]))
  const source = readFileSync(SERIALIZER, 'utf8')
  const kept = source
    .split('\n')
    .filter((line) => {
      if (line.startsWith('export * from ')) return false
      const imported = /^import \{ (\w+) \} from '\.\.\/models\/\w+\.js';$/.exec(line)
      if (imported) return models.has(imported[1])
      const entry = /^ {4}"(\w+)": (\w+),$/.exec(line)
      return entry ? models.has(entry[1]) : true
    })
    .join('\n')
  if (!kept.includes('let typeMap = {') || !models.has('V1Pod'))
    throw new Error('unexpected ObjectSerializer.js')
  return kept
}

const clientNodeUsedModels = {
  name: 'client-node-used-models',
  setup(build) {
    build.onResolve({filter: /\.js$/}, (args) => {
      // kube-api.ts names the serializer by its path in the package.
      const file = args.path.startsWith('.')
        ? path.resolve(args.resolveDir, args.path)
        : path.resolve('node_modules', args.path)
      if (file === SERIALIZER) return {path: file, namespace: 'used-serializer'}
      if (path.dirname(file) === CLIENT_NODE_MODELS) return {path: file, sideEffects: false}
      return undefined
    })
    build.onLoad({filter: /.*/, namespace: 'used-serializer'}, async () => ({
      contents: await usedSerializerSource(),
      resolveDir: CLIENT_NODE_MODELS,
    }))
  },
}

/**
 * client-node's kubeconfig module requires the proxy agents as it loads (socks-proxy-agent brings socks,
 * ip-address and smart-buffer: about 100 KiB run on every start), though only a cluster with a
 * proxy-url constructs one. Each agent class is replaced by one that requires the real module when it
 * is first constructed and returns the real agent.
 */
const CONSTRUCTED_ON_FIRST_USE = {
  'socks-proxy-agent': ['SocksProxyAgent'],
  hpagent: ['HttpProxyAgent', 'HttpsProxyAgent'],
}
const constructOnFirstUse = {
  name: 'construct-on-first-use',
  setup(build) {
    build.onResolve({filter: /^(socks-proxy-agent|hpagent)$/}, (args) =>
      /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]config\.js$/.test(args.importer)
        ? {path: args.path, namespace: 'construct-on-first-use', pluginData: {resolveDir: args.resolveDir}}
        : undefined,
    )
    build.onLoad({filter: /.*/, namespace: 'construct-on-first-use'}, (args) => ({
      contents: CONSTRUCTED_ON_FIRST_USE[args.path]
        .map(
          (name) =>
            `exports.${name} = class ${name} { constructor(...args) { return new (require(${JSON.stringify(args.path)}).${name})(...args) } }`,
        )
        .join('\n'),
      resolveDir: args.pluginData.resolveDir,
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
