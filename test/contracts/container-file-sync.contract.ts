import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {
  type ContainerFileSync,
  SyncFailedError,
  type SyncTarget,
} from '../../src/lib/kube/container-file-sync.js'

/** What a container is like: by default it has tar and its user owns `/app`. */
export interface ContainerTraits {
  noTar?: boolean
  /** Folders its user cannot write to. */
  readOnly?: string[]
}

export interface FileSyncContractSubject {
  sync: ContainerFileSync
  /** A pod with one container that runs as told. */
  addPod(name: string, traits?: ContainerTraits): Promise<SyncTarget>
  /** A file's content in the container, or null when it is not there. */
  read(target: SyncTarget, containerPath: string): string | null
  close(): Promise<void>
}

/**
 * What the dev loop relies on from a ContainerFileSync: files land where the rules map them (in new
 * folders too), deletions remove, and a container that cannot take a sync says so in `check` (with the
 * fix) and fails a copy with a SyncFailedError carrying the container's own words. FakeContainerFileSync
 * must behave as the exec adapter does against a container run for real.
 */
export function containerFileSyncContract(name: string, start: () => Promise<FileSyncContractSubject>): void {
  describe(`ContainerFileSync contract: ${name}`, () => {
    let subject: FileSyncContractSubject
    let local: string
    const localFile = (file: string, content: string): string => {
      const at = path.join(local, file)
      mkdirSync(path.dirname(at), {recursive: true})
      writeFileSync(at, content)
      return at
    }
    const setUp = async (): Promise<void> => {
      subject = await start()
      local = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-sync-contract-'))
    }
    afterEach(async () => {
      await subject.close()
      rmSync(local, {recursive: true, force: true})
    })

    it('copied files land, a new nested folder included; a later deletion removes only what it names', async () => {
      await setUp()
      const pod = await subject.addPod('web-1')
      await subject.sync.copy(pod, {
        files: [
          {from: localFile('main.py', 'v1'), to: '/app/main.py'},
          {from: localFile('www/a/b.html', '<b>'), to: '/app/www/a/b.html'},
        ],
        deletions: [],
      })
      expect(subject.read(pod, '/app/main.py')).toBe('v1')
      expect(subject.read(pod, '/app/www/a/b.html')).toBe('<b>')

      await subject.sync.copy(pod, {
        files: [{from: localFile('main.py', 'v2'), to: '/app/main.py'}],
        deletions: ['/app/www/a/b.html'],
      })
      expect(subject.read(pod, '/app/main.py')).toBe('v2')
      expect(subject.read(pod, '/app/www/a/b.html')).toBeNull()
    })

    it('a container that can take a sync passes the check, for folders that do not exist yet too', async () => {
      await setUp()
      const pod = await subject.addPod('web-1')
      expect(await subject.sync.check(pod, ['/app', '/app/static/new'])).toEqual([])
    })

    it('no tar: the check names it with the fix, and a copy fails with what the shell said', async () => {
      await setUp()
      const pod = await subject.addPod('web-1', {noTar: true})
      const obstacles = await subject.sync.check(pod, ['/app'])
      expect(obstacles).toEqual([expect.objectContaining({reason: 'no-tar', to: null})])
      expect(obstacles[0]?.message).toContain('has no tar')
      expect(obstacles[0]?.fix).toContain('install tar')

      const error = await subject.sync
        .copy(pod, {files: [{from: localFile('a.txt', 'a'), to: '/app/a.txt'}], deletions: []})
        .catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(SyncFailedError)
      expect((error as SyncFailedError).exitStatus).toBe(127)
      expect((error as SyncFailedError).stderr).toMatch(/tar: not found/)
    })

    it("a folder the user cannot write: the check names that rule with the COPY --chown fix; a copy fails with tar's words", async () => {
      await setUp()
      const pod = await subject.addPod('web-1', {readOnly: ['/srv']})
      const obstacles = await subject.sync.check(pod, ['/app', '/srv/www'])
      expect(obstacles).toEqual([expect.objectContaining({reason: 'not-writable', to: '/srv/www'})])
      expect(obstacles[0]?.fix).toMatch(/`COPY --chown=\S+:\S+ \. \/srv\/www`/)

      const error = await subject.sync
        .copy(pod, {files: [{from: localFile('i.html', 'i'), to: '/srv/www/i.html'}], deletions: []})
        .catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(SyncFailedError)
      expect((error as SyncFailedError).exitStatus).toBeGreaterThan(0)
      expect((error as SyncFailedError).stderr).toMatch(/^tar: .*srv\/www.*(Permission denied|Cannot)/m)
      expect(subject.read(pod, '/srv/www/i.html')).toBeNull()
    })
  })
}
