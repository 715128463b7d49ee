/**
 * The extra time `up` takes so that its success means served: the "traffic" phase (the Services route
 * to the new pods alone, then kube-proxy's allowance), measured on a REAL cluster when the current kube
 * context answers (the rig, minikube); skipped otherwise, since an in-memory cluster has no lag to wait
 * for. Each round changes the page, runs the CLI's `up --json` as a user does, then sends 20 GETs to
 * the URL at once: all must get the new page. The app is the e2e fixture (busybox httpd images FROM
 * scratch), in a namespace and release of its own, purged at the end.
 */
import {execFile} from 'node:child_process'
import {chmodSync, copyFileSync, cpSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

import {loadKubeConfig} from '../src/lib/kube/kube-config.js'
import {KubeConnection} from '../src/lib/kube/kube-connection.js'

const ROUNDS = 5
const GETS = 20
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const run = promisify(execFile)

export interface TrafficFigures {
  context: string
  /** The traffic phase of each round, ms. */
  phaseMs: number[]
  /** Per round, how many of the 20 GETs right after `up` returned did not get the new page. */
  staleAnswers: number[]
}

/** The current kube context, when its API server answers within 2 s. */
async function reachableContext(): Promise<string | undefined> {
  try {
    const loaded = loadKubeConfig()
    await new KubeConnection(loaded, {timeoutMs: 2000}).version.getCode()
    return loaded.context
  } catch {
    return undefined
  }
}

export async function benchTraffic(): Promise<TrafficFigures | string> {
  const context = await reachableContext()
  if (context === undefined) return 'no reachable kube context: the traffic phase needs a real cluster'
  const id = Math.random().toString(16).slice(2, 8)
  const dir = mkdtempSync(path.join(tmpdir(), 'todo-deploy-bench-traffic-'))
  cpSync(path.join(ROOT, 'test/fixtures/e2e/app'), dir, {recursive: true})
  for (const service of ['frontend', 'backend']) {
    copyFileSync('/bin/busybox', path.join(dir, service, 'busybox'))
    chmodSync(path.join(dir, service, 'busybox'), 0o755)
  }
  const probes = {readiness: {initialDelaySeconds: 1, periodSeconds: 2, timeoutSeconds: 1}}
  writeFileSync(
    path.join(dir, 'todo-deploy.yaml'),
    JSON.stringify({
      release: `trf-bench-${id}`,
      namespace: `trf-bench-${id}`,
      cluster: {kind: 'auto', context},
      services: {
        frontend: {
          image: {repository: `trf-bench-frontend-${id}`},
          build: {context: 'frontend', dockerfile: 'frontend/Dockerfile'},
          probes,
          service: {nodePort: null},
        },
        backend: {
          image: {repository: `trf-bench-backend-${id}`},
          build: {context: 'backend', dockerfile: 'backend/Dockerfile'},
          probes,
        },
      },
    }),
  )
  const env = {
    ...process.env,
    DATABASE_URL: 'test-secret-value',
    JWT_SECRET: 'test-secret-value',
    GEMINI_API_KEY: 'test-secret-value',
    BETTER_AUTH_SECRET: 'test-secret-value',
  }
  const cli = (args: string[]) =>
    run(process.execPath, [path.join(ROOT, 'bin/run.js'), ...args], {cwd: dir, env, maxBuffer: 1 << 24})
  const page = (round: number) => `<h1>bench traffic ${id} round ${round}</h1>\n`
  const figures: TrafficFigures = {context, phaseMs: [], staleAnswers: []}
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      writeFileSync(path.join(dir, 'frontend/www/index.html'), page(round))
      const {stdout} = await cli(['up', '--json'])
      const result = JSON.parse(stdout) as {url?: string; phases: {phase: string; durationMs?: number}[]}
      const answers: string[] = []
      for (let index = 0; index < GETS; index++)
        answers.push(await (await fetch(`${result.url}/index.html`)).text())
      // Round 0 is the first install: nothing old to route away from.
      if (round === 0) continue
      figures.phaseMs.push(result.phases.find((phase) => phase.phase === 'traffic')?.durationMs ?? Number.NaN)
      figures.staleAnswers.push(answers.filter((answer) => answer !== page(round)).length)
    }
  } finally {
    await cli(['down', '--yes', '--purge']).catch(() => undefined)
    rmSync(dir, {recursive: true, force: true})
  }
  return figures
}

export function formatTraffic(figures: TrafficFigures | string): string {
  if (typeof figures === 'string') return `traffic phase of up (real cluster): skipped, ${figures}`
  const sorted = [...figures.phaseMs].sort((a, b) => a - b)
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
  const stale = figures.staleAnswers.reduce((sum, count) => sum + count, 0)
  return [
    `traffic phase of up, changed page, real cluster ${figures.context} (median of ${figures.phaseMs.length})  ${median.toFixed(0)} ms  (target <= 1500)`,
    `  rounds: ${figures.phaseMs.map((ms) => ms.toFixed(0)).join(', ')} ms; GETs right after up that got the old page: ${stale} of ${figures.phaseMs.length * GETS} (target 0)`,
  ].join('\n')
}
