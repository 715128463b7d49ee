import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {onTestFinished} from 'vitest'

/** A project folder holding `files` (relative path → content), removed when the current test ends. */
export function tempProject(files: Record<string, string | Buffer> = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-test-'))
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(dir, relative)
    mkdirSync(path.dirname(file), {recursive: true})
    writeFileSync(file, content)
  }
  onTestFinished(() => rmSync(dir, {recursive: true, force: true}))
  return dir
}

/** The build context folders the built-in defaults name (`frontend/`, `backend/`), for checks that look for them. */
export const DEFAULT_CONTEXT_FOLDERS: Record<string, string> = {'frontend/.keep': '', 'backend/.keep': ''}
