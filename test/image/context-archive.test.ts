import {mkdir, symlink} from 'node:fs/promises'
import path from 'node:path'
import type {Readable} from 'node:stream'

import tar from 'tar-stream'
import {afterEach, describe, expect, it} from 'vitest'

import {BuildContext} from '../../src/lib/image/build-context.js'
import {RESERVED_DOCKERFILE_NAME, packBuildContext} from '../../src/lib/image/context-archive.js'
import {appContext, busyboxContext, removeDir} from '../support/docker-fixtures.js'

interface TarEntry {
  type: string
  content: string
  linkname?: string
}

async function readTar(stream: Readable): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>()
  const extract = tar.extract()
  stream.pipe(extract)
  for await (const entry of extract) {
    const chunks: Buffer[] = []
    for await (const chunk of entry) chunks.push(chunk as Buffer)
    entries.set(entry.header.name, {
      type: entry.header.type,
      content: Buffer.concat(chunks).toString('utf8'),
      ...(entry.header.linkname ? {linkname: entry.header.linkname} : {}),
    })
  }
  return entries
}

describe('packBuildContext', () => {
  let dir: string | undefined
  afterEach(async () => removeDir(dir))

  it('sends exactly the filtered files plus an outside Dockerfile under a reserved, self-ignoring name', async () => {
    dir = await appContext()
    const context = await BuildContext.scan(dir, '/elsewhere/docker/frontend.Dockerfile')
    const archive = packBuildContext(context, 'FROM scratch\n')
    const entries = await readTar(archive.stream)

    expect(archive.dockerfile).toBe(RESERVED_DOCKERFILE_NAME)
    expect([...entries.keys()].sort()).toEqual(
      [
        '.dockerignore',
        RESERVED_DOCKERFILE_NAME,
        'busybox',
        'keep.log',
        'package.json',
        'src/index.js',
      ].sort(),
    )
    expect(entries.get(RESERVED_DOCKERFILE_NAME)?.content).toBe('FROM scratch\n')
    expect(entries.get('src/index.js')?.content).toBe('console.log("todo app")\n')
    // The daemon reads .dockerignore from the archive and drops matching Dockerfile / .dockerignore.
    expect(entries.get('.dockerignore')?.content).toBe(
      `${context.dockerignore}\n${RESERVED_DOCKERFILE_NAME}\n`,
    )
  })

  it('uses a Dockerfile inside the context where it is', async () => {
    dir = await busyboxContext({'build/Dockerfile': 'FROM scratch\n'})
    const context = await BuildContext.scan(dir, path.join(dir, 'build/Dockerfile'))
    const archive = packBuildContext(context, 'FROM scratch\n')
    const entries = await readTar(archive.stream)
    expect(archive.dockerfile).toBe('build/Dockerfile')
    expect([...entries.keys()].sort()).toEqual(['build/Dockerfile', 'busybox'])
  })

  it('sends symlinks as links, never the files they point to', async () => {
    dir = await busyboxContext({'app/index.js': 'x\n', 'outside.txt': 'test-secret-value\n'})
    await symlink(path.join(dir, 'outside.txt'), path.join(dir, 'app', 'link'))
    const context = await BuildContext.scan(path.join(dir, 'app'), path.join(dir, 'Dockerfile'))
    const entries = await readTar(packBuildContext(context, 'FROM scratch\n').stream)
    expect(entries.get('link')).toEqual({
      type: 'symlink',
      content: '',
      linkname: path.join(dir, 'outside.txt'),
    })
    expect(entries.get('.dockerignore')?.content).toBe(`.dockerignore\n${RESERVED_DOCKERFILE_NAME}\n`)
  })

  it('sends an empty folder as a folder entry', async () => {
    dir = await busyboxContext({'src/index.js': 'x\n'})
    await mkdir(path.join(dir, 'uploads', 'images'), {recursive: true})
    const context = await BuildContext.scan(dir, path.join(dir, 'Dockerfile'))
    const entries = await readTar(packBuildContext(context, 'FROM scratch\n').stream)
    expect(entries.get('uploads/images')).toEqual({type: 'directory', content: ''})
  })
})
