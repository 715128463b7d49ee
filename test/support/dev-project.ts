import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import type {ChangeSet} from '../../src/lib/dev/change-set.js'
import type {WatchTargets} from '../../src/lib/dev/source-watcher.js'

/** A project folder on disk laid out like a real one: two build contexts, a chart, the config and `.env`. */
export interface DevProject {
  dir: string
  targets: WatchTargets
  write(relative: string, content?: string): Promise<void>
  remove(): Promise<void>
}

export async function devProject(options: {frontendFiles?: number} = {}): Promise<DevProject> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'todo-deploy-dev-'))
  const write = async (relative: string, content = `${relative} ${Date.now()}\n`): Promise<void> => {
    await mkdir(path.dirname(path.join(dir, relative)), {recursive: true})
    await writeFile(path.join(dir, relative), content)
  }
  const files: Record<string, string> = {
    'todo-deploy.yaml': 'release: todo\n',
    '.env': 'OPENAI_API_KEY=test-secret-value\n',
    'values-local.yaml': 'replicas: 1\n',
    'docker/backend.Dockerfile': 'FROM scratch\n',
    'chart/Chart.yaml': 'name: todo\n',
    'chart/templates/deployment.yaml': 'kind: Deployment\n',
    'frontend/.dockerignore': 'dist\n*.log\n',
    'frontend/Dockerfile': 'FROM scratch\n',
    'frontend/package.json': '{}\n',
    'frontend/app/page.tsx': 'export default 1\n',
    'frontend/node_modules/left-pad/index.js': 'module.exports = 1\n',
    'frontend/.next/cache/x': 'cache\n',
    'frontend/.git/HEAD': 'ref: refs/heads/main\n',
    'frontend/dist/bundle.js': 'built\n',
    'backend/main.py': 'app = None\n',
  }
  for (let i = 0; i < (options.frontendFiles ?? 0); i++)
    files[`frontend/src/part${i % 20}/file${i}.ts`] = `${i}\n`
  for (const [relative, content] of Object.entries(files)) await write(relative, content)
  return {
    dir,
    targets: {
      services: [
        {
          service: 'frontend',
          contextDir: path.join(dir, 'frontend'),
          dockerfile: path.join(dir, 'frontend/Dockerfile'),
        },
        {
          service: 'backend',
          contextDir: path.join(dir, 'backend'),
          dockerfile: path.join(dir, 'docker/backend.Dockerfile'),
        },
      ],
      configFile: path.join(dir, 'todo-deploy.yaml'),
      chartDir: path.join(dir, 'chart'),
      valuesFiles: [path.join(dir, 'values-local.yaml')],
      envFile: path.join(dir, '.env'),
    },
    write,
    remove: () => rm(dir, {recursive: true, force: true}),
  }
}

/** Change sets as they arrive, and an event-driven wait for the next one (never a fixed sleep). */
export class ChangeRecorder {
  readonly received: ChangeSet[] = []
  #waiters: {count: number; resolve: () => void}[] = []

  readonly onChange = (changes: ChangeSet): void => {
    this.received.push(changes)
    this.#waiters = this.#waiters.filter((waiter) => {
      if (this.received.length < waiter.count) return true
      waiter.resolve()
      return false
    })
  }

  /** Resolves with the `count`-th change set (1-based) once it has arrived. */
  async nth(count: number, timeoutMs = 30_000): Promise<ChangeSet> {
    if (this.received.length < count) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`change set ${count} did not arrive within ${timeoutMs} ms`)),
          timeoutMs,
        )
        this.#waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer)
            resolve()
          },
        })
      })
    }
    return this.received[count - 1] as ChangeSet
  }
}
