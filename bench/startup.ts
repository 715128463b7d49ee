/**
 * `npm run bench`, whole-process part: what a user waits for from pressing Enter to the prompt coming
 * back. `node bin/run.js status` against an API server (the in-process fake, over real HTTP) holding a
 * deployed release, read with the real helm 3 (minikube is a script answering the URL), next to the
 * kubectl-class baseline `helm status` + `kubectl get deploy,pods,svc` against the same server, and
 * `node bin/run.js --help`. Runs are interleaved (one of each per round, after a warm-up round), so load
 * on the machine hits all of them alike; figures are medians, peak RSS is GNU time's maximum resident set
 * size (for the baseline: of its bigger process), and ratios are against the baseline of this same run.
 * BENCH_RUNS sets the number of rounds (default 7); BENCH_BEFORE=<another built checkout> adds its CLI
 * to the same rounds, for a before/after comparison under the same load.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {performance} from 'node:perf_hooks'
import {fileURLToPath} from 'node:url'

import {execa} from 'execa'

import {kubectlBinary} from '../test/support/helm-binaries.js'
import {createWiredMachineFiles} from '../test/wiring/support/wired-machine.js'
import {seedDeployedRelease} from '../test/support/deployed-release.js'

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const RUNS = Number(process.env.BENCH_RUNS ?? 7)
const TIME = '/usr/bin/time'
const MiB = 1024

/** Targets from the issue: seconds, MiB, and the ratio against the baseline. */
const TARGETS = {statusMs: 500, statusMiB: 100, statusRatio: 3, helpMs: 250}

interface Sample {
  ms: number
  peakKiB: number
}

interface Subject {
  what: string
  argv: string[]
  /** What the output must contain: a run that printed something else timed an error path. */
  expect: RegExp
  samples: Sample[]
}

const machine = await createWiredMachineFiles('fake-api')
try {
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

  // The warm-up round fills the caches a user's machine has warm (kubectl discovery, helm's, Node's, the OS's).
  for (let round = 0; round <= RUNS; round++) {
    for (const one of subjects) {
      const sample = await measure(one)
      if (round > 0) one.samples.push(sample)
    }
  }
  print(subjects, baseline)
} finally {
  await machine.remove()
}

function subject(what: string, argv: string[], expect: RegExp): Subject {
  return {what, argv, expect, samples: []}
}

/** `status` and `--help` of the CLI whose package root is `root`. */
function cliSubjects(label: string, root: string): Subject[] {
  const cli = [process.execPath, path.join(root, 'bin', 'run.js')]
  return [
    subject(`${label} status`, [...cli, 'status'], /^state +Healthy: /m),
    subject(`${label} --help`, [...cli, '--help'], /^EXIT CODES$/m),
  ]
}

function print(subjects: Subject[], baseline: Subject): void {
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
  if (!status || !help) return
  const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met')
  console.log(
    [
      '',
      `status ≤ ${TARGETS.statusMs} ms: ${verdict(status.ms <= TARGETS.statusMs)}`,
      `status ≤ ${TARGETS.statusMiB} MiB peak: ${verdict(status.peakMiB <= TARGETS.statusMiB)}`,
      `status ≤ ${TARGETS.statusRatio}x the baseline: ${verdict(status.ms <= TARGETS.statusRatio * base.ms)}`,
      `--help ≤ ${TARGETS.helpMs} ms: ${verdict(help.ms <= TARGETS.helpMs)}`,
    ].join('\n'),
  )
}

/** One run under GNU time: wall time as seen from here, peak RSS as the kernel accounted it. */
async function measure(subject: Subject): Promise<Sample> {
  const rssFile = path.join(machine.dir, 'peak-rss')
  const start = performance.now()
  const run = await execa(TIME, ['-f', '%M', '-o', rssFile, ...subject.argv], {
    cwd: machine.dir,
    env: machine.env,
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
