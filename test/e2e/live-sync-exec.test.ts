import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

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
import {SyncPods} from '../support/sync-pods.js'
import {ClusterTools} from './support/cluster-tools.js'
import {describeOnCluster} from './support/opt-in.js'

// Issue 20, the copy itself: the exec adapter against a real API server and kubelet (exec over
// WebSocket, v4.channel.k8s.io on the rig's v1.24), into busybox containers that run as a non-root user.
// The timings are printed, not asserted (speed targets belong to bench/).

describeOnCluster('live sync through the exec API on a real cluster', () => {
  let pods: SyncPods | undefined
  let sync: ExecContainerFileSync
  let local: string
  const inPod = (pod: string, script: string): Promise<string> => (pods as SyncPods).inPod(pod, script)
  const target = (pod: string): SyncTarget => (pods as SyncPods).target(pod)
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
    const tools = await ClusterTools.connect()
    local = mkdtempSync(path.join(os.tmpdir(), 'sx-local-'))
    pods = await SyncPods.start({
      kubectl: tools.kubectlPath,
      context: tools.context,
      prefix: 'sx',
      pods: [{name: 'sync-1'}, {name: 'sync-2'}, {name: 'notar', noShell: true}],
    })
    const loaded = loadKubeConfig({context: tools.context})
    sync = new ExecContainerFileSync(new KubeConnection(loaded), loaded.kc)
  })

  afterAll(async () => {
    await pods?.stop()
    rmSync(local, {recursive: true, force: true})
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
