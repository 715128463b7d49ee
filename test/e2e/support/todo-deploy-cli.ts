import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {execa} from 'execa'

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
/** The built CLI (`npm run test:e2e` builds it first), run as a user runs it. */
const BIN = path.join(projectRoot, 'bin', 'run.js')
const RUN_TIMEOUT_MS = 12 * 60_000

export interface CliRun {
  args: string[]
  /** undefined when the process was killed by a signal instead of exiting. */
  exitCode: number | undefined
  signal: string | undefined
  stdout: string
  stderr: string
  durationMs: number
}

/** A started CLI process: its pid (the lock holder names it), a way to press Ctrl-C, its outcome. */
export interface RunningCli {
  pid: number
  interrupt(): void
  /** true once the process has ended. */
  readonly finished: boolean
  /** What it has printed on stdout so far. */
  output(): string
  done: Promise<CliRun>
}

/** What `--json` prints when a command fails: the error view, and the partial result when there is one. */
export interface CliErrorJson<R = unknown> {
  error: {exitCode: number; kind: string; message: string; where?: string; fix?: string; details: string[]}
  result?: R
}

/**
 * Runs `node bin/run.js <args>` in the test project folder with the sentinel secrets in its environment,
 * and keeps every run's stdout and stderr so a test can prove no secret ever reached them.
 */
export class TodoDeployCli {
  readonly runs: CliRun[] = []

  constructor(private readonly options: {cwd: string; env: Record<string, string>}) {}

  start(args: string[]): RunningCli {
    const subprocess = execa(process.execPath, [BIN, ...args], {
      cwd: this.options.cwd,
      env: {...this.options.env, NO_COLOR: '1', FORCE_COLOR: '0'},
      reject: false,
      timeout: RUN_TIMEOUT_MS,
      // Ctrl-C must be handled by the CLI itself (stop children, release the lock), not cut short by SIGKILL.
      forceKillAfterDelay: 60_000,
    })
    if (subprocess.pid === undefined) throw new Error(`could not start the CLI (${BIN})`)
    let finished = false
    let printed = ''
    subprocess.stdout?.on('data', (chunk: Buffer) => {
      printed += chunk.toString('utf8')
    })
    const done = subprocess.then((result) => {
      finished = true
      const run: CliRun = {
        args,
        exitCode: result.exitCode,
        signal: result.signal,
        stdout: String(result.stdout),
        stderr: String(result.stderr),
        durationMs: result.durationMs,
      }
      this.runs.push(run)
      return run
    })
    return {
      pid: subprocess.pid,
      interrupt: () => {
        subprocess.kill('SIGINT')
      },
      get finished() {
        return finished
      },
      output: () => printed,
      done,
    }
  }

  async run(args: string[]): Promise<CliRun> {
    return this.start(args).done
  }

  /** Runs with `--json` and parses stdout; `T` is the success shape, a failure gives CliErrorJson. */
  async json<T>(args: string[]): Promise<{run: CliRun; json: T}> {
    const run = await this.run([...args, '--json'])
    return {run, json: parseJson<T>(run)}
  }
}

export function parseJson<T>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T
  } catch {
    throw new Error(
      `todo-deploy ${run.args.join(' ')} (exit ${run.exitCode}) did not print JSON:\n${describeRun(run)}`,
    )
  }
}

/** A run's output for an assertion message: the tail of both streams. */
export function describeRun(run: CliRun): string {
  const tail = (text: string) => text.split('\n').slice(-40).join('\n')
  return `$ todo-deploy ${run.args.join(' ')}  → exit ${run.exitCode ?? run.signal}\n--- stdout ---\n${tail(run.stdout)}\n--- stderr ---\n${tail(run.stderr)}`
}

/** Fails with the run's output when it did not exit with `expected`. */
export function expectExit(run: CliRun, expected: number): void {
  if (run.exitCode !== expected)
    throw new Error(`expected exit ${expected}, got ${run.exitCode ?? run.signal}\n${describeRun(run)}`)
}
