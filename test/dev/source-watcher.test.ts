import {mkdtemp, rename, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {BUNDLED_DOCKERFILES, loadConfig} from '../../src/lib/config/load.js'
import {SourceWatcher, watchTargetsOf} from '../../src/lib/dev/source-watcher.js'
import {ChangeRecorder, type DevProject, devProject} from '../support/dev-project.js'

// Bursts are written with a wider quiet window than the default 300 ms, so a machine stalled by other
// work between two writes cannot split one burst in two.
const DEBOUNCE_MS = 1000

describe('SourceWatcher', () => {
  let project: DevProject | undefined
  let watcher: SourceWatcher | undefined
  afterEach(async () => {
    watcher?.close()
    watcher = undefined
    await project?.remove()
    project = undefined
  })

  async function start(recorder: ChangeRecorder, frontendFiles = 0): Promise<DevProject> {
    project = await devProject({frontendFiles})
    watcher = await SourceWatcher.start(project.targets, {
      debounceMs: DEBOUNCE_MS,
      onChange: recorder.onChange,
    })
    return project
  }

  it('turns a burst of 500 writes (edits, new files, a new folder) into exactly one change set', async () => {
    const recorder = new ChangeRecorder()
    const {write} = await start(recorder, 250)
    const burst: Promise<void>[] = []
    for (let i = 0; i < 250; i++) burst.push(write(`frontend/src/part${i % 20}/file${i}.ts`, `edited ${i}\n`))
    for (let i = 0; i < 250; i++) burst.push(write(`frontend/src/checked-out/new${i}.ts`, `new ${i}\n`))
    await Promise.all(burst)

    const first = await recorder.nth(1)
    expect(first.services).toEqual([expect.objectContaining({service: 'frontend', files: 500})])
    expect(first.services[0]?.paths).toContain('src/checked-out/new249.ts')
    // Nothing of the burst is left over: the next change set holds only the next edit.
    await write('frontend/app/page.tsx', 'export default 2\n')
    const second = await recorder.nth(2)
    expect(second.services).toEqual([{service: 'frontend', files: 1, paths: ['app/page.tsx']}])
    expect(recorder.received).toHaveLength(2)
  })

  it('ignores node_modules, .next, .git and what .dockerignore excludes', async () => {
    const recorder = new ChangeRecorder()
    const {write} = await start(recorder)
    await write('frontend/node_modules/x', 'x\n')
    await write('frontend/node_modules/left-pad/index.js', 'changed\n')
    await write('frontend/.next/y', 'y\n')
    await write('frontend/.git/z', 'z\n')
    await write('frontend/.git/HEAD', 'ref: refs/heads/other\n')
    await write('frontend/dist/bundle.js', 'rebuilt\n')
    await write('frontend/debug.log', 'log\n')
    await write('backend/node_modules/x', 'x\n')
    // Events arrive in order: had any of the above counted, it would be in the first change set.
    await write('backend/main.py', 'app = 1\n')

    const first = await recorder.nth(1)
    expect(first).toEqual({
      services: [{service: 'backend', files: 1, paths: ['main.py']}],
      config: false,
      chart: false,
      env: false,
      manual: false,
    })
  })

  it('reports config, chart, values and .env changes as such, and an outside Dockerfile as its service', async () => {
    const recorder = new ChangeRecorder()
    const {write, dir} = await start(recorder)
    await write('todo-deploy.yaml', 'release: other\n')
    expect(await recorder.nth(1)).toMatchObject({services: [], config: true, chart: false, env: false})

    await write('chart/templates/service.yaml', 'kind: Service\n')
    expect(await recorder.nth(2)).toMatchObject({services: [], config: false, chart: true, env: false})

    await write('values-local.yaml', 'replicas: 2\n')
    expect(await recorder.nth(3)).toMatchObject({services: [], config: false, chart: true, env: false})

    // An editor's atomic save: write a temp file, rename it over .env.
    await writeFile(path.join(dir, '.env.tmp'), 'OPENAI_API_KEY=test-secret-value\nX=1\n')
    await rename(path.join(dir, '.env.tmp'), path.join(dir, '.env'))
    expect(await recorder.nth(4)).toMatchObject({services: [], config: false, chart: false, env: true})

    await write('docker/backend.Dockerfile', 'FROM scratch\nCOPY . .\n')
    expect(await recorder.nth(5)).toMatchObject({
      services: [{service: 'backend', files: 1, paths: ['../docker/backend.Dockerfile']}],
      config: false,
    })
  })

  it('follows folders that appear and go, and a new .dockerignore', async () => {
    const recorder = new ChangeRecorder()
    const {write, dir} = await start(recorder)
    await write('frontend/components/button/index.tsx', 'b\n')
    expect((await recorder.nth(1)).services[0]?.paths).toEqual(['components/button/index.tsx'])

    // The new folder is watched: an edit inside it counts.
    await write('frontend/components/button/index.tsx', 'b2\n')
    expect((await recorder.nth(2)).services[0]?.paths).toEqual(['components/button/index.tsx'])

    await rm(path.join(dir, 'frontend/components'), {recursive: true})
    const removed = (await recorder.nth(3)).services[0]?.paths ?? []
    expect(removed).toContain('components')
    // Each path names something that was there: a removed folder reporting itself is not a file inside it.
    for (const removedPath of removed)
      expect(['components', 'components/button', 'components/button/index.tsx']).toContain(removedPath)

    // `app/` now excluded: the .dockerignore edit counts, later edits under app/ do not.
    await write('frontend/.dockerignore', 'dist\n*.log\napp\n')
    expect((await recorder.nth(4)).services[0]?.paths).toEqual(['.dockerignore'])
    await write('frontend/app/page.tsx', 'export default 3\n')
    await write('frontend/package.json', '{"name": "x"}\n')
    expect((await recorder.nth(5)).services[0]?.paths).toEqual(['package.json'])
  })

  it('watches one OS watch per folder it enters, not one per file', async () => {
    const recorder = new ChangeRecorder()
    await start(recorder, 2000)
    // frontend: root, app, src, 20 src/part*; backend: root; chart: root, templates; 2 single-file folders.
    expect(watcher?.folderCount).toBe(28)
  })
})

describe('watchTargetsOf', () => {
  let dir: string | undefined
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, {recursive: true, force: true})
  })

  it('watches the enabled services only, with the paths the build and deploy use', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'todo-deploy-dev-config-'))
    await writeFile(
      path.join(dir, 'todo-deploy.yaml'),
      'services:\n  backend:\n    enabled: false\nchart:\n  extraValuesFiles: [values-local.yaml]\n',
    )
    const resolved = loadConfig({cwd: dir})
    expect(watchTargetsOf(resolved)).toEqual({
      services: [
        {
          service: 'frontend',
          contextDir: path.join(dir, 'frontend'),
          dockerfile: BUNDLED_DOCKERFILES.frontend,
        },
      ],
      configFile: path.join(dir, 'todo-deploy.yaml'),
      chartDir: resolved.chartDir,
      valuesFiles: [...resolved.valuesFiles],
      envFile: path.join(dir, '.env'),
    })
    expect(resolved.valuesFiles).toContain(path.join(dir, 'values-local.yaml'))
  })
})
