import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {randomBytes} from 'node:crypto'

import {execa} from 'execa'
import {afterAll, beforeAll, expect, it} from 'vitest'

import {
  copyToEach,
  SyncFailedError,
  type SyncPayload,
  type SyncTarget,
} from '../../src/lib/kube/container-file-sync.js'
import {ExecContainerFileSync} from '../../src/lib/kube/exec-file-sync.js'
import {loadKubeConfig} from '../../src/lib/kube/kube-config.js'
import {KubeConnection} from '../../src/lib/kube/kube-connection.js'
import {busyboxContext} from '../support/docker-fixtures.js'
import {ClusterTools} from './support/cluster-tools.js'
import {describeOnCluster} from './support/opt-in.js'

// Issue 20, the copy itself: the exec adapter against a real API server and kubelet (exec over
// WebSocket, v4.channel.k8s.io on the rig's v1.24), into busybox containers that run as a non-root user.
// The timings are printed, not asserted (speed targets belong to bench/).

const RUN = randomBytes(3).toString('hex')
const NAMESPACE = `sx-live-sync-${RUN}`
const IMAGE = `sx-busybox-sync:${RUN}`
const NO_TAR_IMAGE = `sx-busybox-notar:${RUN}`

/** busybox with every applet, user `app` (1000) owning /app, and a root-owned /srv. */
const SYNC_DOCKERFILE = `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && mkdir -p /etc /app /srv/www /tmp && echo 'app:x:1000:1000::/app:/bin/sh' > /etc/passwd && echo 'app:x:1000:' > /etc/group && chown 1000:1000 /app"]
USER 1000
CMD ["sleep", "86400"]
`
/**
 * No shell and no tar, as a distroless image (busybox's own sh runs its tar applet whatever PATH says,
 * so an image with busybox's sh always has tar): busybox is there only as \`sleep\`.
 */
const NO_TAR_DOCKERFILE = `FROM scratch
COPY busybox /bin/sleep
CMD ["/bin/sleep", "86400"]
`

function podManifest(name: string, image: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name, namespace: NAMESPACE},
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{name: 'app', image, imagePullPolicy: 'Never'}],
    },
  })
}

describeOnCluster('live sync through the exec API on a real cluster', () => {
  let tools: ClusterTools
  let sync: ExecContainerFileSync
  let local: string
  const contexts: string[] = []
  const kubectl = (args: string[], input?: string) =>
    execa(tools.kubectlPath, ['--context', tools.context, ...args], {input, timeout: 120_000})
  const inPod = async (pod: string, script: string): Promise<string> =>
    (await kubectl(['exec', '-n', NAMESPACE, pod, '-c', 'app', '--', 'sh', '-c', script])).stdout
  const target = (pod: string): SyncTarget => ({namespace: NAMESPACE, pod, container: 'app'})
  const localFile = (name: string, content: string): string => {
    const file = path.join(local, name)
    mkdirSync(path.dirname(file), {recursive: true})
    writeFileSync(file, content)
    return file
  }
  const timed = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now()
    const result = await work()
    console.log(`live sync on the rig: ${what}: ${((performance.now() - started) / 1000).toFixed(2)} s`)
    return result
  }

  beforeAll(async () => {
    tools = await ClusterTools.connect()
    local = mkdtempSync(path.join(os.tmpdir(), 'sx-local-'))
    for (const [image, dockerfile] of [
      [IMAGE, SYNC_DOCKERFILE],
      [NO_TAR_IMAGE, NO_TAR_DOCKERFILE],
    ] as const) {
      const context = await busyboxContext({Dockerfile: dockerfile})
      contexts.push(context)
      await execa('docker', ['build', '-q', '-t', image, context])
      await execa('minikube', ['image', 'load', image], {timeout: 300_000})
    }
    await kubectl(['create', 'namespace', NAMESPACE])
    for (const [pod, image] of [
      ['sync-1', IMAGE],
      ['sync-2', IMAGE],
      ['notar', NO_TAR_IMAGE],
    ] as const)
      await kubectl(['apply', '-f', '-'], podManifest(pod, image))
    await kubectl(['wait', '-n', NAMESPACE, '--for=condition=Ready', 'pod', '--all', '--timeout=180s'])
    const loaded = loadKubeConfig({context: tools.context})
    sync = new ExecContainerFileSync(new KubeConnection(loaded), loaded.kc)
  })

  afterAll(async () => {
    await kubectl(['delete', 'namespace', NAMESPACE, '--wait=false']).catch(() => undefined)
    for (const image of [IMAGE, NO_TAR_IMAGE]) {
      await execa('minikube', ['image', 'rm', image], {reject: false})
      await execa('docker', ['rmi', image], {reject: false})
    }
    for (const dir of [local, ...contexts]) rmSync(dir, {recursive: true, force: true})
  })

  it('checks: /app is writable; a root-owned /srv/www is named with its fix; no tar is named', async () => {
    expect(await sync.check(target('sync-1'), ['/app', '/app/new/folder'])).toEqual([])
    const [notWritable] = await sync.check(target('sync-1'), ['/srv/www'])
    expect(notWritable?.message).toBe('user app cannot write to /srv/www in container app of pod sync-1')
    expect(notWritable?.fix).toContain('`COPY --chown=app:app . /srv/www`')
    const [noTar] = await sync.check(target('notar'), ['/app'])
    expect(noTar?.reason).toBe('no-tar')
    expect(noTar?.message).toContain('has no sh and tar')
  })

  it('one file lands', async () => {
    const payload = {
      files: [{from: localFile('main.py', 'print("v2")\n'), to: '/app/main.py'}],
      deletions: [],
    }
    await timed('1 file to 1 pod', () => sync.copy(target('sync-1'), payload))
    expect(await inPod('sync-1', 'cat /app/main.py')).toBe('print("v2")')
  })

  it('a file in a new nested folder lands, and a deletion removes', async () => {
    await inPod('sync-1', 'echo old > /app/old.py')
    const payload = {
      files: [{from: localFile('components/ui/field.tsx', 'field\n'), to: '/app/components/ui/field.tsx'}],
      deletions: ['/app/old.py'],
    }
    await sync.copy(target('sync-1'), payload)
    expect(await inPod('sync-1', 'cat /app/components/ui/field.tsx; ls /app')).toBe(
      'field\ncomponents\nmain.py',
    )
  })

  it('100 files go as one stream to each of two pods', async () => {
    const payload: SyncPayload = {
      files: Array.from({length: 100}, (_, i) => ({
        from: localFile(`src/module${i}.js`, `export const n = ${i}\n`.repeat(40)),
        to: `/app/src/module${i}.js`,
      })),
      deletions: [],
    }
    const outcomes = await timed('100 files to 2 pods', () =>
      copyToEach(sync, [target('sync-1'), target('sync-2')], payload),
    )
    expect(outcomes.map((outcome) => outcome.error)).toEqual([null, null])
    for (const pod of ['sync-1', 'sync-2']) expect(await inPod(pod, 'ls /app/src | wc -l')).toBe('100')
  })

  it("a copy the container refuses shows busybox tar's own words", async () => {
    const error = await sync
      .copy(target('sync-1'), {
        files: [{from: localFile('index.html', 'hi'), to: '/srv/www/index.html'}],
        deletions: [],
      })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(SyncFailedError)
    console.log(
      `live sync on the rig: refused copy says: ${(error as SyncFailedError).message}\n  ${(error as SyncFailedError).details.join('\n  ')}`,
    )
    expect((error as SyncFailedError).exitStatus).not.toBeNull()
    expect((error as SyncFailedError).details.join('\n')).toMatch(/Permission denied/)
  })
})
