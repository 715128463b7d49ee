/**
 * `npm run bench`, whole-process part: what a user waits for from pressing Enter to the prompt coming
 * back. `node bin/run.js status` against an API server (the in-process fake, over real HTTP) holding a
 * deployed release and its node (minikube is a script answering the URL once; the cluster facts cache
 * answers after), next to the kubectl-class baseline `helm status` + `kubectl get deploy,pods,svc`
 * against the same server, `node bin/run.js --help`, and `node bin/run.js up` with nothing changed: a
 * project of two tiny images built in the real Docker Engine, deployed once by `up --no-wait` with the
 * real helm 3 into another fake API server, whose Deployments are then marked rolled out, whose node
 * lists both images and whose Services answer the health check (the controllers' and kubelet's part).
 * Runs are interleaved (one of each per round, after a warm-up round), so load on the machine hits all
 * of them alike; figures are medians, peak RSS is GNU time's maximum resident set size (for the
 * baseline: of its bigger process), and ratios are against the baseline of this same run.
 * BENCH_RUNS sets the number of rounds (default 7); BENCH_BEFORE=<another built checkout> adds its CLI
 * to the same rounds, for a before/after comparison under the same load.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {performance} from 'node:perf_hooks'
import {fileURLToPath} from 'node:url'

import {execa} from 'execa'

import {kubectlBinary} from '../test/support/helm-binaries.js'
import {createWiredMachineFiles, type WiredMachineFiles} from '../test/wiring/support/wired-machine.js'
import {createWiredProject, type WiredProject} from '../test/wiring/support/wired-project.js'
import {readyNode, rolledOut, seedDeployedRelease} from '../test/support/deployed-release.js'

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const RUNS = Number(process.env.BENCH_RUNS ?? 7)
const TIME = '/usr/bin/time'
const MiB = 1024

/** Targets from the issue: seconds, MiB, and the ratio against the baseline. */
const TARGETS = {statusMs: 500, statusMiB: 100, statusRatio: 3, helpMs: 250, upMs: 800}

interface Sample {
  ms: number
  peakKiB: number
}

interface Subject {
  what: string
  argv: string[]
  /** Where and with what environment it runs: the status machine's by default. */
  cwd?: string
  env?: Record<string, string>
  /** What the output must contain: a run that printed something else timed an error path. */
  expect: RegExp
  samples: Sample[]
}

const machine = await createWiredMachineFiles('fake-api')
const upMachine = await createWiredMachineFiles('fake-api')
const project = createWiredProject()
try {
  await deployForNoChangeUp(upMachine, project)
  const {release, namespace} = seedDeployedRelease(machine.api)
  const baseline = subject(
    'helm status + kubectl get deploy,pods,svc',
    [
      'sh',
      '-c',
      `helm status ${release} -n ${namespace} && "${kubectlBinary('v3')}" get deploy,pods,svc -n ${namespace}`,
    ],
    /STATUS: deployed[\s\S]*deployment\.apps\/todo-frontend[\s\S]*service\/todo-frontend-service/,
  )
  const subjects = [baseline, ...cliSubjects('todo-deploy', projectRoot)]
  // Another built checkout (e.g. a worktree of the main branch) measured in the same rounds: before/after.
  const before = process.env.BENCH_BEFORE
  if (before) subjects.push(...cliSubjects('before: todo-deploy', path.resolve(before)))
  let minikubeCallsAfterWarmUp = 0

  // The warm-up round fills the caches a user's machine has warm (kubectl discovery, helm's, Node's, the OS's).
  for (let round = 0; round <= RUNS; round++) {
    for (const one of subjects) {
      const sample = await measure(one)
      if (round > 0) one.samples.push(sample)
    }
    if (round === 0) minikubeCallsAfterWarmUp = upMachine.minikubeCalls().length
  }
  // The warm-up round's up asks minikube for the URL once (then cached); the measured ones must not ask.
  const upMinikubeCalls = upMachine.minikubeCalls().slice(minikubeCallsAfterWarmUp)
  print(subjects, baseline, upMinikubeCalls)
} finally {
  await project.remove()
  await upMachine.remove()
  await machine.remove()
}

/**
 * The state a no-change `up` meets: the project's images built and listed on the node, the release
 * installed by the CLI itself (`up --no-wait`, real helm 3), its Deployments rolled out and its Services
 * answering the health check, as the controllers and the kubelet of a real cluster would leave them.
 */
async function deployForNoChangeUp(target: WiredMachineFiles, app: WiredProject): Promise<void> {
  const cli = (args: string[]) =>
    execa(process.execPath, [path.join(projectRoot, 'bin', 'run.js'), ...args], {
      cwd: app.dir,
      env: target.env,
      extendEnv: false,
      reject: false,
    })
  const dryRun = await cli(['up', '--dry-run', '--json'])
  if (dryRun.exitCode !== 0) throw new Error(`up --dry-run exited ${dryRun.exitCode}:\n${dryRun.stderr}`)
  const refs = (JSON.parse(dryRun.stdout) as {plan: {services: {ref: string}[]}}).plan.services.map(
    (service) => service.ref,
  )
  target.api.seed('nodes', readyNode(refs))
  const install = await cli(['up', '--no-wait'])
  if (install.exitCode !== 0) throw new Error(`up --no-wait exited ${install.exitCode}:\n${install.stderr}`)
  for (const deployment of target.api.list('deployments'))
    target.api.seed('deployments', rolledOut(deployment))
  for (const service of target.api.list('services')) {
    const {port} = (service.spec as {ports: {port: number}[]}).ports[0] ?? {port: 80}
    target.api.setServiceProxyReply(service.metadata.namespace ?? '', service.metadata.name, port, {
      status: 200,
      body: 'ok',
    })
  }
}

function subject(what: string, argv: string[], expect: RegExp): Subject {
  return {what, argv, expect, samples: []}
}

/** `status`, `--help` and a no-change `up` of the CLI whose package root is `root`. */
function cliSubjects(label: string, root: string): Subject[] {
  const cli = [process.execPath, path.join(root, 'bin', 'run.js')]
  return [
    subject(`${label} status`, [...cli, 'status'], /^state +Healthy: /m),
    subject(`${label} --help`, [...cli, '--help'], /^EXIT CODES$/m),
    {
      ...subject(
        `${label} up (no change)`,
        [...cli, 'up'],
        /Deploy the Helm release \[SKIPPED[\s\S]*Healthy, revision 1$/m,
      ),
      cwd: project.dir,
      env: upMachine.env,
    },
  ]
}

function print(subjects: Subject[], baseline: Subject, upMinikubeCalls: string[]): void {
  const rows = subjects.map((one) => ({
    what: one.what,
    ms: median(one.samples.map((sample) => sample.ms)),
    peakMiB: median(one.samples.map((sample) => sample.peakKiB)) / MiB,
  }))
  const [base] = rows as [(typeof rows)[number]]
  const width = Math.max(...rows.map((row) => row.what.length))
  console.log(`\nwhole-process runs, Node ${process.version}, median of ${RUNS} (after a warm-up round)`)
  console.log(
    `${'command'.padEnd(width)}  ${'ms'.padStart(6)}  ${'peak MiB'.padStart(8)}  vs ${baseline.what}`,
  )
  console.log(`${'-'.repeat(width)}  ${'-'.repeat(6)}  ${'-'.repeat(8)}  ${'-'.repeat(12)}`)
  for (const row of rows) {
    const ratio = `${(row.ms / base.ms).toFixed(2)}x time, ${(row.peakMiB / base.peakMiB).toFixed(2)}x memory`
    console.log(
      `${row.what.padEnd(width)}  ${row.ms.toFixed(0).padStart(6)}  ${row.peakMiB.toFixed(1).padStart(8)}  ${ratio}`,
    )
  }
  const status = rows.find((row) => row.what === 'todo-deploy status')
  const help = rows.find((row) => row.what === 'todo-deploy --help')
  const up = rows.find((row) => row.what === 'todo-deploy up (no change)')
  if (!status || !help || !up) return
  const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met')
  console.log(
    [
      '',
      `status ≤ ${TARGETS.statusMs} ms: ${verdict(status.ms <= TARGETS.statusMs)}`,
      `status ≤ ${TARGETS.statusMiB} MiB peak: ${verdict(status.peakMiB <= TARGETS.statusMiB)}`,
      `status ≤ ${TARGETS.statusRatio}x the baseline: ${verdict(status.ms <= TARGETS.statusRatio * base.ms)}`,
      `--help ≤ ${TARGETS.helpMs} ms: ${verdict(help.ms <= TARGETS.helpMs)}`,
      `up with nothing changed ≤ ${TARGETS.upMs} ms: ${verdict(up.ms <= TARGETS.upMs)}`,
      `up with nothing changed calls minikube 0 times: ${verdict(upMinikubeCalls.length === 0)}${upMinikubeCalls.length ? ` (${upMinikubeCalls.join('; ')})` : ''}`,
    ].join('\n'),
  )
}

/** One run under GNU time: wall time as seen from here, peak RSS as the kernel accounted it. */
async function measure(subject: Subject): Promise<Sample> {
  const rssFile = path.join(machine.dir, 'peak-rss')
  const start = performance.now()
  const run = await execa(TIME, ['-f', '%M', '-o', rssFile, ...subject.argv], {
    cwd: subject.cwd ?? machine.dir,
    env: subject.env ?? machine.env,
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  })
  const ms = performance.now() - start
  if (run.exitCode !== 0 || !subject.expect.test(run.stdout))
    throw new Error(`${subject.what} exited ${run.exitCode}:\n${run.stdout}\n${run.stderr}`)
  return {ms, peakKiB: Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1))}
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}
