import {copyFile, mkdtemp, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type {Readable} from 'node:stream'

import Docker from 'dockerode'
import {describe, expect, it} from 'vitest'

import {dockerAvailable, dockerSocket, inCI} from '../support/real-components.js'

describe.skipIf(!dockerAvailable && !inCI)('wiring: Docker Engine', () => {
  it('dockerode builds a FROM scratch busybox image on the real engine', async () => {
    const docker = new Docker({socketPath: dockerSocket})
    const dir = await mkdtemp(path.join(os.tmpdir(), 'todo-deploy-wiring-'))
    const ref = `todo-deploy-test-wiring-${process.pid}:latest`
    try {
      await copyFile('/bin/busybox', path.join(dir, 'busybox'))
      await writeFile(
        path.join(dir, 'Dockerfile'),
        'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "echo", "wiring-ok"]\n',
      )
      const stream = (await docker.buildImage(
        {context: dir, src: ['Dockerfile', 'busybox']},
        {t: ref},
      )) as Readable
      const messages = await new Promise<{stream?: string; error?: string}[]>((resolve, reject) =>
        docker.modem.followProgress(
          stream,
          (error: Error | null, output: {stream?: string; error?: string}[]) =>
            error ? reject(error) : resolve(output),
        ),
      )
      expect(messages.filter((message) => message.error)).toEqual([])
      expect(messages.map((message) => message.stream ?? '').join('')).toContain('wiring-ok')
      expect((await docker.getImage(ref).inspect()).Size).toBeGreaterThan(0)
    } finally {
      await docker
        .getImage(ref)
        .remove({force: true})
        .catch(() => undefined)
      await rm(dir, {recursive: true, force: true})
    }
  })
})
