/**
 * What one live-sync copy costs (issue 20): one changed file into one pod, and 100 files (a `git
 * checkout`) as one stream to each of two pods, through ExecContainerFileSync. On the cluster of the
 * current kube context when it answers and `minikube` can load images into it (busybox pods of its
 * own, removed afterwards); otherwise over the loopback WebSocket exec server of the tests, with this
 * machine's sh and tar (the protocol and tar costs only). Target: 100 files <= 5 s.
 *
 * `node --import tsx bench/live-sync-copy.ts` runs it alone; bench/run.ts calls benchLiveSyncCopy().
 */
import {chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {performance} from 'node:perf_hooks'
import {fileURLToPath} from 'node:url'

import {execa} from 'execa'
import which from 'which'

import {copyToEach, type SyncPayload, type SyncTarget} from '../src/lib/kube/container-file-sync.js'
import {ExecContainerFileSync} from '../src/lib/kube/exec-file-sync.js'
import {loadKubeConfig} from '../src/lib/kube/kube-config.js'
import {KubeConnection} from '../src/lib/kube/kube-connection.js'
import {ExecApiServer, execContainer} from '../test/support/exec-server.js'
import {FAKE_CONTEXT, FakeKubeApiServer, kubeConfigFor} from '../test/support/kube-api-server.js'
import {SyncPods} from '../test/support/sync-pods.js'

const ONE_FILE_ROUNDS = 10
const MANY_FILES_ROUNDS = 5
const MANY_FILES = 100
/** The target for 100 files as one stream. */
const TARGET_MANY_MS = 5_000

export interface LiveSyncCopyFigures {
  where: string
  oneFileMedianMs: number
  oneFileP95Ms: number
  manyFilesMedianMs: number
  manyFilesMaxMs: number
}

interface Rig {
  where: string
  sync: ExecContainerFileSync
  pods: [SyncTarget, SyncTarget]
  stop(): Promise<void>
}

async function clusterRig(): Promise<Rig | null> {
  const kubectl = which.sync('kubectl', {nothrow: true})
  if (kubectl === null || which.sync('minikube', {nothrow: true}) === null) return null
  const context = await execa(kubectl, ['config', 'current-context'], {reject: false})
  if (context.exitCode !== 0) return null
  const ready = await execa(
    kubectl,
    ['--context', context.stdout, '--request-timeout=5s', 'get', '--raw', '/readyz'],
    {
      reject: false,
    },
  )
  if (ready.exitCode !== 0) return null
  const pods = await SyncPods.start({
    kubectl,
    context: context.stdout,
    prefix: 'todo-bench',
    pods: [{name: 'sync-1'}, {name: 'sync-2'}],
  })
  const loaded = loadKubeConfig({context: context.stdout})
  return {
    where: `cluster of kube context ${context.stdout}`,
    sync: new ExecContainerFileSync(new KubeConnection(loaded), loaded.kc),
    pods: [pods.target('sync-1'), pods.target('sync-2')],
    stop: () => pods.stop(),
  }
}

async function loopbackRig(): Promise<Rig> {
  const api = await FakeKubeApiServer.start()
  const server = await ExecApiServer.start(api)
  const folders: string[] = []
  for (const pod of ['sync-1', 'sync-2']) {
    api.seed('pods', {apiVersion: 'v1', kind: 'Pod', metadata: {name: pod, namespace: 'bench'}})
    const root = mkdtempSync(path.join(tmpdir(), 'todo-deploy-bench-container-'))
    const container = execContainer(root)
    folders.push(root, container.bin)
    // Writable by the user the exec server runs commands as.
    mkdirSync(path.join(root, 'app'))
    chmodSync(path.join(root, 'app'), 0o777)
    server.setContainer(pod, 'app', container)
  }
  const kc = kubeConfigFor(server)
  return {
    where: 'loopback exec server (sh and tar of this machine)',
    sync: new ExecContainerFileSync(new KubeConnection({kc, context: FAKE_CONTEXT, server: server.url}), kc),
    pods: [
      {namespace: 'bench', pod: 'sync-1', container: 'app'},
      {namespace: 'bench', pod: 'sync-2', container: 'app'},
    ],
    stop: async () => {
      await server.stop()
      await api.stop()
      for (const folder of folders) rmSync(folder, {recursive: true, force: true})
    },
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)] ?? Number.NaN
}

export async function benchLiveSyncCopy(): Promise<LiveSyncCopyFigures> {
  const local = mkdtempSync(path.join(tmpdir(), 'todo-deploy-bench-sync-'))
  const rig = (await clusterRig()) ?? (await loopbackRig())
  try {
    const write = (name: string, content: string): string => {
      const file = path.join(local, name)
      mkdirSync(path.dirname(file), {recursive: true})
      writeFileSync(file, content)
      return file
    }
    const one: number[] = []
    for (let round = 0; round < ONE_FILE_ROUNDS; round++) {
      const payload: SyncPayload = {
        files: [{from: write('main.py', `print(${round})\n`), to: '/app/main.py'}],
        deletions: [],
      }
      const started = performance.now()
      await rig.sync.copy(rig.pods[0], payload)
      one.push(performance.now() - started)
    }
    const many: number[] = []
    for (let round = 0; round < MANY_FILES_ROUNDS; round++) {
      const payload: SyncPayload = {
        files: Array.from({length: MANY_FILES}, (_, i) => ({
          from: write(`src/module${i}.js`, `export const n = ${i + round}\n`.repeat(40)),
          to: `/app/src/module${i}.js`,
        })),
        deletions: [],
      }
      const started = performance.now()
      const outcomes = await copyToEach(rig.sync, rig.pods, payload)
      many.push(performance.now() - started)
      const failed = outcomes.find((outcome) => outcome.error !== null)
      if (failed) throw failed.error
    }
    return {
      where: rig.where,
      oneFileMedianMs: median(one),
      oneFileP95Ms: p95(one),
      manyFilesMedianMs: median(many),
      manyFilesMaxMs: Math.max(...many),
    }
  } finally {
    await rig.stop()
    rmSync(local, {recursive: true, force: true})
  }
}

export function formatLiveSyncCopy(figures: LiveSyncCopyFigures): string {
  return [
    `live-sync copy (${figures.where}):`,
    `  1 file to 1 pod: median ${figures.oneFileMedianMs.toFixed(0)} ms, p95 ${figures.oneFileP95Ms.toFixed(0)} ms (${ONE_FILE_ROUNDS} copies)`,
    `  ${MANY_FILES} files as one stream to each of 2 pods: median ${figures.manyFilesMedianMs.toFixed(0)} ms, max ${figures.manyFilesMaxMs.toFixed(0)} ms (target <= ${TARGET_MANY_MS} ms)`,
  ].join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(formatLiveSyncCopy(await benchLiveSyncCopy()))
}
