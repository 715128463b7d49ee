import {execFileSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Readable} from 'node:stream'

import tar from 'tar-stream'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {BadInputError} from '../../src/lib/errors.js'
import {packSyncArchive, rootRelative} from '../../src/lib/kube/sync-archive.js'

interface Entry {
  name: string
  type: string
  mode: number
  content: string
}

async function entriesOf(bytes: Buffer): Promise<Entry[]> {
  const extract = tar.extract()
  const entries: Entry[] = []
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer))
      stream.on('end', () => {
        entries.push({
          name: header.name,
          type: header.type ?? 'file',
          mode: header.mode ?? 0,
          content: Buffer.concat(chunks).toString('utf8'),
        })
        next()
      })
    })
    extract.on('finish', resolve)
    extract.on('error', reject)
  })
  Readable.from([bytes]).pipe(extract)
  await done
  return entries
}

let local: string
beforeEach(() => {
  local = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-sync-archive-'))
})
afterEach(() => rmSync(local, {recursive: true, force: true}))

function localFile(name: string, content: string, mode = 0o644): string {
  const file = path.join(local, name)
  mkdirSync(path.dirname(file), {recursive: true})
  writeFileSync(file, content)
  chmodSync(file, mode)
  return file
}

describe('packSyncArchive', () => {
  it('holds exactly the changed files, under their container paths, with their modes and no folder entries', async () => {
    const archive = await packSyncArchive({
      files: [
        {from: localFile('www/a/b.html', '<b>'), to: '/www/a/b.html'},
        {from: localFile('bin/start', '#!/bin/sh\n', 0o755), to: '/app/bin/start'},
      ],
      deletions: [],
    })

    expect(archive.files).toBe(2)
    expect(await entriesOf(archive.bytes)).toEqual([
      {name: 'www/a/b.html', type: 'file', mode: 0o644, content: '<b>'},
      {name: 'app/bin/start', type: 'file', mode: 0o755, content: '#!/bin/sh\n'},
    ])
  })

  it('turns deletions into root-relative paths that no command reads as an option', async () => {
    const archive = await packSyncArchive({files: [], deletions: ['/app/-rf', '/app/old dir/x.py']})
    expect(archive).toMatchObject({files: 0, deletions: ['./app/-rf', './app/old dir/x.py']})
  })

  it('a file removed before it could be read is deleted in the container instead', async () => {
    const archive = await packSyncArchive({
      files: [
        {from: path.join(local, '.main.py.swp'), to: '/app/.main.py.swp'},
        {from: localFile('main.py', 'x'), to: '/app/main.py'},
      ],
      deletions: [],
    })
    expect(archive.files).toBe(1)
    expect(archive.deletions).toEqual(['./app/.main.py.swp'])
    expect((await entriesOf(archive.bytes)).map((entry) => entry.name)).toEqual(['app/main.py'])
  })

  it('keeps odd and long names intact, and a real tar extracts them with their folders', async () => {
    const names = [
      'new\nline.txt',
      'quote\'s "and" $(dollar).py',
      'été/ünï.txt',
      `${'deep/'.repeat(30)}leaf.txt`,
    ]
    const archive = await packSyncArchive({
      files: names.map((name) => ({from: localFile(name, name), to: `/app/${name}`})),
      deletions: [],
    })

    expect((await entriesOf(archive.bytes)).map((entry) => entry.name)).toEqual(
      names.map((name) => `app/${name}`),
    )
    const root = path.join(local, 'container')
    mkdirSync(root)
    execFileSync('tar', ['-xmof', '-'], {cwd: root, input: archive.bytes})
    for (const name of names) expect(readFileSync(path.join(root, 'app', name), 'utf8')).toBe(name)
    expect(statSync(path.join(root, 'app', 'deep')).isDirectory()).toBe(true)
  })

  it('a file that cannot be read is a clear error naming it', async () => {
    const file = localFile('secret.py', 'x')
    const archive = packSyncArchive({
      files: [{from: path.join(file, 'not-a-folder'), to: '/app/x'}],
      deletions: [],
    })
    await expect(archive).rejects.toBeInstanceOf(BadInputError)
    await expect(archive).rejects.toThrow(/cannot read .*not-a-folder for live sync: ENOTDIR/)
  })
})

describe('rootRelative', () => {
  it('maps an absolute container path below / onto ./', () => {
    expect(rootRelative('/app/main.py')).toBe('./app/main.py')
    expect(rootRelative('/app//pages/')).toBe('./app/pages')
  })

  it.each(['app/main.py', '/', '/app/../etc/passwd', ''])('refuses %j', (bad) => {
    expect(() => rootRelative(bad)).toThrow(BadInputError)
  })
})
