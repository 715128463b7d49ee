import {mkdir, symlink, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {BuildContext} from '../../src/lib/image/build-context.js'
import {ExitCode} from '../../src/lib/errors.js'
import {appContext, busyboxContext, removeDir, writeFiles} from '../support/docker-fixtures.js'

describe('BuildContext', () => {
  let dir: string | undefined
  afterEach(async () => removeDir(dir))

  it("lists the context's files sorted, without what .dockerignore excludes", async () => {
    dir = await appContext()
    const context = await BuildContext.scan(dir)
    expect(context.files).toEqual(['.dockerignore', 'busybox', 'keep.log', 'package.json', 'src/index.js'])
  })

  it('reads + ( ) | { } in .dockerignore literally, as Docker does, instead of failing or matching wrongly', async () => {
    dir = await busyboxContext({
      '.dockerignore': 'app/(marketing)\nc++\nx|src\n',
      'app/(marketing)/page.tsx': 'ignored\n',
      'app/(shop)/page.tsx': 'sent\n',
      'c++/main.cpp': 'ignored\n',
      'src/index.js': 'sent\n',
    })
    const context = await BuildContext.scan(dir)
    expect(context.files).toEqual(['.dockerignore', 'app/(shop)/page.tsx', 'busybox', 'src/index.js'])
  })

  it('lists sent folders with nothing sent in them, as Docker sends them, but not ignored ones', async () => {
    dir = await busyboxContext({
      '.dockerignore': 'logs\n**/*.tmp\n',
      'src/index.js': 'sent\n',
      'cache/scratch.tmp': 'ignored: cache/ is left empty\n',
      'logs/today.log': 'ignored\n',
    })
    await mkdir(path.join(dir, 'data', 'uploads'), {recursive: true})
    await mkdir(path.join(dir, 'logs', 'old'), {recursive: true})
    const context = await BuildContext.scan(dir)
    expect(context.files).toEqual(['.dockerignore', 'busybox', 'src/index.js'])
    expect(context.emptyFolders).toEqual(['cache', 'data/uploads'])
  })

  it('keeps the Dockerfile and .dockerignore even when the patterns exclude them, as Docker does', async () => {
    dir = await busyboxContext({
      '.dockerignore': '.dockerignore\nDockerfile\ndocker/\n',
      'docker/Dockerfile': 'FROM scratch\n',
      'docker/notes.md': 'not sent\n',
    })
    const context = await BuildContext.scan(dir, path.join(dir, 'docker/Dockerfile'))
    expect(context.files).toEqual(['.dockerignore', 'busybox', 'docker/Dockerfile'])
    expect(context.dockerfileInContext).toBe('docker/Dockerfile')
  })

  it('treats a Dockerfile reached through .. as outside the context', async () => {
    dir = await busyboxContext({'app/index.js': 'x\n', Dockerfile: 'FROM scratch\n'})
    const context = await BuildContext.scan(path.join(dir, 'app'), path.join(dir, 'app', '..', 'Dockerfile'))
    expect(context.dockerfileInContext).toBeUndefined()
    expect(context.files).toEqual(['index.js'])
  })

  it('lists symlinks without following them out of the context', async () => {
    dir = await busyboxContext({'app/index.js': 'x\n', 'outside/secret.txt': 'test-secret-value\n'})
    await symlink(path.join(dir, 'outside'), path.join(dir, 'app', 'linked-dir'))
    await symlink(path.join(dir, 'outside', 'secret.txt'), path.join(dir, 'app', 'linked-file'))
    const context = await BuildContext.scan(path.join(dir, 'app'))
    expect(context.files).toEqual(['index.js', 'linked-dir', 'linked-file'])
  })

  it('refuses a path that would leave the context', async () => {
    dir = await busyboxContext()
    const context = await BuildContext.scan(dir)
    expect(() => context.absolutePath('../etc/passwd')).toThrow(
      expect.objectContaining({exitCode: ExitCode.BadInput}),
    )
    expect(context.absolutePath('..busybox-notes')).toBe(path.join(context.dir, '..busybox-notes'))
  })

  it('walks into an excluded folder only for its exceptions', async () => {
    dir = await busyboxContext({'.dockerignore': 'vendor\n!vendor/keep.txt\n'})
    await mkdir(path.join(dir, 'vendor'))
    await writeFiles(dir, {'vendor/keep.txt': 'k\n', 'vendor/drop.txt': 'd\n'})
    await writeFile(path.join(dir, 'main.txt'), 'm\n')
    const context = await BuildContext.scan(dir)
    expect(context.files).toEqual(['.dockerignore', 'busybox', 'main.txt', 'vendor/keep.txt'])
  })

  it('reports a missing context folder as bad input', async () => {
    await expect(BuildContext.scan('/nonexistent/todo-app')).rejects.toMatchObject({
      exitCode: ExitCode.BadInput,
      message: expect.stringContaining('/nonexistent/todo-app'),
    })
  })
})
