import {
  chmodSync,
  symlinkSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import which from 'which'

import {
  copyToEach,
  SyncFailedError,
  type SyncPayload,
  type SyncTarget,
} from '../../src/lib/kube/container-file-sync.js'
import {ExecContainerFileSync} from '../../src/lib/kube/exec-file-sync.js'
import {KubeConnection} from '../../src/lib/kube/kube-connection.js'
import {packSyncArchive} from '../../src/lib/kube/sync-archive.js'
import {CONTAINER_TOOLS, EXEC_PROTOCOL, ExecApiServer, execContainer} from '../support/exec-server.js'
import {PrerequisiteError} from '../../src/lib/errors.js'
import {closedPortUrl, FAKE_CONTEXT, FakeKubeApiServer, kubeConfigFor} from '../support/kube-api-server.js'

// The exec path end to end over a real WebSocket: client-node's Exec, the exec subprotocol, and the
// container side run for real with this machine's sh and tar in a folder that stands for the container.

const NAMESPACE = 'todo-app-dev'
const CONTAINER = 'frontend'

let api: FakeKubeApiServer
let server: ExecApiServer
let dirs: string[]
let local: string
let sync: ExecContainerFileSync

function podObject(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name, namespace: NAMESPACE},
    spec: {containers: [{name: CONTAINER}]},
  }
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  dirs.push(dir)
  return dir
}

/** A pod whose container's `/` is a fresh folder with an `/app` its user owns; returns that folder. */
function pod(name: string, tools: readonly string[] = CONTAINER_TOOLS): string {
  api.seed('pods', podObject(name))
  const root = tempDir('todo-deploy-container-')
  const container = execContainer(root, tools)
  dirs.push(container.bin)
  server.setContainer(name, CONTAINER, container)
  mkdirSync(path.join(root, 'app'))
  const {uid, gid} = ExecApiServer.runsAs
  chownSync(path.join(root, 'app'), uid, gid)
  return root
}

/** A folder the container's user cannot write to (root's when it is `nobody`, else read-only). */
function readOnlyFolder(root: string, folder: string): void {
  mkdirSync(path.join(root, folder), {recursive: true})
  chmodSync(path.join(root, folder), 0o555)
}

function localFile(name: string, content: string, mode = 0o644): string {
  const file = path.join(local, name)
  mkdirSync(path.dirname(file), {recursive: true})
  writeFileSync(file, content, {mode})
  chmodSync(file, mode)
  return file
}

function target(podName: string): SyncTarget {
  return {namespace: NAMESPACE, pod: podName, container: CONTAINER}
}

beforeEach(async () => {
  dirs = []
  api = await FakeKubeApiServer.start()
  server = await ExecApiServer.start(api)
  const kc = kubeConfigFor(server)
  sync = new ExecContainerFileSync(
    new KubeConnection({kc, context: FAKE_CONTEXT, server: server.url}),
    kc,
    10_000,
  )
  local = tempDir('todo-deploy-local-')
})

afterEach(async () => {
  await server.stop()
  await api.stop()
  for (const dir of dirs) {
    chmodRecursive(dir)
    rmSync(dir, {recursive: true, force: true})
  }
})

function chmodRecursive(dir: string): void {
  // Read-only folders made by a test would stop the clean-up of a non-root run.
  if (!existsSync(dir)) return
  chmodSync(dir, 0o755)
  for (const entry of readdirSync(dir, {withFileTypes: true}))
    if (entry.isDirectory()) chmodRecursive(path.join(dir, entry.name))
}

describe('ExecContainerFileSync over the exec WebSocket', () => {
  it('copies changed files in one stream: contents and modes land, owned by the container user', async () => {
    const root = pod('frontend-1')
    mkdirSync(path.join(root, 'app', 'pages'))
    chownSync(path.join(root, 'app', 'pages'), ExecApiServer.runsAs.uid, ExecApiServer.runsAs.gid)
    writeFileSync(path.join(root, 'app', 'pages', 'index.js'), 'old page')
    chownSync(path.join(root, 'app', 'pages', 'index.js'), ExecApiServer.runsAs.uid, ExecApiServer.runsAs.gid)

    const payload: SyncPayload = {
      files: [
        {from: localFile('pages/index.js', 'new page'), to: '/app/pages/index.js'},
        {from: localFile('run.sh', '#!/bin/sh\necho hi\n', 0o755), to: '/app/run.sh'},
      ],
      deletions: [],
    }
    await sync.copy(target('frontend-1'), payload)

    expect(readFileSync(path.join(root, 'app', 'pages', 'index.js'), 'utf8')).toBe('new page')
    const script = statSync(path.join(root, 'app', 'run.sh'))
    expect(script.mode & 0o777).toBe(0o755)
    expect(script.uid).toBe(ExecApiServer.runsAs.uid)
    // Written now (tar -m), so a reloader that compares times sees the change.
    expect(Date.now() - script.mtimeMs).toBeLessThan(60_000)
    expect(server.sessions).toHaveLength(1)
    expect(server.sessions[0]?.protocol).toBe(EXEC_PROTOCOL)
    expect(server.sessions[0]?.authorization).toBe('Bearer fake-token')
    expect(server.sessions[0]?.stdinBytes).toBe((await packSyncArchive(payload)).bytes.length)
  })

  it('creates new nested folders, and replaces a file by a folder of the same name', async () => {
    const root = pod('frontend-1')
    writeFileSync(path.join(root, 'app', 'lib'), 'was a file')
    chownSync(path.join(root, 'app', 'lib'), ExecApiServer.runsAs.uid, ExecApiServer.runsAs.gid)

    await sync.copy(target('frontend-1'), {
      files: [
        {from: localFile('components/ui/forms/field.tsx', 'field'), to: '/app/components/ui/forms/field.tsx'},
        {from: localFile('lib/db.py', 'db'), to: '/app/lib/db.py'},
      ],
      deletions: ['/app/lib'],
    })

    expect(readFileSync(path.join(root, 'app', 'components', 'ui', 'forms', 'field.tsx'), 'utf8')).toBe(
      'field',
    )
    expect(readFileSync(path.join(root, 'app', 'lib', 'db.py'), 'utf8')).toBe('db')
  })

  it('deletes files, whatever their names, and no name runs as shell code', async () => {
    const root = pod('frontend-1')
    const odd = ['-rf', 'it\'s $(touch pwned) `touch pwned2` "q".py', 'new\nline.txt', 'été *.txt']
    for (const name of [...odd, 'keep.py']) writeFileSync(path.join(root, 'app', name), 'x')

    await sync.copy(target('frontend-1'), {
      files: [{from: localFile('$(touch pwned3);.txt', 'odd but fine'), to: '/app/$(touch pwned3);.txt'}],
      deletions: odd.map((name) => `/app/${name}`),
    })

    for (const name of odd) expect(existsSync(path.join(root, 'app', name))).toBe(false)
    expect(readFileSync(path.join(root, 'app', 'keep.py'), 'utf8')).toBe('x')
    expect(readFileSync(path.join(root, 'app', '$(touch pwned3);.txt'), 'utf8')).toBe('odd but fine')
    for (const planted of ['pwned', 'pwned2', 'pwned3'])
      for (const where of [root, path.join(root, 'app')])
        expect(existsSync(path.join(where, planted))).toBe(false)
  })

  it('copies one payload to every pod at once, one stream each', async () => {
    const roots = [pod('frontend-1'), pod('frontend-2'), pod('frontend-3')]
    const payload: SyncPayload = {
      files: Array.from({length: 100}, (_, i) => ({
        from: localFile(`src/f${i}.js`, `file ${i}`),
        to: `/app/src/f${i}.js`,
      })),
      deletions: [],
    }

    const outcomes = await copyToEach(sync, ['frontend-1', 'frontend-2', 'frontend-3'].map(target), payload)

    expect(outcomes.map((outcome) => outcome.error)).toEqual([null, null, null])
    for (const root of roots)
      expect(readFileSync(path.join(root, 'app', 'src', 'f99.js'), 'utf8')).toBe('file 99')
    expect(server.sessions.map((session) => session.pod).sort()).toEqual([
      'frontend-1',
      'frontend-2',
      'frontend-3',
    ])
  })

  it('check: a container with tar and a writable target can take a sync', async () => {
    pod('frontend-1')
    await expect(sync.check(target('frontend-1'), ['/app', '/app/not/yet/there'])).resolves.toEqual([])
  })

  it('check: a container without tar is named, with how to install it', async () => {
    pod(
      'frontend-1',
      CONTAINER_TOOLS.filter((tool) => tool !== 'tar'),
    )
    const obstacles = await sync.check(target('frontend-1'), ['/app'])
    expect(obstacles).toEqual([
      expect.objectContaining({reason: 'no-tar', to: null, message: expect.stringContaining('has no tar')}),
    ])
    expect(obstacles[0]?.fix).toContain('apk add --no-cache tar')
  })

  it('check: a container without a shell cannot take a sync either', async () => {
    pod('frontend-1', ['tar'])
    const [obstacle] = await sync.check(target('frontend-1'), ['/app'])
    expect(obstacle?.reason).toBe('no-tar')
    expect(obstacle?.message).toContain('has no sh and tar')
    expect(obstacle?.fix).toContain('base the dev target on an image with a shell and tar')
  })

  it("check: a target the container's user cannot write is named, with the COPY --chown line that fixes it", async () => {
    const root = pod('frontend-1')
    readOnlyFolder(root, 'srv')

    const obstacles = await sync.check(target('frontend-1'), ['/app', '/srv/www'])

    expect(obstacles).toHaveLength(1)
    expect(obstacles[0]).toMatchObject({reason: 'not-writable', to: '/srv/www'})
    expect(obstacles[0]?.message).toMatch(
      /^user \S+ cannot write to \/srv\/www in container frontend of pod frontend-1$/,
    )
    expect(obstacles[0]?.fix).toMatch(/`COPY --chown=\S+:\S+ \. \/srv\/www`/)
  })

  it("a failed copy shows tar's own stderr and exit status, not a bare exit code", async () => {
    const root = pod('frontend-1')
    readOnlyFolder(root, 'srv')

    const copy = sync.copy(target('frontend-1'), {
      files: [{from: localFile('index.html', '<h1>hi</h1>'), to: '/srv/www/index.html'}],
      deletions: [],
    })

    const error = await copy.catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(SyncFailedError)
    const failed = error as SyncFailedError
    expect(failed.exitStatus).toBe(2)
    expect(failed.message).toBe(
      `live sync into ${NAMESPACE}/frontend-1 (container frontend) failed: the copy (tar) exited with status 2`,
    )
    expect(failed.details.join('\n')).toMatch(/tar: .*srv\/www.*(Permission denied|Cannot)/)
  })

  it('a pod that is gone is refused by the API server, and said so', async () => {
    const error = await sync
      .copy(target('frontend-gone'), {
        files: [{from: localFile('a.txt', 'a'), to: '/app/a.txt'}],
        deletions: [],
      })
      .catch((caught: unknown) => caught)
    expect((error as Error).message).toContain(
      'cannot exec into todo-app-dev/frontend-gone (container frontend) for live sync',
    )
    expect((error as Error).message).toContain('404')
  })

  it('a user without pods/exec is told which right is missing and how to check it (exit 3)', async () => {
    pod('frontend-1')
    server.refusal = {
      code: 403,
      message: 'pods "frontend-1" is forbidden: cannot create resource "pods/exec"',
    }
    const error = await sync.check(target('frontend-1'), ['/app']).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect((error as PrerequisiteError).message).toBe(
      `kube context ${FAKE_CONTEXT} may not exec into ${NAMESPACE}/frontend-1 (container frontend) (403 Forbidden)`,
    )
    expect((error as PrerequisiteError).fix).toContain(`kubectl auth can-i create pods/exec -n ${NAMESPACE}`)
  })

  it('an API server that cannot be reached is a missing prerequisite, worded as for every other call', async () => {
    const url = await closedPortUrl()
    const kc = kubeConfigFor({url})
    const unreachable = new ExecContainerFileSync(
      new KubeConnection({kc, context: FAKE_CONTEXT, server: url}),
      kc,
    )
    const error = await unreachable.check(target('frontend-1'), ['/app']).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(PrerequisiteError)
    expect((error as PrerequisiteError).message).toBe(
      `cannot reach the Kubernetes API at ${url} (ECONNREFUSED) to create pods/exec/frontend-1 in namespace ${NAMESPACE}`,
    )
  })

  describe('a copy that does not finish', () => {
    /** A pod whose tar hangs, as on a container stuck on a full disk or a frozen mount. */
    function podWithHangingTar(): void {
      const root = pod(
        'frontend-1',
        CONTAINER_TOOLS.filter((tool) => tool !== 'tar'),
      )
      const bin = dirs.at(-1) as string
      const tar = path.join(root, 'hanging-tar')
      writeFileSync(tar, '#!/bin/sh\nexec sleep 30\n', {mode: 0o755})
      chmodSync(tar, 0o755)
      symlinkSync(tar, path.join(bin, 'tar'))
      symlinkSync(which.sync('sleep'), path.join(bin, 'sleep'))
    }
    const payload = (): SyncPayload => ({
      files: [{from: localFile('a.txt', 'a'), to: '/app/a.txt'}],
      deletions: [],
    })
    const connection = () =>
      new KubeConnection({kc: kubeConfigFor(server), context: FAKE_CONTEXT, server: server.url})

    it('fails at its deadline with what it was doing, and closes the session', async () => {
      podWithHangingTar()
      const quick = new ExecContainerFileSync(connection(), kubeConfigFor(server), 500)
      const error = await quick.copy(target('frontend-1'), payload()).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(SyncFailedError)
      expect((error as SyncFailedError).exitStatus).toBeNull()
      expect((error as SyncFailedError).details).toEqual(['it did not finish within 0.5 s'])
      await vi.waitFor(() => expect(server.sessions[0]?.ended).toBe(true))
    })

    it('Ctrl-C stops it at once with the reason it was given', async () => {
      podWithHangingTar()
      const controller = new AbortController()
      setTimeout(() => controller.abort(new Error('interrupted')), 200)
      await expect(sync.copy(target('frontend-1'), payload(), controller.signal)).rejects.toThrow(
        'interrupted',
      )
    })

    it('an API server that never answers the exec upgrade is given up at the deadline too', async () => {
      pod('frontend-1')
      server.hangUpgrades = true
      const quick = new ExecContainerFileSync(connection(), kubeConfigFor(server), 500)
      const error = await quick.check(target('frontend-1'), ['/app']).catch((caught: unknown) => caught)
      expect((error as SyncFailedError).details).toEqual(['it did not finish within 0.5 s'])
    })
  })
})
