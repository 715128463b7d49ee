// esbuild plugins that keep client-node's modules out of a command's start-up when it never uses them
// (scripts/bundle.mjs). Exported apart from the build so that a test can bundle with them.
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

/**
 * client-node's index re-exports every module of the package, and several of them require CommonJS
 * dependencies as they load (ws for exec/attach/port-forward, tar-fs for cp, ...): every command paid
 * for compiling and running them. The CLI's imports of the index are resolved to the modules that
 * define what it uses instead (a name missing here fails the build). The port-forward and exec (live
 * sync) adapters, chunks loaded only by a port-forward or a sync, keep the whole index (their
 * PortForward and Exec need ws anyway).
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
export const clientNodeUsedOnly = {
  name: 'client-node-used-only',
  setup(build) {
    build.onResolve({filter: /^@kubernetes\/client-node$/}, (args) =>
      /[\\/]src[\\/]/.test(args.importer) &&
      !/[\\/](node_modules|port-forward\.ts$|exec-file-sync\.ts$)/.test(args.importer)
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

export async function usedSerializerSource() {
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

export const clientNodeUsedModels = {
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
export const constructOnFirstUse = {
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
