/**
 * What watching costs in `dev`: a generated 20,000-file build context (plus a 20,000-file node_modules
 * and a .git folder that must cost nothing) is watched by SourceWatcher in a child process of its own,
 * so the figures are the watcher's and not the benchmark's. Prints idle CPU (% of one core), peak RSS,
 * and whether a 500-file burst makes exactly one change set. Targets: <= 2% idle CPU, <= 150 MiB peak.
 *
 * `node --import tsx bench/dev-watch.ts` runs it alone; bench/run.ts can call benchDevWatch().
 */
import {execFile} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {performance} from 'node:perf_hooks'
import {fileURLToPath, pathToFileURL} from 'node:url'

import type {ChangeSet} from '../src/lib/dev/change-set.js'
import {SourceWatcher, type WatchTargets} from '../src/lib/dev/source-watcher.js'

const CONTEXT_FILES = 20_000
const FILES_PER_FOLDER = 50
const BURST_FILES = 500
const IDLE_MS = Number(process.env.DEV_WATCH_IDLE_MS ?? 10_000)
/** After the burst's change set, this long without a second one means the burst was one change set. */
const AFTER_BURST_QUIET_MS = 3_000
const MiB = 1024 * 1024

export interface DevWatchFigures {
  contextFiles: number
  watchedFolders: number
  setupMs: number
  idleCpuPercent: number
  /** Peak resident memory of the watching process. */
  peakRssMiB: number
  /** Of that, what the process held before the watcher started (Node and the loaded modules). */
  baselineRssMiB: number
  burstFiles: number
  burstChangeSets: number
  burstFilesReported: number
}

function generateProject(root: string): void {
  const write = (relative: string, content: string): void => {
    mkdirSync(path.dirname(path.join(root, relative)), {recursive: true})
    writeFileSync(path.join(root, relative), content)
  }
  for (let i = 0; i < CONTEXT_FILES; i++) {
    const folder = Math.floor(i / FILES_PER_FOLDER)
    write(`frontend/src/area${folder % 20}/module${folder}/file${i}.ts`, `export const v${i} = ${i}\n`)
    write(`frontend/node_modules/pkg${folder % 40}/lib${folder}/file${i}.js`, `module.exports = ${i}\n`)
  }
  for (let i = 0; i < 200; i++) write(`frontend/.git/objects/${i % 16}/obj${i}`, 'x')
  write('frontend/.dockerignore', 'node_modules\n.next\n.git\n')
  write('frontend/Dockerfile', 'FROM scratch\n')
  write('backend/main.py', 'app = None\n')
  write('chart/Chart.yaml', 'name: todo\n')
  write('todo-deploy.yaml', 'release: todo\n')
  write('.env', 'X=1\n')
}

function targetsFor(root: string): WatchTargets {
  return {
    services: [
      {
        service: 'frontend',
        contextDir: path.join(root, 'frontend'),
        dockerfile: path.join(root, 'frontend/Dockerfile'),
      },
      {
        service: 'backend',
        contextDir: path.join(root, 'backend'),
        dockerfile: path.join(root, 'frontend/Dockerfile'),
      },
    ],
    configFile: path.join(root, 'todo-deploy.yaml'),
    chartDir: path.join(root, 'chart'),
    valuesFiles: [],
    envFile: path.join(root, '.env'),
  }
}

/** The child: watch, sit idle, then make a burst; print the figures as one JSON line. */
async function watchAndMeasure(root: string): Promise<void> {
  const targets = targetsFor(root)
  const baseline = process.memoryUsage().rss
  let peak = baseline
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50)
  const received: ChangeSet[] = []
  let changed: (() => void) | undefined
  const setupStart = performance.now()
  const watcher = await SourceWatcher.start(targets, {
    onChange: (changes) => {
      received.push(changes)
      changed?.()
    },
  })
  const setupMs = performance.now() - setupStart
  const watchedFolders = watcher.folderCount

  // Idle: nothing changes; what the watcher costs is what the process burns.
  const cpuBefore = process.cpuUsage()
  const idleStart = performance.now()
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS))
  const cpu = process.cpuUsage(cpuBefore)
  const idleCpuPercent = ((cpu.user + cpu.system) / 1000 / (performance.now() - idleStart)) * 100

  // A checkout: half the files edited, half new in a new folder.
  const firstChange = new Promise<void>((resolve) => (changed = resolve))
  const writes: Promise<void>[] = []
  for (let i = 0; i < BURST_FILES; i++) {
    const relative =
      i % 2 === 0
        ? `frontend/src/area${Math.floor(i / FILES_PER_FOLDER) % 20}/module${Math.floor(i / FILES_PER_FOLDER)}/file${i}.ts`
        : `frontend/src/checked-out/new${i}.ts`
    writes.push(
      (async () => {
        mkdirSync(path.dirname(path.join(root, relative)), {recursive: true})
        writeFileSync(path.join(root, relative), `changed ${i}\n`)
      })(),
    )
  }
  await Promise.all(writes)
  await firstChange
  await new Promise((resolve) => setTimeout(resolve, AFTER_BURST_QUIET_MS))
  watcher.close()
  clearInterval(sampler)
  peak = Math.max(peak, process.resourceUsage().maxRSS * 1024)

  const figures: DevWatchFigures = {
    contextFiles: CONTEXT_FILES,
    watchedFolders,
    setupMs: Math.round(setupMs),
    idleCpuPercent: Number(idleCpuPercent.toFixed(2)),
    peakRssMiB: Number((peak / MiB).toFixed(1)),
    baselineRssMiB: Number((baseline / MiB).toFixed(1)),
    burstFiles: BURST_FILES,
    burstChangeSets: received.length,
    burstFilesReported: received.reduce(
      (sum, changes) => sum + changes.services.reduce((count, service) => count + service.files, 0),
      0,
    ),
  }
  process.stdout.write(`${JSON.stringify(figures)}\n`)
}

/** Runs the measurement in a child process (its own memory and CPU) and returns its figures. */
export async function benchDevWatch(): Promise<DevWatchFigures> {
  const root = mkdtempSync(path.join(tmpdir(), 'todo-deploy-bench-watch-'))
  try {
    generateProject(root)
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', root],
        {timeout: IDLE_MS + 120_000, maxBuffer: 1024 * 1024},
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
      ),
    )
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as DevWatchFigures
  } finally {
    rmSync(root, {recursive: true, force: true})
  }
}

export function formatDevWatch(figures: DevWatchFigures): string {
  const check = (ok: boolean): string => (ok ? 'ok' : 'MISSED')
  return [
    `dev watch: ${figures.contextFiles} context files (+ node_modules, .git) in ${figures.watchedFolders} watched folders, ready in ${figures.setupMs} ms`,
    `  idle CPU  ${figures.idleCpuPercent.toFixed(2)}% of one core over ${IDLE_MS / 1000}s (target <= 2%: ${check(figures.idleCpuPercent <= 2)})`,
    `  peak RSS  ${figures.peakRssMiB} MiB, of which ${figures.baselineRssMiB} MiB before watching (target <= 150 MiB: ${check(figures.peakRssMiB <= 150)})`,
    `  burst     ${figures.burstFiles} files -> ${figures.burstChangeSets} change set(s) reporting ${figures.burstFilesReported} files (target 1: ${check(figures.burstChangeSets === 1 && figures.burstFilesReported === figures.burstFiles)})`,
  ].join('\n')
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const childIndex = process.argv.indexOf('--child')
  if (childIndex >= 0) {
    await watchAndMeasure(process.argv[childIndex + 1] as string)
  } else {
    const figures = await benchDevWatch()
    console.log(formatDevWatch(figures))
    if (figures.burstChangeSets !== 1) process.exitCode = 1
  }
}
