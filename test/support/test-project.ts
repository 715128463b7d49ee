import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {loadConfig, type ResolvedConfig} from '../../src/lib/config/load.js'

/** A tiny Dockerfile that the real engine can build offline (busybox is copied into the context). */
export const BUSYBOX_DOCKERFILE =
  'FROM scratch\nCOPY busybox /bin/busybox\nCOPY app /app\nCMD ["/bin/busybox", "httpd", "-f", "-h", "/app"]\n'

export interface TestProject {
  dir: string
  resolved: ResolvedConfig
  /** Writes a file of a service's build context (a source change), then reloads the configuration. */
  write(relative: string, content: string | Buffer): void
  remove(): void
}

/**
 * A project folder with `frontend/` and `backend/` build contexts (their own Dockerfile each, so the
 * content tags depend on files a test can change) and a todo-deploy.yaml pointing at them.
 */
export interface TestProjectOptions {
  /** Top-level keys appended to todo-deploy.yaml. */
  extraConfig?: string
  /** Lines under `services.frontend` after its `build:` line (line 4 onwards), e.g. `service: {nodePort: null}`. */
  frontend?: string[]
  files?: Record<string, string | Buffer>
}

export function createTestProject(options: TestProjectOptions = {}): TestProject {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-up-'))
  const files: Record<string, string | Buffer> = {
    'todo-deploy.yaml': [
      'services:',
      '  frontend:',
      '    build: {context: frontend, dockerfile: frontend/Dockerfile}',
      ...(options.frontend ?? []).map((line) => `    ${line}`),
      '  backend:',
      '    build: {context: backend, dockerfile: backend/Dockerfile}',
      options.extraConfig ?? '',
    ].join('\n'),
    'frontend/Dockerfile': BUSYBOX_DOCKERFILE,
    'frontend/app/index.html': '<h1>todo</h1>\n',
    'backend/Dockerfile': BUSYBOX_DOCKERFILE,
    'backend/app/health': 'ok\n',
    ...options.files,
  }
  const write = (relative: string, content: string | Buffer): void => {
    const file = path.join(dir, relative)
    mkdirSync(path.dirname(file), {recursive: true})
    writeFileSync(file, content)
  }
  for (const [relative, content] of Object.entries(files)) write(relative, content)
  const project: TestProject = {
    dir,
    resolved: loadConfig({cwd: dir}),
    write: (relative, content) => {
      write(relative, content)
      project.resolved = loadConfig({cwd: dir})
    },
    remove: () => rmSync(dir, {recursive: true, force: true}),
  }
  return project
}
