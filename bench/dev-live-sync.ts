/**
 * `dev` live sync end to end (issue 20), on a REAL cluster when the current kube context answers and
 * `minikube` is on PATH (skipped otherwise: an in-memory cluster serves nothing). A real `dev --json`
 * session of the built CLI, on the e2e fixture made a live-sync project (busybox httpd images with a
 * `dev` stage, 2 frontend pods, `www` synced to `/www`):
 * - 10 edits of a synced page, each timed from the write to the URL serving it (the debounce
 *   included, as the user waits for it), with no image build, load or helm revision for any of them;
 * - 100 files written at once, timed until the URL serves the last one: one stream (one `synced` event);
 * - the baseline: one edit of a page that no rule covers (`plain/`), so `dev` rebuilds, loads and rolls
 *   out the frontend, timed the same way.
 *
 * `node --import tsx bench/dev-live-sync.ts` runs it alone (after `npm run build`); bench/run.ts calls it.
 */
import {performance} from 'node:perf_hooks'
import {randomBytes} from 'node:crypto'
import {fileURLToPath} from 'node:url'

import {execa} from 'execa'
import which from 'which'

import {ClusterTools} from '../test/e2e/support/cluster-tools.js'
import {E2eProject} from '../test/e2e/support/e2e-project.js'
import {
  makeLiveSyncProject,
  writeFrontendFile,
  writePlainPage,
} from '../test/e2e/support/live-sync-project.js'
import {removeRelease} from '../test/e2e/support/release-cleanup.js'
import {TodoDeployCli, type RunningCli} from '../test/e2e/support/todo-deploy-cli.js'

const EDITS = 10
const MANY_FILES = 100
const TARGETS = {medianMs: 2000, p95Ms: 3000, manyMs: 5000}
/** Names of the release, namespace and images: `<prefix>-<random>`. */
const PREFIX = 'bench-sync'
const SERVED_WITHIN_MS = 60_000
const REBUILT_WITHIN_MS = 10 * 60_000

export interface DevLiveSyncFigures {
  context: string
  debounceMs: number
  editMs: number[]
  /** What dev did for the edits and the 100 files: helm revisions, `up` runs, images loaded. */
  revisionsAdded: number
  upRuns: number
  imagesAdded: number
  manyMs: number
  /** The `synced` events of the 100 files: one means one stream per pod. */
  manySyncs: {files: number; pods: number; ms: number}[]
  manyRebuilt: boolean
  rebuildMs: number
  rebuildRevisionsAdded: number
}

interface DevEvent {
  event: string
  service?: string
  files?: number
  pods?: number
  ms?: number
  url?: string
}

function events(dev: RunningCli): DevEvent[] {
  return dev
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as DevEvent)
}

/** GETs `url` every 25 ms until the body holds `marker`; the ms since `started`. */
async function servedAfter(url: string, marker: string, started: number, withinMs: number): Promise<number> {
  for (;;) {
    try {
      const response = await fetch(url, {signal: AbortSignal.timeout(2000)})
      if (response.ok && (await response.text()).includes(marker)) return performance.now() - started
    } catch {
      // not answering yet: poll again
    }
    if (performance.now() - started > withinMs)
      throw new Error(`${url} did not serve "${marker}" within ${withinMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

async function until<T>(
  what: string,
  value: () => T | undefined | Promise<T | undefined>,
  withinMs: number,
): Promise<T> {
  const deadline = Date.now() + withinMs
  for (;;) {
    const found = await value()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function imageCount(): Promise<number> {
  const {stdout} = await execa('minikube', ['image', 'ls'])
  return stdout.split('\n').filter((line) => line.includes(PREFIX)).length
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * fraction) - 1)] ?? Number.NaN
}

export async function benchDevLiveSync(): Promise<DevLiveSyncFigures | string> {
  if (which.sync('kubectl', {nothrow: true}) === null || which.sync('minikube', {nothrow: true}) === null)
    return 'kubectl or minikube is not on PATH: it needs a real cluster'
  let tools: ClusterTools
  try {
    tools = await ClusterTools.connect()
  } catch {
    return 'no reachable kube context: it needs a real cluster'
  }
  const project = new E2eProject(tools.context, {prefix: PREFIX})
  makeLiveSyncProject(project, {frontendReplicas: 2})
  const cli = new TodoDeployCli({cwd: project.dir, env: project.cliEnv(tools.cliPath())})
  const debounceMs = 300
  const dev = cli.start(['dev', '--json', '--debounce', String(debounceMs)])
  const revision = async (): Promise<number> =>
    (await tools.helmHistory(project.namespace, project.release)).at(-1)?.revision ?? 0
  const count = (event: string): number => events(dev).filter((each) => each.event === event).length
  try {
    await until(
      'the first deploy of dev',
      () => (count('watching') > 0 ? true : undefined),
      REBUILT_WITHIN_MS,
    )
    const reachable = await until(
      'the URL',
      () => events(dev).find((event) => event.event === 'reachable'),
      SERVED_WITHIN_MS,
    )
    const url = (reachable.url ?? '').replace(/\/$/, '')
    if (url === '') throw new Error('bench: dev printed no URL after the first deploy of dev')
    const before = {revision: await revision(), up: count('up'), images: await imageCount()}

    const run = randomBytes(3).toString('hex')
    const editMs: number[] = []
    for (let edit = 0; edit < EDITS; edit++) {
      const synced = count('synced')
      const marker = `bench edit ${run} ${edit}`
      const started = performance.now()
      project.setFrontendPage(marker)
      editMs.push(await servedAfter(`${url}/`, marker, started, SERVED_WITHIN_MS))
      // The next edit starts after this one's sync is reported, so each is one change of its own.
      await until('the synced event', () => (count('synced') > synced ? true : undefined), SERVED_WITHIN_MS)
    }

    const syncedBefore = events(dev).length
    const started = performance.now()
    for (let file = 0; file < MANY_FILES; file++)
      writeFrontendFile(project, `www/many/file${file}.html`, `many ${run} ${file}\n`)
    let manyMs = 0
    for (const file of [MANY_FILES - 1, 0])
      manyMs = await servedAfter(
        `${url}/many/file${file}.html`,
        `many ${run} ${file}`,
        started,
        SERVED_WITHIN_MS,
      )
    await until(
      'the 100 files synced',
      () => {
        const synced = events(dev)
          .slice(syncedBefore)
          .filter((event) => event.event === 'synced')
        return synced.reduce((sum, event) => sum + (event.files ?? 0), 0) >= MANY_FILES ? true : undefined
      },
      SERVED_WITHIN_MS,
    )
    const manySyncs = events(dev)
      .slice(syncedBefore)
      .filter((event) => event.event === 'synced')
      .map((event) => ({files: event.files ?? 0, pods: event.pods ?? 0, ms: event.ms ?? 0}))
    const after = {revision: await revision(), up: count('up'), images: await imageCount()}

    const rebuildStarted = performance.now()
    writePlainPage(project, `rebuilt ${run}`)
    const rebuildMs = await servedAfter(
      `${url}/plain/page.html`,
      `rebuilt ${run}`,
      rebuildStarted,
      REBUILT_WITHIN_MS,
    )
    return {
      context: tools.context,
      debounceMs,
      editMs,
      revisionsAdded: after.revision - before.revision,
      upRuns: after.up - before.up,
      imagesAdded: after.images - before.images,
      manyMs,
      manySyncs,
      manyRebuilt: after.up > before.up,
      rebuildMs,
      rebuildRevisionsAdded: (await revision()) - after.revision,
    }
  } finally {
    dev.interrupt()
    await dev.done
    await removeRelease(project, cli, tools)
  }
}

export function formatDevLiveSync(figures: DevLiveSyncFigures | string): string {
  if (typeof figures === 'string') return `dev live sync (real cluster): skipped, ${figures}`
  const median = percentile(figures.editMs, 0.5)
  const p95 = percentile(figures.editMs, 0.95)
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`
  const stream =
    figures.manySyncs.length === 1
      ? `one stream (${figures.manySyncs[0]?.files} files to ${figures.manySyncs[0]?.pods} pods, copy ${figures.manySyncs[0]?.ms} ms)`
      : `${figures.manySyncs.length} syncs (${figures.manySyncs.map((sync) => sync.files).join(' + ')} files)${figures.manyRebuilt ? ', and a rebuild' : ''}`
  return [
    `dev live sync, real cluster ${figures.context}, 2 frontend pods, debounce ${figures.debounceMs} ms included:`,
    `  edit of a synced page → the URL serves it: median ${s(median)}, p95 ${s(p95)} over ${figures.editMs.length} edits (targets <= ${s(TARGETS.medianMs)}, <= ${s(TARGETS.p95Ms)})`,
    `    ${figures.editMs.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s`,
    `    during the edits and the 100 files: ${figures.revisionsAdded} helm revisions, ${figures.upRuns} up runs, ${figures.imagesAdded} images loaded (target 0)`,
    `  ${MANY_FILES} files at once → the URL serves them: ${s(figures.manyMs)}, ${stream} (target <= ${s(TARGETS.manyMs)})`,
    `  baseline, a rebuild iteration (an edit no rule covers): ${s(figures.rebuildMs)}, ${figures.rebuildRevisionsAdded} helm revision; a synced edit is ${(figures.rebuildMs / median).toFixed(0)}x faster`,
  ].join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(formatDevLiveSync(await benchDevLiveSync()))
}
