import {type FSWatcher, watch} from 'node:fs'
import {lstat, readdir, realpath} from 'node:fs/promises'
import path from 'node:path'

import {relativeInside, resolveContextDir} from '../image/build-context.js'
import {ContextFilter, DOCKERIGNORE} from '../image/context-filter.js'
import type {ResolvedConfig} from '../config/load.js'
import {SERVICE_NAMES, type ServiceName} from '../config/schema.js'
import {PrerequisiteError} from '../errors.js'
import {type ChangeKind, ChangeCollector, type ChangeSet} from './change-set.js'

export const DEFAULT_DEBOUNCE_MS = 300

/** Folders that never trigger anything, whatever `.dockerignore` says: installs, build output, git's own files. */
export const NEVER_WATCHED: ReadonlySet<string> = new Set(['node_modules', '.next', '.git'])

export interface ServiceSources {
  service: ServiceName
  contextDir: string
  /** The Dockerfile the build uses; watched on its own when it lies outside the context. */
  dockerfile: string
}

/** Everything whose change calls for a new iteration of `dev`. */
export interface WatchTargets {
  /** The enabled services only. */
  services: readonly ServiceSources[]
  configFile: string | null
  chartDir: string
  /** Values files given to Helm; those outside the chart folder are watched on their own (reported as chart changes). */
  valuesFiles: readonly string[]
  envFile: string
}

export function watchTargetsOf(resolved: ResolvedConfig): WatchTargets {
  return {
    services: SERVICE_NAMES.filter((service) => resolved.config.services[service].enabled).map((service) => ({
      service,
      contextDir: resolved.services[service].contextDir,
      dockerfile: resolved.services[service].dockerfile,
    })),
    configFile: resolved.configFile,
    chartDir: resolved.chartDir,
    valuesFiles: resolved.valuesFiles,
    envFile: resolved.envFile,
  }
}

export interface SourceWatcherOptions {
  /** Quiet time after the last change before the changes are handed on (default 300 ms). */
  debounceMs?: number
  /** Receives one change set per burst of changes. */
  onChange: (changes: ChangeSet) => void
  /** A folder that could not be watched while running (the watcher goes on without it). */
  onError?: (error: Error) => void
}

interface TreeRules {
  /** Whether the walk enters the folder. */
  enters(relative: string): boolean
  /** Whether a change of the file (or of a removed folder) at this path counts. */
  counts(relative: string): boolean
}

interface Sink {
  record(kind: ChangeKind, relative: string): void
  /** Runs `work` (an event that needs the disk to be classified) and holds the flush until it is done. */
  track(work: () => Promise<void>): void
  closed(): boolean
}

/**
 * Watches the sources of `dev` without polling: Node's `fs.watch` on each folder that can hold a sent
 * file (one inotify watch per folder, none per file; folders that `.dockerignore` excludes and
 * NEVER_WATCHED are not entered at all), plus the parent folders of single files (so an editor's
 * save-by-rename is seen). Chosen by measuring a 20,000-file context beside a 20,000-file node_modules
 * (process RSS, Node 20, Linux): chokidar 4 puts a watch on every file (~240 MiB); Node's recursive
 * `fs.watch` does too and cannot skip node_modules (~165 MiB, growing with node_modules); one watch
 * per folder is ~50 MiB, and bench/dev-watch.ts keeps measuring it. Events are classified by the same
 * ContextFilter the build uses, collected, and handed on as one ChangeSet once no event has come for
 * `debounceMs`.
 */
export class SourceWatcher implements Sink {
  readonly #trees: WatchedTree[] = []
  readonly #files = new Map<
    string,
    {watcher: FSWatcher; names: Map<string, {kind: ChangeKind; label: string}[]>}
  >()
  readonly #collector = new ChangeCollector()
  readonly #debounceMs: number
  readonly #onChange: (changes: ChangeSet) => void
  readonly #onError: (error: Error) => void
  #timer: NodeJS.Timeout | undefined
  #busy = 0
  #closed = false

  private constructor(options: SourceWatcherOptions) {
    this.#debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS
    this.#onChange = options.onChange
    this.#onError = options.onError ?? (() => {})
  }

  static async start(targets: WatchTargets, options: SourceWatcherOptions): Promise<SourceWatcher> {
    const watcher = new SourceWatcher(options)
    try {
      await watcher.#watch(targets)
    } catch (error) {
      watcher.close()
      throw error
    }
    return watcher
  }

  /** How many folders are watched (one OS watch each). */
  get folderCount(): number {
    return this.#trees.reduce((sum, tree) => sum + tree.folderCount, 0) + this.#files.size
  }

  close(): void {
    this.#closed = true
    clearTimeout(this.#timer)
    for (const tree of this.#trees) tree.closeUnder('')
    for (const {watcher} of this.#files.values()) watcher.close()
    this.#files.clear()
  }

  record(kind: ChangeKind, relative: string): void {
    if (this.#closed) return
    this.#collector.record(kind, relative)
    this.#schedule()
  }

  track(work: () => Promise<void>): void {
    this.#busy++
    work()
      .catch((error: unknown) => this.#onError(error instanceof Error ? error : new Error(String(error))))
      .finally(() => {
        this.#busy--
        this.#schedule()
      })
  }

  closed(): boolean {
    return this.#closed
  }

  async #watch(targets: WatchTargets): Promise<void> {
    const chartDir = await realpathOrUndefined(targets.chartDir)
    for (const {service, contextDir, dockerfile} of targets.services) {
      const dir = await resolveContextDir(contextDir)
      const dockerfileInContext = await relativeInside(dir, path.resolve(contextDir, dockerfile))
      const alwaysSent = dockerfileInContext === undefined ? [] : [dockerfileInContext]
      let filter = await ContextFilter.load(dir, alwaysSent)
      const tree = new WatchedTree(service, dir, this, {
        enters: (relative) => !isNeverWatched(relative) && filter.mayHoldSentFiles(relative),
        counts: (relative) => !isNeverWatched(relative) && filter.sends(relative),
      })
      // A new .dockerignore changes which folders matter: watch by the new rules.
      tree.onRulesFile(DOCKERIGNORE, async () => {
        filter = await ContextFilter.load(dir, alwaysSent)
      })
      this.#trees.push(tree)
      await tree.watchFolder('')
      if (dockerfileInContext === undefined) {
        await this.#watchFile(dockerfile, service, path.relative(dir, path.resolve(contextDir, dockerfile)))
      }
    }
    if (chartDir !== undefined) {
      const tree = new WatchedTree('chart', chartDir, this, {
        enters: (relative) => !isNeverWatched(relative),
        counts: (relative) => !isNeverWatched(relative),
      })
      this.#trees.push(tree)
      await tree.watchFolder('')
    }
    for (const file of targets.valuesFiles) {
      const resolved = await realpathOrUndefined(path.dirname(file))
      if (chartDir === undefined || resolved === undefined || !isInsideOrSame(chartDir, resolved))
        await this.#watchFile(file, 'chart', path.basename(file))
    }
    if (targets.configFile !== null) await this.#watchFile(targets.configFile, 'config', '')
    await this.#watchFile(targets.envFile, 'env', '')
  }

  /** Watches `file` through its folder, so a replaced file (an editor's atomic save) is still seen. */
  async #watchFile(file: string, kind: ChangeKind, label: string): Promise<void> {
    const dir = await realpathOrUndefined(path.dirname(file))
    // A folder that does not exist cannot hold the file yet; the configuration check reports real mistakes.
    if (dir === undefined) return
    let entry = this.#files.get(dir)
    if (entry === undefined) {
      const names = new Map<string, {kind: ChangeKind; label: string}[]>()
      const watcher = watchFolder(dir, (_type, name) => {
        for (const target of (name !== null && names.get(name)) || []) this.record(target.kind, target.label)
      })
      if (watcher === undefined) return
      watcher.on('error', (error) => {
        watcher.close()
        this.#files.delete(dir)
        this.#onError(error)
      })
      this.#files.set(dir, (entry = {watcher, names}))
    }
    const name = path.basename(file)
    entry.names.set(name, [...(entry.names.get(name) ?? []), {kind, label}])
  }

  #schedule(): void {
    if (this.#closed) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.#flush(), this.#debounceMs)
  }

  #flush(): void {
    // Events still being classified belong to this burst: their end schedules the flush again.
    if (this.#busy > 0 || this.#collector.empty || this.#closed) return
    this.#onChange(this.#collector.take())
  }
}

/** One watched folder tree: a watch on every folder its rules enter. */
class WatchedTree {
  readonly #folders = new Map<string, FSWatcher>()
  #rulesFile: {name: string; reload: () => Promise<void>} | undefined

  constructor(
    readonly kind: ChangeKind,
    readonly root: string,
    private readonly sink: Sink,
    private readonly rules: TreeRules,
  ) {}

  get folderCount(): number {
    return this.#folders.size
  }

  /** When the root's `name` changes, `reload` the rules and watch the tree again by them. */
  onRulesFile(name: string, reload: () => Promise<void>): void {
    this.#rulesFile = {name, reload}
  }

  /** Watches the folder and every folder below it that the rules enter; `found` hears of each counted file. */
  async watchFolder(relative: string, found?: (file: string) => void): Promise<void> {
    if (this.sink.closed() || this.#folders.has(relative)) return
    const watcher = watchFolder(path.join(this.root, relative), (type, name) =>
      this.#onEvent(relative, type, name),
    )
    // It vanished before it could be watched: the parent's event reports it.
    if (watcher === undefined) return
    watcher.on('error', () => this.closeUnder(relative))
    this.#folders.set(relative, watcher)
    let entries
    try {
      entries = await readdir(path.join(this.root, relative), {withFileTypes: true})
    } catch {
      return
    }
    for (const entry of entries) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`
      if (entry.isDirectory()) {
        if (this.rules.enters(child)) await this.watchFolder(child, found)
      } else if (found !== undefined && this.rules.counts(child)) {
        found(child)
      }
    }
  }

  closeUnder(relative: string): void {
    for (const [folder, watcher] of this.#folders) {
      if (relative === '' || folder === relative || folder.startsWith(`${relative}/`)) {
        watcher.close()
        this.#folders.delete(folder)
      }
    }
  }

  #onEvent(folder: string, type: string, name: string | null): void {
    // Linux and macOS always name the entry; without a name there is nothing to classify.
    if (name === null || this.sink.closed()) return
    const relative = folder === '' ? name : `${folder}/${name}`
    if (isNeverWatched(relative)) return
    if (folder === '' && name === this.#rulesFile?.name) {
      const {reload} = this.#rulesFile
      this.sink.record(this.kind, relative)
      this.sink.track(async () => {
        await reload()
        this.closeUnder('')
        await this.watchFolder('')
      })
      return
    }
    if (type === 'rename') {
      this.sink.track(() => this.#onRename(folder, name))
    } else if (!this.#folders.has(relative) && this.rules.counts(relative)) {
      // A 'change' of a watched folder is its own metadata, not a file of the context.
      this.sink.record(this.kind, relative)
    }
  }

  /** Something appeared or went: a new folder is watched and its files count; a removed one is let go. */
  async #onRename(folder: string, name: string): Promise<void> {
    const relative = folder === '' ? name : `${folder}/${name}`
    const stats = await lstat(path.join(this.root, relative)).catch(() => undefined)
    // A watched folder that is removed or moved reports itself under its own name; its parent reports it too.
    if (stats === undefined && name === path.basename(path.join(this.root, folder))) {
      if (!(await exists(path.join(this.root, folder)))) {
        this.closeUnder(folder)
        return
      }
    }
    if (stats?.isDirectory()) {
      if (!this.#folders.has(relative) && this.rules.enters(relative))
        await this.watchFolder(relative, (file) => this.sink.record(this.kind, file))
      return
    }
    this.closeUnder(relative)
    if (this.rules.counts(relative)) this.sink.record(this.kind, relative)
  }
}

/** `fs.watch` on one folder; undefined when it is gone; the OS limit on watches is a prerequisite error. */
function watchFolder(
  dir: string,
  listener: (type: string, name: string | null) => void,
): FSWatcher | undefined {
  try {
    return watch(dir, {persistent: true}, listener)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    if (code === 'ENOSPC' || code === 'EMFILE') {
      throw new PrerequisiteError(`the system's limit of file watchers is reached while watching ${dir}`, {
        where: dir,
        fix: 'exclude generated folders in .dockerignore, or raise the limit: sudo sysctl fs.inotify.max_user_watches=524288',
        cause: error,
      })
    }
    throw error
  }
}

function isNeverWatched(relative: string): boolean {
  return relative.split('/').some((segment) => NEVER_WATCHED.has(segment))
}

function isInsideOrSame(dir: string, target: string): boolean {
  const rel = path.relative(dir, target)
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel))
}

async function exists(target: string): Promise<boolean> {
  return (await lstat(target).catch(() => undefined)) !== undefined
}

async function realpathOrUndefined(target: string): Promise<string | undefined> {
  try {
    return await realpath(target)
  } catch {
    return undefined
  }
}
