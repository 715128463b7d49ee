/**
 * What one `dev` iteration costs beyond its own build + load + rollout, against running `up --only`
 * by hand for the same change: the real Docker Engine builds, the cluster, helm and Kubernetes API are
 * the in-memory doubles (no cluster exists here). The watcher is left out: its debounce is a wait the
 * user chose, and bench/dev-watch.ts measures it.
 */
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {performance} from 'node:perf_hooks'

import type {ImageBuilder} from '../src/lib/image/image-builder.js'
import type {ResolvedConfig} from '../src/lib/config/load.js'
import type {ChangeSet} from '../src/lib/dev/change-set.js'
import {DevLoop, type DevLoopEvent} from '../src/lib/dev/dev-loop.js'
import type {StepTiming} from '../src/lib/dev/dev-session.js'
import {runUp} from '../src/lib/lifecycle/up.js'
import {FakeCluster, testSecrets, UP_OPTIONS} from '../test/support/fake-connection.js'

const ITERATIONS = 5
/** The target for the overhead of one iteration. */
const TARGET_OVERHEAD_MS = 500
/** The steps whose time is the change's own work, not dev's overhead. */
const OWN_WORK = new Set(['build', 'load', 'rollout'])

export interface DevIterationFigures {
  iterations: number
  /** Medians, ms: a whole dev iteration and the part beyond build + load + rollout. */
  devMs: number
  devOverheadMs: number
  /** The same for `up --only frontend` run by hand (in process: no CLI start-up counted). */
  upMs: number
  upOverheadMs: number
  /** Median of dev's `upgrade` step (helm upgrade; the rules check reuses the last render when only tags changed). */
  devUpgradeMs: number
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

function ownWork(steps: readonly StepTiming[]): number {
  return steps.filter((step) => OWN_WORK.has(step.step)).reduce((sum, step) => sum + step.ms, 0)
}

function editFrontend(resolved: ResolvedConfig, round: string): ChangeSet {
  const file = 'app/bench-edit.html'
  writeFileSync(
    path.join(resolved.services.frontend.contextDir, file),
    `<p>edit ${round} ${Date.now()}</p>\n`,
  )
  return {
    services: [{service: 'frontend', files: 1, paths: [file]}],
    config: false,
    chart: false,
    env: false,
    manual: false,
  }
}

export async function benchDevIteration(
  resolved: ResolvedConfig,
  images: ImageBuilder,
  tagCacheDir: string,
): Promise<DevIterationFigures> {
  const secrets = testSecrets()

  // By hand: edit, then `up --only frontend`.
  const byHand = new FakeCluster({images, tagCacheDir})
  byHand.kubeletFollowsHelm(resolved)
  await runUp(resolved, byHand.connection, secrets, {...UP_OPTIONS, holder: 'bench'})
  const up: number[] = []
  const upOverhead: number[] = []
  for (let round = 0; round < ITERATIONS; round++) {
    editFrontend(resolved, `up-${round}`)
    const start = performance.now()
    const result = await runUp(resolved, byHand.connection, secrets, {
      ...UP_OPTIONS,
      holder: 'bench',
      only: ['frontend'],
    })
    const ms = performance.now() - start
    up.push(ms)
    const steps = result.phases.map((phase) => ({step: phase.phase, ms: phase.durationMs ?? 0}))
    upOverhead.push(ms - ownWork(steps))
  }

  // dev: the same edit handed to a running loop, timed from the change to the iteration's end.
  const fake = new FakeCluster({images, tagCacheDir})
  fake.kubeletFollowsHelm(resolved)
  let onChange: ((changes: ChangeSet) => void) | undefined
  let settle: ((event: DevLoopEvent) => void) | undefined
  let watching: (() => void) | undefined
  const started = new Promise<void>((resolve) => (watching = resolve))
  const loop = await DevLoop.open(
    {resolved, secrets},
    {
      connection: fake.connection,
      reach: {answers: async () => true, forward: () => Promise.reject(new Error('not in the bench'))},
      watch: async (_targets, options) => {
        onChange = options.onChange
        return {close: () => {}}
      },
      onEvent: (event) => {
        if (event.type === 'watching') watching?.()
        if (event.type === 'iteration-finished' || event.type === 'iteration-failed') settle?.(event)
      },
    },
    {
      reload: () => ({resolved, secrets}),
      debounceMs: 0,
      rollbackOnFailure: true,
      portForward: false,
      logs: false,
      holder: 'bench',
      renderer: 'silent',
    },
  )
  const running = loop.run()
  await started
  const dev: number[] = []
  const devOverhead: number[] = []
  const devUpgrade: number[] = []
  for (let round = 0; round < ITERATIONS; round++) {
    const changes = editFrontend(resolved, `dev-${round}`)
    const finished = new Promise<DevLoopEvent>((resolve) => (settle = resolve))
    const start = performance.now()
    onChange?.(changes)
    const event = await finished
    const ms = performance.now() - start
    if (event.type !== 'iteration-finished' || event.status !== 'deployed')
      throw new Error(`the dev iteration did not deploy: ${JSON.stringify(event)}`)
    dev.push(ms)
    devOverhead.push(ms - ownWork(event.steps))
    devUpgrade.push(event.steps.find((step) => step.step === 'upgrade')?.ms ?? 0)
  }
  loop.stop()
  await running
  return {
    iterations: ITERATIONS,
    devMs: median(dev),
    devOverheadMs: median(devOverhead),
    upMs: median(up),
    upOverheadMs: median(upOverhead),
    devUpgradeMs: median(devUpgrade),
  }
}

export function formatDevIteration(figures: DevIterationFigures): string {
  const ok = figures.devOverheadMs <= TARGET_OVERHEAD_MS ? 'ok' : 'MISSED'
  return [
    `dev iteration (frontend edit, real builds, in-memory cluster; median of ${figures.iterations})`,
    `  dev      ${figures.devMs.toFixed(0)} ms, of which ${figures.devOverheadMs.toFixed(0)} ms beyond build + load + rollout (target <= ${TARGET_OVERHEAD_MS} ms: ${ok})`,
    `           the upgrade step (helm upgrade; only tags changed, so no helm template) is ${figures.devUpgradeMs.toFixed(0)} ms of it`,
    `  by hand  ${figures.upMs.toFixed(0)} ms for up --only frontend, of which ${figures.upOverheadMs.toFixed(0)} ms beyond build + load + rollout`,
    `  ratio    dev / by hand = ${(figures.devMs / figures.upMs).toFixed(2)} (overhead ${(figures.devOverheadMs / figures.upOverheadMs).toFixed(2)})`,
  ].join('\n')
}
