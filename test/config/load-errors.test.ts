import {mkdirSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, test} from 'vitest'

import {BadInputError} from '../../src/lib/errors.js'
import {loadConfig, type LoadOptions} from '../../src/lib/config/load.js'
import {projectRoot} from '../support/run-command.js'
import {tempProject} from './temp-project.js'

const FIXTURES = path.join('test', 'fixtures', 'config')

function loadError(options: LoadOptions): BadInputError {
  try {
    loadConfig(options)
  } catch (error) {
    expect(error).toBeInstanceOf(BadInputError)
    return error as BadInputError
  }
  throw new Error('the configuration loaded, but an error was expected')
}

const fixture = (name: string): LoadOptions => ({configPath: path.join(FIXTURES, name), cwd: projectRoot})

describe('loadConfig refuses a bad configuration with exit 2, naming file:line:col and the key', () => {
  test('a misspelled key points at the key and suggests the right one', () => {
    const error = loadError(fixture('misspelled-key.yaml'))
    expect(error.exitCode).toBe(2)
    expect(error.details).toEqual([
      `${FIXTURES}/misspelled-key.yaml:2:1  namspace: unknown key (did you mean "namespace"?)`,
    ])
  })

  test('a string where a number belongs points at the value and says what was found', () => {
    const dir = tempProject({'todo-deploy.yaml': 'services:\n  backend:\n    port: "8080"\n'})
    const error = loadError({cwd: dir})
    expect(error.details).toEqual([
      'todo-deploy.yaml:3:11  services.backend.port: expected number, got string "8080"',
    ])
  })

  test('every problem of one file is reported at once, each with its own line', () => {
    const error = loadError(fixture('several-problems.yaml'))
    const file = `${FIXTURES}/several-problems.yaml`
    expect(error.message).toBe(`${file}: 4 problems in the configuration`)
    expect([...error.details].sort()).toEqual(
      [
        `${file}:5:15  services.frontend.replicas: expected number, got string "two"`,
        `${file}:7:13  services.frontend.service.type: must be one of "NodePort", "ClusterIP", "LoadBalancer"`,
        `${file}:9:5  services.backend.prot: unknown key (did you mean "port"?)`,
        `${file}:12:24  services.backend.probes.readiness.periodSeconds: must be at least 1, got number 0`,
      ].sort(),
    )
  })

  test('broken YAML is reported at the line where it breaks', () => {
    const error = loadError(fixture('broken-yaml.yaml'))
    expect(error.exitCode).toBe(2)
    expect(error.details.length).toBeGreaterThan(0)
    // The unclosed `[` opens on line 4; the parser notices it there or on the next line, never at 1:1.
    for (const detail of error.details)
      expect(detail).toMatch(new RegExp(`^${FIXTURES}/broken-yaml\\.yaml:[45]:\\d+  \\S`))
  })

  test('a key given twice names the key and the line of the second one', () => {
    const error = loadError(fixture('duplicate-key.yaml'))
    expect(error.details).toEqual([
      `${FIXTURES}/duplicate-key.yaml:3:1  "release" is given twice; keep one (Map keys must be unique)`,
    ])
  })

  test('non-UTF-8 bytes are located by line and column', () => {
    const error = loadError(fixture('non-utf8.yaml'))
    expect(error.message).toBe('config file is not valid UTF-8')
    // "namespace: caf" is 14 characters: the bad byte is the 15th on line 2.
    expect(error.where).toBe(`${FIXTURES}/non-utf8.yaml:2:15`)
    expect(error.fix).toMatch(/UTF-8/)
  })

  test('a path escaping the project folder is refused at its key', () => {
    const error = loadError(fixture('path-escape.yaml'))
    expect(error.details).toEqual([
      `${FIXTURES}/path-escape.yaml:4:16  services.backend.build.context: "../../etc" is outside the project folder ${path.join(projectRoot, FIXTURES)}; use a path inside it`,
    ])
  })

  test('--config naming a missing file says so and how to go on', () => {
    const dir = tempProject()
    const error = loadError({configPath: 'nope.yaml', cwd: dir})
    expect(error.message).toBe(`config file ${path.join(dir, 'nope.yaml')} does not exist`)
    expect(error.where).toBe('--config')
    expect(error.fix).toMatch(/leave out --config/)
  })

  test('--config naming a directory points at the file it probably meant', () => {
    const dir = tempProject()
    mkdirSync(path.join(dir, 'conf'))
    const error = loadError({configPath: 'conf', cwd: dir})
    expect(error.message).toBe(`config path ${path.join(dir, 'conf')} is a directory, not a file`)
    expect(error.fix).toContain(path.join(dir, 'conf', 'todo-deploy.yaml'))
  })

  test('a bad flag value names the flag, not a file', () => {
    const error = loadError({cwd: tempProject(), overrides: {namespace: 'Bad_NS'}})
    expect(error.message).toBe('1 problem in the configuration')
    expect(error.details).toEqual([
      '--namespace  namespace: must be lowercase letters, digits and "-", starting and ending with a letter or digit',
    ])
  })
})

describe('flags override the file, the file overrides the defaults', () => {
  test('--namespace, --release and --context win over todo-deploy.yaml', () => {
    const dir = tempProject({
      'todo-deploy.yaml': 'release: from-file\nnamespace: from-file\ncluster:\n  context: from-file\n',
    })
    const {config, locate} = loadConfig({
      cwd: dir,
      overrides: {namespace: 'from-flag', release: 'flag-release', context: 'kind-dev'},
    })
    expect([config.namespace, config.release, config.cluster.context]).toEqual([
      'from-flag',
      'flag-release',
      'kind-dev',
    ])
    expect(locate(['namespace'])).toBe('--namespace')
  })

  test('without flags the file values are used and located', () => {
    const dir = tempProject({'todo-deploy.yaml': 'release: from-file\nnamespace: from-file\n'})
    const {config, locate} = loadConfig({cwd: dir})
    expect([config.namespace, config.release]).toEqual(['from-file', 'from-file'])
    expect(locate(['namespace'])).toBe('todo-deploy.yaml:2:12')
  })
})
