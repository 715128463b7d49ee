import {chmod, mkdir, mkdtemp, readFile, utimes, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {BuildContext} from '../../src/lib/image/build-context.js'
import {CONTENT_HASH_CACHE_FILE, CONTENT_TAG_PATTERN, ContentTagger} from '../../src/lib/image/content-tag.js'
import {appContext, removeDir, writeFiles} from '../support/docker-fixtures.js'

const DOCKERFILE = 'FROM scratch\nCOPY . /app\n'

describe('ContentTagger', () => {
  const dirs: string[] = []
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map(removeDir))
  })

  async function setup(): Promise<{app: string; cacheDir: string}> {
    const app = await appContext()
    const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'todo-deploy-cache-'))
    dirs.push(app, cacheDir)
    return {app, cacheDir}
  }

  async function tagOf(
    app: string,
    options: {
      dockerfile?: string
      buildArgs?: Record<string, string>
      cacheDir?: string
      target?: string
    } = {},
  ) {
    const tagger = new ContentTagger({cacheDir: options.cacheDir})
    const context = await BuildContext.scan(app)
    return tagger.tag({
      context,
      dockerfileText: options.dockerfile ?? DOCKERFILE,
      buildArgs: options.buildArgs,
      ...(options.target === undefined ? {} : {target: options.target}),
    })
  }

  it('gives a tag that fits the image tag pattern and is stable for unchanged input', async () => {
    const {app} = await setup()
    const first = await tagOf(app)
    expect(first.tag).toMatch(CONTENT_TAG_PATTERN)
    expect(first.tag).toMatch(/^[a-z0-9.-]+$/)
    expect((await tagOf(app)).tag).toBe(first.tag)
  })

  it('keeps the tag when only ignored files change', async () => {
    const {app} = await setup()
    const before = await tagOf(app)
    await writeFiles(app, {
      'node_modules/left-pad/index.js': 'changed\n',
      'debug.log': 'more noise\n',
      'logs/new.txt': 'x',
    })
    expect((await tagOf(app)).tag).toBe(before.tag)
  })

  it('changes the tag when a sent file changes, is added, renamed or made executable', async () => {
    const {app} = await setup()
    const seen = new Set([(await tagOf(app)).tag])
    await writeFiles(app, {'src/index.js': 'console.log("v2")\n'})
    seen.add((await tagOf(app)).tag)
    await writeFiles(app, {'src/extra.js': '\n'})
    seen.add((await tagOf(app)).tag)
    await writeFiles(app, {'keep.log': 'changed exception file\n'})
    seen.add((await tagOf(app)).tag)
    await chmod(path.join(app, 'src/index.js'), 0o755)
    seen.add((await tagOf(app)).tag)
    expect(seen.size).toBe(5)
  })

  it('changes the tag when an empty folder that is sent appears (COPY . . would copy it)', async () => {
    const {app} = await setup()
    const before = await tagOf(app)
    await mkdir(path.join(app, 'uploads'))
    const withFolder = await tagOf(app)
    expect(withFolder.tag).not.toBe(before.tag)
    // node_modules is ignored: an empty folder there is not sent and does not count.
    await mkdir(path.join(app, 'node_modules', 'empty'), {recursive: true})
    expect((await tagOf(app)).tag).toBe(withFolder.tag)
  })

  it('reads a file bigger than its read buffer to the end: a change in its last MiB changes the tag', async () => {
    const {app} = await setup()
    const file = path.join(app, 'model.bin')
    const big = Buffer.alloc(2.5 * 1024 * 1024, 7)
    await writeFile(file, big)
    const before = await tagOf(app)
    big[big.length - 1] = 8
    await writeFile(file, big)
    const after = await tagOf(app)
    expect(after.tag).not.toBe(before.tag)
    // The same bytes again give the same tag: nothing of an earlier read stays in the hash.
    expect((await tagOf(app)).tag).toBe(after.tag)
  })
  it('changes the tag with the Dockerfile text and the build args, not with their order', async () => {
    const {app} = await setup()
    const base = await tagOf(app, {buildArgs: {A: '1', B: '2'}})
    expect((await tagOf(app, {buildArgs: {B: '2', A: '1'}})).tag).toBe(base.tag)
    expect((await tagOf(app, {buildArgs: {A: '1', B: '3'}})).tag).not.toBe(base.tag)
    expect((await tagOf(app, {buildArgs: {A: '1'}})).tag).not.toBe(base.tag)
    expect(
      (await tagOf(app, {buildArgs: {A: '1', B: '2'}, dockerfile: `${DOCKERFILE}USER 1000\n`})).tag,
    ).not.toBe(base.tag)
  })

  it('gives the dev stage its own tag, so `up` after `dev` deploys the last stage again', async () => {
    const {app} = await setup()
    const last = await tagOf(app)
    const dev = await tagOf(app, {target: 'dev'})
    expect(dev.tag).not.toBe(last.tag)
    expect((await tagOf(app, {target: 'dev'})).tag).toBe(dev.tag)
    // A tag without a target is what it was before targets existed: deployed releases keep theirs.
    expect(last.tag).toBe((await tagOf(app)).tag)
  })

  it('does not read unchanged files again on the next run (cache persisted in the cache folder)', async () => {
    const {app, cacheDir} = await setup()
    const first = await tagOf(app, {cacheDir})
    expect(first).toMatchObject({filesRead: 5, cacheHits: 0})
    expect(JSON.parse(await readFile(path.join(cacheDir, CONTENT_HASH_CACHE_FILE), 'utf8'))).toMatchObject({
      version: 1,
    })

    // A whole-second mtime, so it can be restored exactly below.
    const file = path.join(app, 'package.json')
    const mtime = new Date('2024-01-01T00:00:00Z')
    await utimes(file, mtime, mtime)
    await writeFiles(app, {'src/index.js': 'console.log("v2")\n'})
    const second = await tagOf(app, {cacheDir})
    expect(second).toMatchObject({filesRead: 2, cacheHits: 3})
    expect(second.tag).not.toBe(first.tag)

    // Same size and mtime: the cache is trusted, so this in-place edit is not even read.
    await writeFile(file, (await readFile(file, 'utf8')).replace('1.0.0', '9.9.9'))
    await utimes(file, mtime, mtime)
    const third = await tagOf(app, {cacheDir})
    expect(third).toMatchObject({filesRead: 0, cacheHits: 5, tag: second.tag})
  })

  it('ignores a corrupt cache file and rewrites it', async () => {
    const {app, cacheDir} = await setup()
    await writeFile(path.join(cacheDir, CONTENT_HASH_CACHE_FILE), '{not json')
    expect(await tagOf(app, {cacheDir})).toMatchObject({filesRead: 5})
    expect(await tagOf(app, {cacheDir})).toMatchObject({filesRead: 0})
  })

  it('tags a 20,000-file context quickly, and faster from the cache', async () => {
    const {app, cacheDir} = await setup()
    for (let folder = 0; folder < 100; folder++) {
      await mkdir(path.join(app, `src/m${folder}`))
      await Promise.all(
        Array.from({length: 200}, (_, index) =>
          writeFile(
            path.join(app, `src/m${folder}/f${index}.js`),
            `export const n = ${folder * 200 + index}\n`,
          ),
        ),
      )
    }

    let started = performance.now()
    const cold = await tagOf(app, {cacheDir})
    const coldMs = performance.now() - started
    started = performance.now()
    const warm = await tagOf(app, {cacheDir})
    const warmMs = performance.now() - started

    expect(cold.filesRead).toBe(20_005)
    expect(warm).toMatchObject({filesRead: 0, cacheHits: 20_005, tag: cold.tag})
    console.log(`20,005 files: cold ${Math.round(coldMs)} ms, warm ${Math.round(warmMs)} ms`)
    // Generous bounds: the machine is shared; the point is seconds, not minutes, and the cache pays.
    expect(coldMs).toBeLessThan(30_000)
    expect(warmMs).toBeLessThan(coldMs)
  }, 120_000)
})
