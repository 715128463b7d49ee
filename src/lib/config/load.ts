import {existsSync, readFileSync, realpathSync, statSync} from 'node:fs'
import path from 'node:path'

import {isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type YAMLError} from 'yaml'
import type {z} from 'zod'

import {BadInputError} from '../errors.js'
import {packageRootOf} from '../package-root.js'
import {PARSE_ONCE} from '../parse-once.js'
import {DEFAULT_CONFIG, REGISTRY_PULL_POLICY} from './defaults.js'
import {inputExcerpt} from './input-excerpt.js'
import {configSchema, SERVICE_NAMES, type ServiceName, type TodoDeployConfig} from './schema.js'
import {BUNDLED_SYNC_RULES, normalizeFrom, normalizeTo, type SyncRule} from './sync-rules.js'

export {durationMs} from './schema.js'

export const DEFAULT_CONFIG_FILE = 'todo-deploy.yaml'

/** Aliases a config may expand: a real one needs a handful; a "billion laughs" file needs millions. */
const MAX_ALIAS_COUNT = 100

/** Where the CLI package itself lives: the bundled chart and Dockerfiles are found from here. */
export const PACKAGE_ROOT = packageRootOf(import.meta.url)
export const BUNDLED_CHART_DIR = path.join(PACKAGE_ROOT, 'manifests', 'todo-chatbot')
export const BUNDLED_DOCKERFILES: Record<ServiceName, string> = {
  frontend: path.join(PACKAGE_ROOT, 'docker', 'frontend.Dockerfile'),
  backend: path.join(PACKAGE_ROOT, 'docker', 'backend.Dockerfile'),
}

/** Values a flag sets over the file (flags override the file, the file overrides the defaults). */
export interface ConfigOverrides {
  release?: string
  namespace?: string
  context?: string
}

const OVERRIDE_FLAGS: Record<keyof ConfigOverrides, {path: string[]; flag: string}> = {
  release: {path: ['release'], flag: '--release'},
  namespace: {path: ['namespace'], flag: '--namespace'},
  context: {path: ['cluster', 'context'], flag: '--context'},
}

export interface ResolvedServicePaths {
  contextDir: string
  dockerfile: string
  /** `dev` live sync: `services.<name>.sync`, else the bundled Dockerfile's rules, else none. */
  sync: readonly SyncRule[]
}

/** The configuration with every path resolved: what the rest of the engine reads. */
export interface ResolvedConfig {
  config: TodoDeployConfig
  /** The folder relative paths are resolved from: the config file's folder, else the working directory. */
  projectDir: string
  /** The file that was read, or null when the built-in defaults were used alone. */
  configFile: string | null
  chartDir: string
  /** Values files in the order Helm applies them (chart's own, then the project's). */
  valuesFiles: string[]
  envFile: string
  services: Record<ServiceName, ResolvedServicePaths>
  /** The ConfigMap data, with NEXT_PUBLIC_API_URL derived from the backend service when not set. */
  configMapData: Record<string, string>
  /** `file:line:col` of a key path in the config file, or the flag that set it; undefined when it is a default. */
  locate(keyPath: readonly (string | number)[]): string | undefined
}

export interface LoadOptions {
  /** Path given with --config; when absent `todo-deploy.yaml` in `cwd` is read if it exists. */
  configPath?: string
  cwd?: string
  overrides?: ConfigOverrides
}

interface Problem {
  where: string
  keyPath: string
  message: string
}

export function loadConfig(options: LoadOptions = {}): ResolvedConfig {
  const cwd = options.cwd ?? process.cwd()
  const explicit = options.configPath !== undefined
  if (explicit && options.configPath?.trim() === '') {
    throw new BadInputError('--config is empty', {
      where: '--config',
      fix: 'give the path of a YAML file, or leave out --config to use ./todo-deploy.yaml or the built-in defaults',
    })
  }
  const configFile = path.resolve(cwd, options.configPath ?? DEFAULT_CONFIG_FILE)
  const displayFile = path.relative(cwd, configFile) || configFile
  const source = readConfigSource(configFile, explicit, displayFile)
  const lineCounter = new LineCounter()
  const document =
    source === null ? null : parseDocument(source, {lineCounter, uniqueKeys: true, prettyErrors: false})

  if (document && document.errors.length > 0) {
    // With prettyErrors off the errors carry offsets only (no linePos): the line counter turns them into line:col.
    const problems = document.errors.map((error) => {
      const {line, col} = lineCounter.linePos(error.pos[0])
      return {where: `${displayFile}:${line}:${col}`, keyPath: '', message: yamlMessage(error, source ?? '')}
    })
    throw configError(displayFile, problems)
  }

  if (document && document.contents === null) {
    throw new BadInputError(`${displayFile} is empty`, {
      where: `${displayFile}:1:1`,
      fix: `add the settings to change (the README lists every field), or delete ${displayFile} to use the built-in defaults`,
    })
  }
  const userValue: unknown = document ? toPlainValue(document, lineCounter, displayFile) : null
  if (
    userValue !== null &&
    userValue !== undefined &&
    (typeof userValue !== 'object' || Array.isArray(userValue))
  ) {
    throw configError(displayFile, [
      {
        where: `${displayFile}:1:1`,
        keyPath: '(top level)',
        message: 'must be a mapping of keys such as `release:` and `services:`',
      },
    ])
  }

  const merged = deepMerge(
    defaultsFor((userValue ?? {}) as Record<string, unknown>),
    (userValue ?? {}) as Record<string, unknown>,
  )
  const flagPaths = new Map<string, string>()
  for (const [key, value] of Object.entries(options.overrides ?? {}) as [
    keyof ConfigOverrides,
    string | undefined,
  ][]) {
    if (value === undefined) continue
    const {path: keyPath, flag} = OVERRIDE_FLAGS[key]
    setIn(merged, keyPath, value)
    flagPaths.set(keyPath.join('.'), flag)
  }

  const locate = (keyPath: readonly (string | number)[]): string | undefined => {
    const flag = flagPaths.get(keyPath.join('.'))
    if (flag) return flag
    if (!document) return undefined
    return positionOf(document, lineCounter, keyPath, displayFile, 'value')
  }
  // An unknown key is pointed at where the key itself is written, not at its value.
  const locateKey = (keyPath: readonly (string | number)[]): string | undefined =>
    document ? positionOf(document, lineCounter, keyPath, displayFile, 'key') : undefined

  // Without a file, problems come from the flags: do not name a todo-deploy.yaml that does not exist.
  const fileLabel = source === null ? null : displayFile
  // reportInput keeps the offending value on each issue, so a message can say what was found ("got string").
  const parsed = configSchema.safeParse(merged, {...PARSE_ONCE, reportInput: true})
  if (!parsed.success) {
    throw configError(
      fileLabel,
      parsed.error.issues.flatMap((issue) =>
        issueProblems(issue, {locate, locateKey}, fileLabel ?? '(built-in default)'),
      ),
    )
  }
  const config = parsed.data
  const projectDir = source === null && !explicit ? cwd : path.dirname(configFile)
  return resolvePaths(config, {
    projectDir,
    configFile: source === null ? null : configFile,
    locate,
    fileLabel,
  })
}

function readConfigSource(file: string, explicit: boolean, displayFile: string): string | null {
  let stats
  try {
    stats = statSync(file)
  } catch (error) {
    if (!explicit) return null
    const code = (error as NodeJS.ErrnoException).code
    throw new BadInputError(
      `config file ${inputExcerpt(file)} ${code === 'ENAMETOOLONG' ? 'has a name too long to exist' : 'does not exist'}`,
      {
        where: '--config',
        fix: `create it (see the README's config reference) or leave out --config to use the built-in defaults`,
      },
    )
  }
  if (stats.isDirectory()) {
    throw new BadInputError(`config path ${file} is a directory, not a file`, {
      // Without --config the directory is ./todo-deploy.yaml itself: name it, not a flag the user did not give.
      where: explicit ? '--config' : displayFile,
      fix: explicit
        ? `point --config at the YAML file itself, e.g. ${path.join(file, DEFAULT_CONFIG_FILE)}`
        : `remove or rename the ${displayFile} folder, or pass --config with the YAML file to use`,
    })
  }
  let bytes: Buffer
  try {
    bytes = readFileSync(file)
  } catch (error) {
    throw new BadInputError(
      `cannot read config file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      {
        where: file,
        fix: 'check the file permissions',
      },
    )
  }
  try {
    return new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    const offset = firstInvalidUtf8(bytes)
    // Everything before the offset is valid UTF-8: count lines and characters (not bytes) in it.
    const before = bytes.subarray(0, offset).toString('utf8')
    const line = before.split('\n').length
    const col = [...before.slice(before.lastIndexOf('\n') + 1)].length + 1
    throw new BadInputError(`config file is not valid UTF-8`, {
      where: `${displayFile}:${line}:${col}`,
      fix: 'save the file as UTF-8',
    })
  }
}

/** Offset of the first byte that does not start a valid UTF-8 sequence (each sequence checked on its own). */
function firstInvalidUtf8(bytes: Buffer): number {
  const decoder = new TextDecoder('utf-8', {fatal: true})
  let offset = 0
  while (offset < bytes.length) {
    const lead = bytes[offset] ?? 0
    const length =
      lead < 0x80
        ? 1
        : (lead & 0xe0) === 0xc0
          ? 2
          : (lead & 0xf0) === 0xe0
            ? 3
            : (lead & 0xf8) === 0xf0
              ? 4
              : 0
    if (length === 0 || offset + length > bytes.length) return offset
    try {
      decoder.decode(bytes.subarray(offset, offset + length))
    } catch {
      return offset
    }
    offset += length
  }
  return offset
}

/** The document as plain data, refusing alias expansion past MAX_ALIAS_COUNT (a "billion laughs" file). */
function toPlainValue(document: Document.Parsed, lineCounter: LineCounter, displayFile: string): unknown {
  try {
    return document.toJS({maxAliasCount: MAX_ALIAS_COUNT})
  } catch (error) {
    // yaml throws a ReferenceError for too many aliases (and for an alias to a missing anchor, which parsing already reports).
    if (!(error instanceof ReferenceError)) throw error
    let offset = 0
    visit(document, {
      Alias: (_, node) => {
        offset = node.range?.[0] ?? 0
        return visit.BREAK
      },
    })
    const {line, col} = lineCounter.linePos(offset)
    throw new BadInputError(
      `${displayFile}: its YAML aliases (*name) expand to more than ${MAX_ALIAS_COUNT} copies`,
      {
        where: `${displayFile}:${line}:${col}`,
        details: [
          'aliases that refer to aliases multiply (a "billion laughs" file); todo-deploy refuses to expand them',
        ],
        fix: 'write the values out instead of using &anchors and *aliases',
      },
    )
  }
}

function yamlMessage(error: YAMLError, source: string): string {
  const message = error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? error.message
  if (error.code !== 'DUPLICATE_KEY') return message
  const key = /^["']?([^"':\n]+?)["']?\s*:/.exec(source.slice(error.pos[0]))?.[1]
  return key === undefined ? message : `"${key}" is given twice; keep one (${message})`
}

function configError(file: string | null, problems: Problem[]): BadInputError {
  const count = problems.length
  return new BadInputError(
    `${file === null ? '' : `${file}: `}${count} problem${count === 1 ? '' : 's'} in the configuration`,
    {
      // The first problem's place, for tools reading --json; every place is in the details.
      where: problems[0]?.where,
      details: problems.map((p) => `${p.where}  ${p.keyPath ? `${p.keyPath}: ` : ''}${p.message}`),
      fix: 'correct the keys above; the README lists every field with its default',
    },
  )
}

function issueProblems(
  issue: z.core.$ZodIssue,
  locators: {locate: Locator; locateKey: Locator},
  displayFile: string,
): Problem[] {
  const {locate, locateKey} = locators
  const basePath = issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment))
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const keyPath = [...basePath, key]
      return {
        where: locateKey(keyPath) ?? displayFile,
        keyPath: keyPath.join('.'),
        message: `unknown key${suggestion(key, basePath)}`,
      }
    })
  }
  return [{where: locate(basePath) ?? displayFile, keyPath: basePath.join('.'), message: issueMessage(issue)}]
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.expected === 'int')
    return `must be a whole number${describeReceived(issue.input)}`
  if (issue.code === 'invalid_type') return `expected ${issue.expected}${describeReceived(issue.input)}`
  // A bad key of a free-form map (env, build args): the key's own rule says what is wrong with it.
  if (issue.code === 'invalid_key') return issue.issues[0] ? issueMessage(issue.issues[0]) : issue.message
  if (issue.code === 'invalid_value')
    return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`
  if (issue.code === 'invalid_union') return 'has the wrong type or format'
  // zod's own wording for number bounds ("Too small: expected number to be >=1"); schema-specific messages stay.
  const defaultBound =
    /^Too (small|big)/.test(issue.message) && (issue.code === 'too_small' || issue.code === 'too_big')
  if (defaultBound && issue.code === 'too_small' && (issue.origin === 'number' || issue.origin === 'int')) {
    return `must be ${issue.inclusive === false ? 'above' : 'at least'} ${String(issue.minimum)}${describeReceived(issue.input)}`
  }
  if (defaultBound && issue.code === 'too_big' && (issue.origin === 'number' || issue.origin === 'int')) {
    return `must be ${issue.inclusive === false ? 'below' : 'at most'} ${String(issue.maximum)}${describeReceived(issue.input)}`
  }
  if (defaultBound && issue.code === 'too_small' && issue.origin === 'string') {
    return Number(issue.minimum) === 1
      ? 'must not be empty'
      : `must be at least ${String(issue.minimum)} characters`
  }
  if (defaultBound && issue.code === 'too_big' && issue.origin === 'string') {
    const length = typeof issue.input === 'string' ? `, got ${issue.input.length}` : ''
    return `must be at most ${String(issue.maximum)} characters${length}`
  }
  return issue.message
}

function describeReceived(input: unknown): string {
  if (input === undefined) return ''
  if (input === null) return ', got null'
  if (Array.isArray(input)) return ', got a list'
  if (typeof input === 'object') return ', got a mapping'
  return `, got ${typeof input} ${JSON.stringify(input).slice(0, 40)}`
}

/** "did you mean" for a misspelled key, from the keys that are valid at that level. */
function suggestion(key: string, parentPath: readonly (string | number)[]): string {
  let level: unknown = DEFAULT_CONFIG
  for (const segment of parentPath) level = (level as Record<string, unknown> | undefined)?.[String(segment)]
  if (!level || typeof level !== 'object') return ''
  const candidates = Object.keys(level).filter(
    (candidate) => editDistance(candidate.toLowerCase(), key.toLowerCase()) <= 2,
  )
  return candidates.length > 0 ? ` (did you mean "${candidates[0]}"?)` : ''
}

function editDistance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length] ?? 0
}

type Locator = (keyPath: readonly (string | number)[]) => string | undefined

/**
 * Position of `keyPath` in the document. With target `value`: the value when the whole path exists and ends
 * in a scalar (a wrong type points at the value); with `key`, or when the path is incomplete: the deepest key
 * that exists.
 */
function positionOf(
  document: Document.Parsed,
  lineCounter: LineCounter,
  keyPath: readonly (string | number)[],
  displayFile: string,
  target: 'value' | 'key',
): string | undefined {
  let node: unknown = document.contents
  let offset: number | undefined
  let complete = true
  for (const segment of keyPath) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment))
      if (!pair) {
        complete = false
        break
      }
      offset = isScalar(pair.key) ? pair.key.range?.[0] : offset
      node = pair.value
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
      node = node.items[segment]
      offset = (node as {range?: [number, number, number]}).range?.[0] ?? offset
    } else {
      complete = false
      break
    }
  }
  if (target === 'value' && complete && isScalar(node) && node.range) offset = node.range[0]
  if (offset === undefined) return undefined
  const {line, col} = lineCounter.linePos(offset)
  return `${displayFile}:${line}:${col}`
}

/**
 * The built-in configuration the user's file is merged over. With a registry, images are pulled, not
 * loaded: the services' pullPolicy default becomes IfNotPresent, and the chart's values-dev.yaml (which
 * pins Never for minikube) is no longer read by default. What the user wrote still wins.
 */
function defaultsFor(user: Record<string, unknown>): Record<string, unknown> {
  const defaults = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, unknown>
  const registry = user.registry
  if (isPlainObject(registry) && typeof registry.url === 'string') {
    for (const service of Object.values(defaults.services as Record<string, {image: {pullPolicy: string}}>))
      service.image.pullPolicy = REGISTRY_PULL_POLICY
    ;(defaults.chart as {valuesFiles: string[]}).valuesFiles = []
  }
  return defaults
}

function deepMerge(base: Record<string, unknown>, overlay: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(overlay)) {
    const current = base[key]
    if (isPlainObject(current) && isPlainObject(value) && !FREE_FORM_MAPS.has(key)) {
      base[key] = deepMerge(current, value)
    } else {
      base[key] = value
    }
  }
  return base
}

/** Maps whose keys are the user's own (env vars, build args): a user value replaces the default whole. */
const FREE_FORM_MAPS = new Set(['env', 'args', 'data'])

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function setIn(target: Record<string, unknown>, keyPath: string[], value: unknown): void {
  let level = target
  for (const segment of keyPath.slice(0, -1)) {
    if (!isPlainObject(level[segment])) level[segment] = {}
    level = level[segment] as Record<string, unknown>
  }
  level[keyPath[keyPath.length - 1] as string] = value
}

interface ResolveContext {
  projectDir: string
  configFile: string | null
  locate: (keyPath: readonly (string | number)[]) => string | undefined
  /** The config file as the user named it; null when only defaults and flags were used. */
  fileLabel: string | null
}

function resolvePaths(config: TodoDeployConfig, context: ResolveContext): ResolvedConfig {
  const problems: Problem[] = []
  const inProject = (value: string, keyPath: (string | number)[]): string => {
    const resolved = path.resolve(context.projectDir, value)
    const relative = path.relative(context.projectDir, resolved)
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      problems.push({
        where: context.locate(keyPath) ?? context.fileLabel ?? '(built-in default)',
        keyPath: keyPath.join('.'),
        message: `"${value}" is outside the project folder ${context.projectDir}; use a path inside it`,
      })
    }
    return resolved
  }

  const chartDir =
    config.chart.path === null ? BUNDLED_CHART_DIR : inProject(config.chart.path, ['chart', 'path'])
  if (config.chart.path !== null && problems.length === 0) {
    const problem = chartFolderProblem(chartDir, config.chart.path)
    if (problem) {
      problems.push({
        where: context.locate(['chart', 'path']) ?? context.fileLabel ?? '(built-in default)',
        keyPath: 'chart.path',
        message: problem,
      })
    }
  }
  const valuesFiles = config.chart.valuesFiles.map((file, index) => {
    const resolved = path.resolve(chartDir, file)
    const relative = path.relative(chartDir, resolved)
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      problems.push({
        where: context.locate(['chart', 'valuesFiles', index]) ?? context.fileLabel ?? '(built-in default)',
        keyPath: `chart.valuesFiles.${index}`,
        message: `"${file}" is outside the chart folder; chart.valuesFiles name files inside the chart (use chart.extraValuesFiles for the project's own)`,
      })
    }
    return resolved
  })
  const extraValuesFiles = config.chart.extraValuesFiles.map((file, index) =>
    inProject(file, ['chart', 'extraValuesFiles', index]),
  )
  const envFile = inProject(config.secrets.envFile, ['secrets', 'envFile'])
  const services = {} as Record<ServiceName, ResolvedServicePaths>
  for (const name of SERVICE_NAMES) {
    const {build, sync} = config.services[name]
    const contextDir = inProject(build.context, ['services', name, 'build', 'context'])
    services[name] = {
      contextDir,
      dockerfile:
        build.dockerfile === null
          ? BUNDLED_DOCKERFILES[name]
          : inProject(build.dockerfile, ['services', name, 'build', 'dockerfile']),
      sync:
        sync === null
          ? build.dockerfile === null
            ? BUNDLED_SYNC_RULES[name]
            : []
          : sync.map((rule, index) => {
              const keyPath = ['services', name, 'sync', index, 'from']
              const problem = syncFromProblem(contextDir, rule.from, build.context)
              if (problem !== undefined)
                problems.push({
                  where: context.locate(keyPath) ?? context.fileLabel ?? '(built-in default)',
                  keyPath: keyPath.join('.'),
                  message: problem,
                })
              return {from: normalizeFrom(rule.from), to: normalizeTo(rule.to)}
            }),
    }
  }
  if (problems.length > 0) throw configError(context.fileLabel, problems)

  const backend = config.services.backend
  const configMapData = config.configMap.data ?? {
    NEXT_PUBLIC_API_URL: `http://${backend.service.name}:${backend.service.port}`,
    NODE_ENV: 'production',
  }
  return {
    config,
    projectDir: context.projectDir,
    configFile: context.configFile,
    chartDir,
    valuesFiles: [...valuesFiles, ...extraValuesFiles],
    envFile,
    services,
    configMapData,
    locate: context.locate,
  }
}

/**
 * Why a sync rule's `from` cannot be synced from, or undefined when it can: it must stay inside the
 * build context, by name and, when it exists, through symlinks (a link out of the context would copy
 * files no build ever sees). A `from` that does not exist yet is fine: the folder may come later.
 */
function syncFromProblem(contextDir: string, from: string, contextSetting: string): string | undefined {
  const outside = `"${from}" is outside the build context ${contextSetting}; sync.from names a folder or file inside it (relative to it)`
  if (path.isAbsolute(from)) return outside
  const resolved = path.resolve(contextDir, from)
  const relative = path.relative(contextDir, resolved)
  if (relative.startsWith('..') || path.isAbsolute(relative)) return outside
  let real: string
  let realContext: string
  try {
    realContext = realpathSync(contextDir)
    real = realpathSync(resolved)
  } catch {
    return undefined
  }
  const realRelative = path.relative(realContext, real)
  if (realRelative.startsWith('..') || path.isAbsolute(realRelative))
    return `"${from}" leads out of the build context ${contextSetting} through a symlink (to ${real}); sync a folder that lives inside the context`
  return undefined
}

/** Why `chartDir` (from chart.path `value`) cannot be a Helm chart, or undefined when it can. */
function chartFolderProblem(chartDir: string, value: string): string | undefined {
  let stats
  try {
    stats = statSync(chartDir)
  } catch {
    return `the chart folder "${value}" (${chartDir}) does not exist; point chart.path at the folder holding Chart.yaml`
  }
  if (!stats.isDirectory())
    return `"${value}" is a file, not a chart folder; point chart.path at the folder holding Chart.yaml`
  if (!existsSync(path.join(chartDir, 'Chart.yaml'))) {
    return `the chart folder "${value}" has no Chart.yaml; point chart.path at the folder holding Chart.yaml`
  }
  return undefined
}
