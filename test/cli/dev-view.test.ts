import {PassThrough} from 'node:stream'

import {describe, expect, it, vi} from 'vitest'

import {listenForKeys} from '../../src/cli/dev-keys.js'
import {
  JSON_PATHS_PER_SERVICE,
  renderDevEvent,
  renderDevEventJson,
  renderDevLoopEvent,
  renderDevLoopEventJson,
} from '../../src/cli/dev-view.js'
import {LogView} from '../../src/cli/log-view.js'
import type {ChangeSet} from '../../src/lib/dev/change-set.js'
import type {DevEvent} from '../../src/lib/dev/dev-session.js'
import {DeployError} from '../../src/lib/errors.js'
import type {LogLineEvent} from '../../src/lib/logs/log-multiplexer.js'

const at = '2026-11-27T15:00:00.000Z'
const changes: ChangeSet = {
  services: [{service: 'frontend', files: 3, paths: ['app/a.tsx', 'app/b.tsx', 'app/c.tsx']}],
  config: false,
  chart: false,
  env: true,
  manual: false,
}
const plain = {color: false, interactive: false}

describe('renderDevEvent (human)', () => {
  it('prints one summary line per iteration: what changed, step timings, the URL', () => {
    const event: DevEvent = {
      type: 'iteration-finished',
      iteration: 2,
      changes,
      status: 'deployed',
      steps: [
        {step: 'build', ms: 2100},
        {step: 'load', ms: 1000},
        {step: 'rollout', ms: 11_400},
      ],
      url: 'http://127.0.0.1:30080',
      durationMs: 14_600,
      at,
    }
    expect(renderDevEvent(event, plain)).toBe(
      'frontend changed (3 files), .env changed → build 2.1s, load 1.0s, rollout 11.4s → http://127.0.0.1:30080',
    )
    expect(renderDevEvent({...event, status: 'unchanged', steps: []}, plain)).toBe(
      'frontend changed (3 files), .env changed → nothing to redeploy (same images and values)',
    )
    expect(renderDevEvent({type: 'iteration-started', iteration: 3, changes, at}, plain)).toBeUndefined()
  })

  it("shows a failure with up's diagnosis, the rollback, and that it keeps waiting", () => {
    const error = new DeployError('deployment backend did not become ready: CrashLoopBackOff', {
      where: 'pod/backend-7d9 container backend',
      fix: 'read the logs: todo-deploy logs backend --previous',
      details: ['last log line: ModuleNotFoundError: fastapi'],
    })
    const text = renderDevEvent(
      {
        type: 'iteration-failed',
        iteration: 4,
        changes: {...changes, services: [{service: 'backend', files: 1, paths: ['main.py']}], env: false},
        steps: [{step: 'rollout', ms: 30_000}],
        error,
        rolledBackTo: 3,
        durationMs: 31_000,
        at,
      },
      plain,
    )
    expect(text?.split('\n')).toEqual([
      'backend changed (1 file) → rollout 30.0s → failed',
      '✖ deployment backend did not become ready: CrashLoopBackOff',
      '  where: pod/backend-7d9 container backend',
      '  last log line: ModuleNotFoundError: fastapi',
      '  fix: read the logs: todo-deploy logs backend --previous',
      'rolled back to revision 3',
      'waiting for the next change',
    ])
  })

  it('names the keys only on a terminal, and says how stopping goes', () => {
    expect(renderDevEvent({type: 'watching', iterations: 0, at}, {color: false, interactive: true})).toBe(
      'watching for changes (r: rebuild now, s: status, q: quit)',
    )
    expect(renderDevEvent({type: 'watching', iterations: 0, at}, plain)).toBe(
      'watching for changes (Ctrl-C to stop)',
    )
    expect(renderDevEvent({type: 'watching', iterations: 5, at}, plain)).toBeUndefined()
    expect(renderDevEvent({type: 'stopping', iteration: 2, abort: false, at}, plain)).toBe(
      'stopping: letting iteration 2 finish (press Ctrl-C or q again to abort it)',
    )
    expect(renderDevEvent({type: 'stopped', iterations: 1, failed: 1, at}, plain)).toBe(
      'stopped after 1 iteration (1 failed)',
    )
  })
})

describe('renderDevEventJson', () => {
  it('writes one object per event with its type as `event`, a failure as the error object of up --json', () => {
    const many = Array.from({length: 500}, (_, i) => `src/file${i}.ts`)
    const line = renderDevEventJson({
      type: 'iteration-failed',
      iteration: 1,
      changes: {...changes, services: [{service: 'frontend', files: 500, paths: many}]},
      steps: [{step: 'build', ms: 1200}],
      error: new DeployError('rollout failed', {fix: 'see the diagnosis'}),
      durationMs: 1300,
      at,
    })
    expect(line).not.toContain('\n')
    expect(JSON.parse(line)).toEqual({
      event: 'iteration-failed',
      iteration: 1,
      changes: {
        services: [{service: 'frontend', files: 500, paths: many.slice(0, JSON_PATHS_PER_SERVICE)}],
        config: false,
        chart: false,
        env: true,
        manual: false,
      },
      steps: [{step: 'build', ms: 1200}],
      error: {
        exitCode: 5,
        kind: 'DeployError',
        message: 'rollout failed',
        fix: 'see the diagnosis',
        details: [],
      },
      durationMs: 1300,
      at,
    })
    expect(JSON.parse(renderDevEventJson({type: 'stopped', iterations: 2, failed: 0, at}))).toEqual({
      event: 'stopped',
      iterations: 2,
      failed: 0,
      at,
    })
  })
})

/** A fake terminal: a stream with the TTY methods. */
function fakeTerminal(
  isTTY: boolean,
): PassThrough & {isTTY: boolean; isRaw: boolean; setRawMode: (mode: boolean) => void} {
  const stream = new PassThrough() as PassThrough & {
    isTTY: boolean
    isRaw: boolean
    setRawMode: (mode: boolean) => void
  }
  stream.isTTY = isTTY
  stream.isRaw = false
  stream.setRawMode = (mode) => {
    stream.isRaw = mode
  }
  return stream
}

describe('listenForKeys', () => {
  it('maps r, s, q and Ctrl-C in raw mode, and restores the terminal', async () => {
    const terminal = fakeTerminal(true)
    const handlers = {rebuild: vi.fn(), status: vi.fn(), quit: vi.fn()}
    const restore = listenForKeys(terminal, handlers)
    expect(terminal.isRaw).toBe(true)
    terminal.write('rxs')
    terminal.write('q\u0003')
    await new Promise((resolve) => setImmediate(resolve))
    expect(handlers.rebuild).toHaveBeenCalledTimes(1)
    expect(handlers.status).toHaveBeenCalledTimes(1)
    expect(handlers.quit).toHaveBeenCalledTimes(2)

    restore()
    expect(terminal.isRaw).toBe(false)
    terminal.write('r')
    await new Promise((resolve) => setImmediate(resolve))
    expect(handlers.rebuild).toHaveBeenCalledTimes(1)
  })

  it('reads nothing without a terminal', async () => {
    const pipe = fakeTerminal(false)
    const handlers = {rebuild: vi.fn(), status: vi.fn(), quit: vi.fn()}
    const restore = listenForKeys(pipe, handlers)
    expect(pipe.listenerCount('data')).toBe(0)
    expect(pipe.isRaw).toBe(false)
    restore()
  })
})

describe('renderDevLoopEvent / renderDevLoopEventJson (the whole dev loop)', () => {
  const logs = new LogView({
    color: false,
    timestamps: false,
    services: ['frontend', 'backend'],
    containers: {backend: 'backend'},
  })
  const options = {...plain, logs}
  const line: LogLineEvent = {
    type: 'line',
    service: 'backend',
    pod: 'todo-backend-7d9f8c6b5-x2kq9',
    container: 'backend',
    time: at,
    line: 'GET /health 200',
    previous: false,
  }

  it('puts app log lines on stdout as `logs` prints them, and in --json as log events', () => {
    expect(renderDevLoopEvent({type: 'log', log: line, at}, options)).toEqual([
      {stream: 'stdout', text: 'backend  7d9f-x2kq9 │ GET /health 200'},
    ])
    expect(JSON.parse(renderDevLoopEventJson({type: 'log', log: line, at}))).toEqual({
      event: 'log',
      at,
      service: 'backend',
      pod: 'todo-backend-7d9f8c6b5-x2kq9',
      container: 'backend',
      time: at,
      line: 'GET /health 200',
    })
  })

  it('says where a port-forward made the app reachable, and that a failed first up does not end dev', () => {
    expect(
      renderDevLoopEvent(
        {type: 'reachable', url: 'http://127.0.0.1:40123', via: 'port-forward', at},
        options,
      ),
    ).toEqual([
      {
        stream: 'stderr',
        text: 'the app is reachable at http://127.0.0.1:40123 (port-forward to the frontend Service)',
      },
    ])
    const failed = renderDevLoopEvent(
      {type: 'up', error: new DeployError('the rollout of todo-backend failed', {fix: 'fix it'}), at},
      options,
    )
    expect(failed.map((out) => out.stream)).toEqual(['stderr', 'stderr'])
    expect(failed[0]?.text).toContain('the rollout of todo-backend failed')
    expect(failed[1]?.text).toBe('dev keeps watching: the next change tries again')
    expect(
      JSON.parse(renderDevLoopEventJson({type: 'up', error: new DeployError('boom'), at})),
    ).toMatchObject({
      event: 'up',
      error: {exitCode: 5, message: 'boom'},
    })
  })

  it('shows an iteration starting as progress on stderr', () => {
    expect(renderDevLoopEvent({type: 'iteration-started', iteration: 1, changes, at}, options)).toEqual([
      {stream: 'stderr', text: 'frontend changed (3 files), .env changed: updating…'},
    ])
  })
})
