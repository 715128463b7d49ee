import {mkdirSync, symlinkSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, test} from 'vitest'

import {loadConfig} from '../../src/lib/config/load.js'
import {BadInputError} from '../../src/lib/errors.js'
import {tempProject} from './temp-project.js'

function loadError(cwd: string): BadInputError {
  try {
    loadConfig({cwd})
  } catch (error) {
    expect(error).toBeInstanceOf(BadInputError)
    return error as BadInputError
  }
  throw new Error('the configuration loaded, but an error was expected')
}

describe('services.<name>.sync', () => {
  test('with no config, the bundled Dockerfiles sync the FastAPI context to /app and the Next.js source folders to theirs', () => {
    const resolved = loadConfig({cwd: tempProject()})
    expect(resolved.services.backend.sync).toEqual([{from: '', to: '/app'}])
    expect(resolved.services.frontend.sync).toEqual(
      expect.arrayContaining([
        {from: 'app', to: '/app/app'},
        {from: 'pages', to: '/app/pages'},
        {from: 'components', to: '/app/components'},
        {from: 'public', to: '/app/public'},
      ]),
    )
  })

  test('a Dockerfile of your own has no rules until you write them; written rules are normalized', () => {
    const dir = tempProject({
      'todo-deploy.yaml': [
        'services:',
        '  frontend:',
        '    build: {dockerfile: frontend/Dockerfile}',
        '  backend:',
        '    build: {dockerfile: backend/Dockerfile}',
        '    sync:',
        '      - {from: ./www/, to: /srv/www/}',
        '      - {from: ., to: /app}',
      ].join('\n'),
    })
    const resolved = loadConfig({cwd: dir})
    expect(resolved.services.frontend.sync).toEqual([])
    expect(resolved.services.backend.sync).toEqual([
      {from: 'www', to: '/srv/www'},
      {from: '', to: '/app'},
    ])
  })

  test('an empty list turns sync off for a bundled Dockerfile', () => {
    const dir = tempProject({'todo-deploy.yaml': 'services:\n  frontend:\n    sync: []\n'})
    expect(loadConfig({cwd: dir}).services.frontend.sync).toEqual([])
  })

  test('a relative `to`, a `to` with "..", and a missing key are each named at their line:col (exit 2)', () => {
    const dir = tempProject({
      'todo-deploy.yaml': [
        'services:',
        '  frontend:',
        '    sync:',
        '      - from: app',
        '        to: app',
        '      - from: public',
        '        to: /app/../etc',
        '      - to: /app/lib',
      ].join('\n'),
    })
    const error = loadError(dir)
    expect(error.exitCode).toBe(2)
    expect([...error.details].sort()).toEqual(
      [
        'todo-deploy.yaml:5:13  services.frontend.sync.0.to: must be an absolute path in the container, such as /app',
        'todo-deploy.yaml:7:13  services.frontend.sync.1.to: must not contain ".." (name the folder itself)',
        'todo-deploy.yaml:8:9  services.frontend.sync.2.from: expected string',
      ].sort(),
    )
  })

  test('a `from` outside the build context is refused at its line:col, naming the context', () => {
    const dir = tempProject({
      'todo-deploy.yaml': 'services:\n  backend:\n    sync:\n      - {from: ../shared, to: /app/shared}\n',
    })
    const error = loadError(dir)
    expect(error.details).toEqual([
      'todo-deploy.yaml:4:16  services.backend.sync.0.from: "../shared" is outside the build context backend; sync.from names a folder or file inside it (relative to it)',
    ])
  })

  test('a `from` that leads out of the context through a symlink is refused, naming where it leads', () => {
    const dir = tempProject({
      'todo-deploy.yaml': 'services:\n  backend:\n    sync:\n      - {from: outside, to: /app/outside}\n',
      'backend/main.py': '',
    })
    const elsewhere = path.join(dir, 'elsewhere')
    mkdirSync(elsewhere)
    symlinkSync('../elsewhere', path.join(dir, 'backend', 'outside'))
    const error = loadError(dir)
    expect(error.details).toHaveLength(1)
    expect(error.details[0]).toMatch(
      /^todo-deploy\.yaml:4:16 {2}services\.backend\.sync\.0\.from: "outside" leads out of the build context backend through a symlink \(to .*elsewhere\)/,
    )
  })
})
