import {PassThrough, Writable} from 'node:stream'

import {Exec, type KubeConfig, type V1Status} from '@kubernetes/client-node'
import {WebSocketHandler} from '@kubernetes/client-node/dist/web-socket-handler.js'

import {DeployError, PrerequisiteError} from '../errors.js'
import {
  type ContainerFileSync,
  describeTarget,
  noTarObstacle,
  notWritableObstacle,
  SyncFailedError,
  type SyncObstacle,
  type SyncPayload,
  type SyncTarget,
} from './container-file-sync.js'
import type {KubeConnection} from './kube-connection.js'
import {toKubeError} from './kube-errors.js'
import {packSyncArchive, rootRelative, type SyncArchive} from './sync-archive.js'

/**
 * The checks, run once per container. Paths come as arguments, never inside the script, so a file
 * name cannot inject shell code. Prints one line per finding: `no tar`, `no head`, `user <name> <group>`,
 * `not-writable <index of the path>`. A `to` that does not exist yet is judged by its nearest
 * existing folder, where tar will create it.
 */
export const CHECK_SCRIPT = [
  'cd "$1" || exit 1',
  'shift',
  'command -v tar >/dev/null 2>&1 || echo "no tar"',
  'command -v head >/dev/null 2>&1 || echo "no head"',
  'u=$(id -un 2>/dev/null || id -u 2>/dev/null) && g=$(id -gn 2>/dev/null || id -g 2>/dev/null) && echo "user $u $g"',
  'i=0',
  'for d in "$@"; do',
  '  while [ ! -d "$d" ] && [ "$d" != . ]; do d=${d%/*}; done',
  '  [ -w "$d" ] || echo "not-writable $i"',
  '  i=$((i+1))',
  'done',
].join('\n')

/**
 * One copy: deletions first (a file may become a folder), then exactly `$2` bytes of stdin into tar.
 * `head -c` ends tar's input: over the v4 exec protocol stdin cannot be closed (only v5 can), and
 * BusyBox tar reads to the end of its input before it exits.
 */
export const COPY_SCRIPT = [
  'cd "$1" || exit 1',
  'n=$2',
  'shift 2',
  'if [ "$#" -gt 0 ]; then rm -rf -- "$@" || exit; fi',
  'if [ "$n" -gt 0 ]; then head -c "$n" | tar -xmof - || exit; fi',
].join('\n')

/** The container's `/`, as the scripts' first argument. */
const CONTAINER_ROOT = '/'
/** Longer than any sync of source files takes; a hung exec must not hold the dev loop forever. */
export const DEFAULT_EXEC_TIMEOUT_MS = 60_000
/** Frames of the copy's stdin: the API server relays each as one message. */
const STDIN_CHUNK_BYTES = 64 * 1024

interface ExecResult {
  /** Null when the command's status carried no exit code (it could not be started). */
  exitStatus: number | null
  stdout: string
  stderr: string
}

/**
 * `dev` live sync through the exec API, as `kubectl cp` does: a WebSocket exec of `sh -c` in the
 * container (client-node's Exec, on the kube context of the connection), with the tar archive on
 * stdin. This module (and the WebSocket client it needs) is loaded on the first sync.
 */
export class ExecContainerFileSync implements ContainerFileSync {
  readonly #exec: Exec
  readonly #archives = new WeakMap<SyncPayload, Promise<SyncArchive>>()

  constructor(
    private readonly connection: KubeConnection,
    kc: KubeConfig,
    private readonly timeoutMs = DEFAULT_EXEC_TIMEOUT_MS,
  ) {
    // A v5 server's close-stream frames go to the handler's own streams, which are the process's
    // stdin/stdout/stderr by default: the CLI's output must never be ended by a sync.
    const unused = {stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough()}
    this.#exec = new Exec(kc, new WebSocketHandler(kc, undefined, unused))
  }

  async check(target: SyncTarget, targets: readonly string[], signal?: AbortSignal): Promise<SyncObstacle[]> {
    const paths = targets.map(rootRelative)
    const result = await this.#run(
      target,
      ['sh', '-c', CHECK_SCRIPT, 'sh', CONTAINER_ROOT, ...paths],
      null,
      signal,
    )
    if (result.exitStatus !== 0) {
      // No shell: nothing to run tar with (a distroless image). The runtime's message says so.
      if (/executable file not found|no such file/i.test(result.stderr))
        return [noTarObstacle(target, ['sh', 'tar'])]
      throw new SyncFailedError(target, result.exitStatus, result.stderr)
    }
    const lines = result.stdout.split('\n')
    const missing = lines.filter((line) => line.startsWith('no ')).map((line) => line.slice(3))
    if (missing.length > 0) return [noTarObstacle(target, missing)]
    const [user, group] =
      lines
        .find((line) => line.startsWith('user '))
        ?.split(' ')
        .slice(1) ?? []
    const owner = user === undefined || group === undefined ? null : {user, group}
    return lines
      .filter((line) => line.startsWith('not-writable '))
      .map((line) => targets[Number(line.slice(13))])
      .filter((to): to is string => to !== undefined)
      .map((to) => notWritableObstacle(target, to, owner))
  }

  async copy(target: SyncTarget, payload: SyncPayload, signal?: AbortSignal): Promise<void> {
    const archive = await this.#archive(payload)
    const command = [
      'sh',
      '-c',
      COPY_SCRIPT,
      'sh',
      CONTAINER_ROOT,
      String(archive.files > 0 ? archive.bytes.length : 0),
    ]
    const result = await this.#run(
      target,
      [...command, ...archive.deletions],
      archive.files > 0 ? archive.bytes : null,
      signal,
    )
    if (result.exitStatus !== 0) throw new SyncFailedError(target, result.exitStatus, result.stderr)
  }

  /** One archive per payload, whatever the number of pods it goes to. */
  #archive(payload: SyncPayload): Promise<SyncArchive> {
    let archive = this.#archives.get(payload)
    if (archive === undefined) {
      archive = packSyncArchive(payload)
      this.#archives.set(payload, archive)
    }
    return archive
  }

  async #run(
    target: SyncTarget,
    command: string[],
    input: Buffer | null,
    signal?: AbortSignal,
  ): Promise<ExecResult> {
    signal?.throwIfAborted()
    const stdout = new TextCollector()
    const stderr = new TextCollector()
    // Never ended: over the v4 protocol, the end of stdin closes the whole WebSocket.
    const stdin = input === null ? null : new PassThrough()
    let settled = false
    let settle: (status: V1Status | Error) => void = () => undefined
    const finished = new Promise<V1Status | Error>(
      (resolve) =>
        (settle = (status) => {
          settled = true
          resolve(status)
        }),
    )
    // The deadline and Ctrl-C hold from the start: an API server may also hang on the upgrade.
    const timer = setTimeout(
      () => settle(new Error(`it did not finish within ${this.timeoutMs / 1000} s`)),
      this.timeoutMs,
    )
    const abort = (): void => settle(signal?.reason instanceof Error ? signal.reason : new Error('aborted'))
    signal?.addEventListener('abort', abort, {once: true})
    let socket: {close(): void} | undefined
    const opened = this.#exec
      .exec(target.namespace, target.pod, target.container, command, stdout, stderr, stdin, false, (status) =>
        settle(status),
      )
      .then(
        (webSocket) => {
          socket = webSocket
          if (settled) return finished
          webSocket.addEventListener('close', () =>
            settle(new Error('the connection closed before the command finished')),
          )
          if (stdin !== null && input !== null) {
            for (let offset = 0; offset < input.length; offset += STDIN_CHUNK_BYTES)
              stdin.write(input.subarray(offset, offset + STDIN_CHUNK_BYTES))
          }
          return finished
        },
        (error: unknown) => {
          throw execRefused(error, target, this.connection)
        },
      )
    let status: V1Status | Error
    try {
      status = await Promise.race([opened, finished])
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', abort)
      settled = true
      socket?.close()
      // A socket that opens after the deadline is closed as it opens.
      void opened.then(() => socket?.close()).catch(() => undefined)
    }
    if (status instanceof Error) {
      if (signal?.aborted) throw status
      const said = stderr.text()
      throw new SyncFailedError(
        target,
        null,
        `${said}${said === '' || said.endsWith('\n') ? '' : '\n'}${status.message}`,
      )
    }
    return {
      exitStatus: exitStatusOf(status),
      stdout: stdout.text(),
      stderr: stderr.text() || failureMessage(status),
    }
  }
}

/** `Success`, or the exit code the kubelet puts in `details.causes` for `NonZeroExitCode`. */
function exitStatusOf(status: V1Status): number | null {
  if (status.status === 'Success') return 0
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message
  return cause !== undefined && /^\d+$/.test(cause) ? Number(cause) : null
}

function failureMessage(status: V1Status): string {
  return status.status === 'Success' ? '' : (status.message ?? '')
}

/** The WebSocket upgrade was refused or could not connect: the API's answer, worded like every other call's. */
function execRefused(error: unknown, target: SyncTarget, connection: KubeConnection): unknown {
  // client-node rejects with the WebSocket's error event; the Error itself is inside.
  const inner = (error as {error?: unknown}).error ?? error
  const call = {verb: 'create', resource: 'pods/exec', name: target.pod, namespace: target.namespace}
  const worded = toKubeError(inner, call, connection.target)
  if (worded !== inner) return worded
  const message = inner instanceof Error ? inner.message : String(inner)
  const code = /Unexpected server response: (\d+)/.exec(message)?.[1]
  if (code === '403')
    return new PrerequisiteError(
      `kube context ${connection.target.context} may not exec into ${describeTarget(target)} (403 Forbidden)`,
      {
        where: `pod/${target.pod}`,
        fix: `live sync needs the right to create pods/exec in namespace ${target.namespace} (check with \`kubectl auth can-i create pods/exec -n ${target.namespace}\`)`,
        cause: inner,
      },
    )
  return new DeployError(`cannot exec into ${describeTarget(target)} for live sync: ${message}`, {
    where: `pod/${target.pod}`,
    fix:
      code === '404'
        ? 'the pod is gone (replaced by a rollout?): the next sync goes to the pods that run now'
        : 'check that the pod runs (`todo-deploy status`); the service is rebuilt instead',
    cause: inner,
  })
}

/** A Writable that keeps what the command printed, as text. */
class TextCollector extends Writable {
  readonly #chunks: Buffer[] = []

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.#chunks.push(chunk)
    done()
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8')
  }
}
