/**
 * `npm run bench`: how fast the things a user waits for are, on the REAL Docker Engine, with the
 * cluster, helm and Kubernetes API as in-memory doubles (no cluster exists here). Not a test: it
 * prints figures, and the ratio of a no-change `up` against doing the same work the naive way
 * (docker build both images + send them + helm upgrade, every time), measured in the same run.
 * Whole-process runs (`status`, `--help` as a user starts them) are in bench/startup.ts.
 */
import {randomBytes} from 'node:crypto'
import {copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {performance} from 'node:perf_hooks'

import {BuildContext} from '../src/lib/image/build-context.js'
import {ContentTagger} from '../src/lib/image/content-tag.js'
import {dockerFromEnv} from '../src/lib/image/docker-engine.js'
import {DockerImageBuilder} from '../src/lib/image/image-builder.js'
import {CachedClusterTarget} from '../src/lib/cluster/cached-cluster-target.js'
import {MinikubeCluster} from '../src/lib/cluster/minikube-cluster.js'
import {loadConfig, type ResolvedConfig} from '../src/lib/config/load.js'
import {runUp, type UpOptions} from '../src/lib/lifecycle/up.js'
import {ExecaProcessRunner} from '../src/lib/process/runner.js'
import {benchDevIteration, formatDevIteration} from './dev-iteration.js'
import {benchDevWatch, formatDevWatch} from './dev-watch.js'
import {benchTraffic, formatTraffic} from './traffic.js'
import {benchLiveSyncCopy, formatLiveSyncCopy} from './live-sync-copy.js'
import {benchDevLiveSync, formatDevLiveSync} from './dev-live-sync.js'
import {BUSYBOX_DOCKERFILE, FakeCluster, testSecrets, UP_OPTIONS} from '../test/support/fake-connection.js'
import {ApiNode, MinikubeNode} from '../test/support/fake-minikube.js'

const REPOSITORIES = {frontend: 'todo-bench-frontend', backend: 'todo-bench-backend'} as const
const SIZED_REPOSITORIES = {frontend: 'todo-bench-big', backend: 'todo-bench-small'} as const
/** The generated layer of the larger image (random bytes: nothing compresses it away). */
const BIG_LAYER_MB = 48
/** Rounds of the cold comparison; the side that goes first alternates. */
const COLD_RUNS = 5
/** The minikube profile of the recorded outputs the `minikube` double answers with. */
const PROFILE = 'todo'
const NO_CHANGE_RUNS = 7
const NAIVE_RUNS = 3
const TAG_FILES = 20_000

const runner = new ExecaProcessRunner()
const builder = new DockerImageBuilder(dockerFromEnv(process.env))
const work = mkdtempSync(path.join(tmpdir(), 'todo-deploy-bench-'))

interface Row {
  what: string
  ms: number
  note?: string
}
const rows: Row[] = []

async function timed<T>(body: () => Promise<T>): Promise<{ms: number; value: T}> {
  const start = performance.now()
  const value = await body()
  return {ms: performance.now() - start, value}
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

async function run(file: string, args: string[], options: {cwd?: string} = {}): Promise<void> {
  const result = await runner.run(file, args, {cwd: options.cwd, timeoutMs: 120_000})
  if (result.exitCode !== 0)
    throw new Error(`${file} ${args.join(' ')} exited ${result.exitCode}: ${result.stderr}`)
}

/** Two services whose images the engine can build offline: FROM scratch + the static busybox. */
function createProject(
  name = 'project',
  repositories: Record<'frontend' | 'backend', string> = REPOSITORIES,
): ResolvedConfig {
  const dir = path.join(work, name)
  for (const service of ['frontend', 'backend'] as const) {
    mkdirSync(path.join(dir, service, 'app'), {recursive: true})
    writeFileSync(path.join(dir, service, 'Dockerfile'), BUSYBOX_DOCKERFILE)
    copyFileSync('/bin/busybox', path.join(dir, service, 'busybox'))
    for (let index = 0; index < 200; index++)
      writeFileSync(path.join(dir, service, 'app', `page-${index}.html`), `<p>${service} ${index}</p>\n`)
  }
  writeFileSync(
    path.join(dir, 'todo-deploy.yaml'),
    [
      'services:',
      ...(['frontend', 'backend'] as const).flatMap((service) => [
        `  ${service}:`,
        `    build: {context: ${service}, dockerfile: ${service}/Dockerfile}`,
        `    image: {repository: ${repositories[service]}}`,
      ]),
      '',
    ].join('\n'),
  )
  return loadConfig({cwd: dir})
}

function upOptions(): UpOptions {
  return {...UP_OPTIONS, holder: 'bench'}
}

async function benchUp(resolved: ResolvedConfig): Promise<{noChangeMs: number; naiveMs: number}> {
  const fake = new FakeCluster({images: builder, tagCacheDir: path.join(work, 'tag-cache')})
  const secrets = testSecrets()
  const cold = await timed(() => runUp(resolved, fake.connection, secrets, upOptions()))
  rows.push({
    what: 'cold up (real builds, in-memory cluster)',
    ms: cold.ms,
    note: cold.value.images.map((image) => image.ref).join(', '),
  })

  const noChange: number[] = []
  for (let index = 0; index < NO_CHANGE_RUNS; index++) {
    const again = await timed(() => runUp(resolved, fake.connection, secrets, upOptions()))
    if (again.value.helm.action !== 'skipped' || again.value.images.some((image) => image.built))
      throw new Error('the no-change up did some work')
    noChange.push(again.ms)
  }
  const noChangeMs = median(noChange)
  rows.push({
    what: `no-change up (median of ${NO_CHANGE_RUNS})`,
    ms: noChangeMs,
    note: `builds ${fake.log.count('engine.build')}, helm upgrades ${fake.helm.upgrades.length}`,
  })

  // The naive way, as a shell script would: build both images with the docker CLI, send each to the
  // cluster (docker save into a file: the CLI refuses /dev/null), helm upgrade. Same engine, same layer cache.
  const naiveHelm = new FakeCluster().helm
  const valuesFile = path.join(work, 'naive-values.yaml')
  writeFileSync(valuesFile, 'frontend:\n  replicaCount: 2\n')
  const naive: number[] = []
  for (let index = 0; index < NAIVE_RUNS; index++) {
    const once = await timed(async () => {
      for (const service of ['frontend', 'backend'] as const) {
        const paths = resolved.services[service]
        await run('docker', [
          'build',
          '-q',
          '-t',
          `${REPOSITORIES[service]}:naive`,
          '-f',
          paths.dockerfile,
          paths.contextDir,
        ])
        await run('docker', [
          'save',
          '-o',
          path.join(work, 'naive-load.tar'),
          `${REPOSITORIES[service]}:naive`,
        ])
      }
      await naiveHelm.upgradeInstall({
        release: 'todo-chatbot',
        chart: resolved.chartDir,
        namespace: 'todo-app-dev',
        valuesFiles: [valuesFile],
        setString: {'frontend.image.tag': 'naive', 'backend.image.tag': 'naive'},
        historyMax: 10,
      })
    })
    naive.push(once.ms)
  }
  const naiveMs = median(naive)
  rows.push({
    what: `naive: docker build x2 + docker save x2 + fake helm upgrade (median of ${NAIVE_RUNS})`,
    ms: naiveMs,
  })
  return {noChangeMs, naiveMs}
}

/** `up` over a real MinikubeCluster whose `minikube` is a double that counts its calls. */
async function benchNoChangeMinikube(resolved: ResolvedConfig): Promise<{ms: number; calls: number}> {
  const fake = new FakeCluster({images: builder, tagCacheDir: path.join(work, 'tag-cache')})
  const node = new MinikubeNode(PROFILE, builder)
  const api = new ApiNode(node)
  const cluster = new CachedClusterTarget(
    new MinikubeCluster(node, {profile: PROFILE}),
    api,
    path.join(work, 'cluster-facts.json'),
  )
  const connection = {...fake.connection, cluster, nodes: api}
  const secrets = testSecrets()
  await runUp(resolved, connection, secrets, upOptions())
  api.kubeletRefresh()
  node.commandLines.length = 0
  const times: number[] = []
  for (let index = 0; index < NO_CHANGE_RUNS; index++)
    times.push((await timed(() => runUp(resolved, connection, secrets, upOptions()))).ms)
  const ms = median(times)
  rows.push({
    what: `no-change up over MinikubeCluster, cached facts (median of ${NO_CHANGE_RUNS})`,
    ms,
    note: `${node.commandLines.length} minikube subprocesses in ${NO_CHANGE_RUNS} runs`,
  })
  return {ms, calls: node.commandLines.length}
}

/**
 * Two images of different sizes: the frontend carries a generated ${BIG_LAYER_MB} MB layer, the backend
 * is busybox alone. Each run changes both sources first (a new big layer, a new page): a cold build.
 */
function createSizedProject(): {resolved: ResolvedConfig; change: () => void} {
  const resolved = createProject('sized', SIZED_REPOSITORIES)
  const frontend = resolved.services.frontend.contextDir
  writeFileSync(
    resolved.services.frontend.dockerfile,
    BUSYBOX_DOCKERFILE.replace('COPY app /app', 'COPY blob /blob\nCOPY app /app'),
  )
  const change = (): void => {
    writeFileSync(path.join(frontend, 'blob'), randomBytes(BIG_LAYER_MB * 1024 * 1024))
    for (const service of ['frontend', 'backend'] as const)
      writeFileSync(path.join(resolved.services[service].contextDir, 'app', 'run.html'), `${Math.random()}\n`)
  }
  return {resolved, change}
}

/** What `minikube image load` costs, stood in for by writing the image out of the engine: `docker save`. */
async function saveImage(ref: string): Promise<void> {
  await run('docker', ['save', '-o', path.join(work, `load-${ref.replace(/[^a-z0-9]/gi, '-')}.tar`), ref])
}

/**
 * A cold `up` (build → load per service, side by side; helm once the last image is in) against the
 * naive sequential script (docker build, docker build, load, load, helm), on the same changed sources.
 * The load is `docker save` to a file in both, so it takes time in proportion to the image's size.
 * `docker build` here is the classic builder (this machine's CLI has no buildx), while `up` builds in
 * BuildKit; a third side runs the naive script's steps in order with up's own BuildKit builder: what the
 * naive script costs where `docker build` uses BuildKit, so the pipeline's own share shows.
 */
async function benchColdPipeline(): Promise<ColdFigures> {
  const {resolved, change} = createSizedProject()
  const secrets = testSecrets()
  const naiveHelm = new FakeCluster().helm
  const pipelined: number[] = []
  const sequential: number[] = []
  const sequentialBuildkit: number[] = []
  const ours = async (): Promise<void> => {
    change()
    const fake = new FakeCluster({images: builder, tagCacheDir: path.join(work, 'sized-tag-cache')})
    const node = new MinikubeNode(PROFILE, builder, saveImage)
    const connection = {...fake.connection, cluster: new MinikubeCluster(node, {profile: PROFILE})}
    const once = await timed(() => runUp(resolved, connection, secrets, upOptions()))
    if (!once.value.images.every((image) => image.built && image.loaded))
      throw new Error('the cold up did not build and load both images')
    pipelined.push(once.ms)
  }
  const saveAndUpgrade = async (tag: string): Promise<void> => {
    for (const service of ['frontend', 'backend'] as const)
      await saveImage(`${SIZED_REPOSITORIES[service]}:${tag}`)
    const values = {
      release: 'todo-chatbot',
      chart: resolved.chartDir,
      namespace: 'todo-app-dev',
      valuesFiles: [],
      setString: {'frontend.image.tag': tag, 'backend.image.tag': tag},
    }
    // `helm upgrade` renders the chart first: the real helm binary's `helm template` stands for that
    // (up renders it too, while its images build); the release change itself is in memory for both.
    await naiveHelm.template(values)
    await naiveHelm.upgradeInstall({...values, historyMax: 10})
  }
  const naive = async (): Promise<void> => {
    change()
    const once = await timed(async () => {
      for (const service of ['frontend', 'backend'] as const) {
        const paths = resolved.services[service]
        const ref = `${SIZED_REPOSITORIES[service]}:naive`
        await run('docker', ['build', '-q', '-t', ref, '-f', paths.dockerfile, paths.contextDir])
      }
      await saveAndUpgrade('naive')
    })
    sequential.push(once.ms)
  }
  const naiveBuildkit = async (): Promise<void> => {
    change()
    const once = await timed(async () => {
      for (const service of ['frontend', 'backend'] as const) {
        const paths = resolved.services[service]
        const dockerfileText = readFileSync(paths.dockerfile, 'utf8')
        await builder.build({
          context: await BuildContext.scan(paths.contextDir, paths.dockerfile),
          dockerfileText,
          dockerfilePath: paths.dockerfile,
          repository: SIZED_REPOSITORIES[service],
          tag: 'naive-buildkit',
        })
      }
      await saveAndUpgrade('naive-buildkit')
    })
    sequentialBuildkit.push(once.ms)
  }
  // The sides take turns going first: none always inherits the engine's after-work of another.
  const sides = [ours, naive, naiveBuildkit]
  for (let index = 0; index < COLD_RUNS; index++) {
    for (let turn = 0; turn < sides.length; turn++) await sides[(index + turn) % sides.length]!()
  }
  const figures = {
    pipelinedMs: median(pipelined),
    sequentialMs: median(sequential),
    sequentialBuildkitMs: median(sequentialBuildkit),
  }
  rows.push({
    what: `cold up, pipelined (${BIG_LAYER_MB} MB + busybox images, median of ${COLD_RUNS})`,
    ms: figures.pipelinedMs,
    note: 'load = docker save to a file; helm, rollout in memory',
  })
  rows.push({
    what: `naive sequential: build, build, save, save, helm template + upgrade (median of ${COLD_RUNS})`,
    ms: figures.sequentialMs,
    note: 'docker build: the classic builder',
  })
  rows.push({
    what: `the same steps in order, built in BuildKit by up's builder (median of ${COLD_RUNS})`,
    ms: figures.sequentialBuildkitMs,
  })
  return figures
}

interface ColdFigures {
  pipelinedMs: number
  sequentialMs: number
  sequentialBuildkitMs: number
}

async function benchContentTag(): Promise<void> {
  const dir = path.join(work, 'big-context')
  for (let folder = 0; folder < TAG_FILES / 100; folder++) {
    const sub = path.join(dir, 'src', `module-${folder}`)
    mkdirSync(sub, {recursive: true})
    for (let file = 0; file < 100; file++)
      writeFileSync(path.join(sub, `file-${file}.ts`), `export const value${file} = ${folder * 100 + file}\n`)
  }
  writeFileSync(path.join(dir, 'Dockerfile'), BUSYBOX_DOCKERFILE)
  const cacheDir = path.join(work, 'big-context-cache')
  const tagOnce = async (): Promise<{ms: number; filesRead: number; cacheHits: number; tag: string}> => {
    // A new tagger each time, as each CLI run starts with only the cache file.
    const tagger = new ContentTagger({cacheDir})
    const {ms, value} = await timed(async () => {
      const context = await BuildContext.scan(dir, path.join(dir, 'Dockerfile'))
      return tagger.tag({context, dockerfileText: BUSYBOX_DOCKERFILE})
    })
    return {ms, ...value}
  }
  const cold = await tagOnce()
  const warm = await tagOnce()
  if (cold.tag !== warm.tag) throw new Error('the warm tag differs from the cold one')
  rows.push({
    what: `content tag, ${TAG_FILES} files, cold cache`,
    ms: cold.ms,
    note: `${cold.filesRead} files read`,
  })
  rows.push({
    what: `content tag, ${TAG_FILES} files, warm cache`,
    ms: warm.ms,
    note: `${warm.cacheHits} cache hits, ${warm.filesRead} read`,
  })
}

async function removeImages(): Promise<void> {
  for (const repository of [...Object.values(REPOSITORIES), ...Object.values(SIZED_REPOSITORIES)]) {
    for (const image of await builder.listImages(repository).catch(() => [])) {
      for (const tag of image.tags) await builder.removeImage(tag).catch(() => false)
    }
  }
}

interface Figures {
  noChangeRatio: number
  noChangeMinikube: {ms: number; calls: number}
  cold: ColdFigures
}

function print({noChangeRatio: ratio, noChangeMinikube, cold}: Figures): void {
  const width = Math.max(...rows.map((row) => row.what.length))
  console.log(`\n${'measure'.padEnd(width)}  ${'ms'.padStart(9)}  note`)
  console.log(`${'-'.repeat(width)}  ${'-'.repeat(9)}  ----`)
  for (const row of rows)
    console.log(`${row.what.padEnd(width)}  ${row.ms.toFixed(1).padStart(9)}  ${row.note ?? ''}`)
  console.log(`\nno-change up is ${ratio.toFixed(1)} x faster than naive`)
  console.log(
    `no-change up over minikube: ${noChangeMinikube.calls} minikube subprocesses (target 0), ${noChangeMinikube.ms.toFixed(0)} ms in-process`,
  )
  console.log(
    `cold up pipelined / naive sequential: ${(cold.pipelinedMs / cold.sequentialMs).toFixed(2)} x (target <= 0.90)`,
  )
  console.log(
    `cold up pipelined / the same steps in order with BuildKit: ${(cold.pipelinedMs / cold.sequentialBuildkitMs).toFixed(2)} x (the pipeline's own share)`,
  )
}

try {
  await removeImages()
  const resolved = createProject()
  const {noChangeMs, naiveMs} = await benchUp(resolved)
  const noChangeMinikube = await benchNoChangeMinikube(resolved)
  const cold = await benchColdPipeline()
  await benchContentTag()
  print({noChangeRatio: naiveMs / noChangeMs, noChangeMinikube, cold})
  console.log(
    `\n${formatDevIteration(await benchDevIteration(resolved, builder, path.join(work, 'tag-cache')))}`,
  )
  console.log(`\n${formatDevWatch(await benchDevWatch())}`)
  console.log(`\n${formatTraffic(await benchTraffic())}`)
  console.log(`\n${formatLiveSyncCopy(await benchLiveSyncCopy())}`)
  console.log(`\n${formatDevLiveSync(await benchDevLiveSync())}`)
} finally {
  await removeImages()
  rmSync(work, {recursive: true, force: true})
}
