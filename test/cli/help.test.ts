import {Config, loadHelpClass} from '@oclif/core'
import {captureOutput} from '@oclif/test'
import {execa} from 'execa'
import {beforeAll, describe, expect, test} from 'vitest'

import {projectRoot} from '../support/run-command.js'

let config: Config

beforeAll(async () => {
  config = await Config.load(projectRoot)
})

/** What `todo-deploy <argv> --help` prints, through the CLI's own help class (src/cli/help.ts). */
async function helpFor(argv: string[]): Promise<string> {
  const Help = await loadHelpClass(config)
  const output = await captureOutput(() => new Help(config, {stripAnsi: true}).showHelp(argv), {
    stripAnsi: true,
  })
  return output.stdout
}

const EXIT_CODE_ROWS = [
  /^ {2}0 +success$/m,
  /^ {2}2 +bad input/m,
  /^ {2}3 +a prerequisite is missing/m,
  /^ {2}130 +interrupted/m,
]

describe('help', () => {
  test('root help lists doctor and an EXIT CODES section', async () => {
    const help = await helpFor([])
    expect(help).toMatch(
      /^COMMANDS\n(.*\n)*? {2}doctor +Check the machine, the cluster and the configuration before a\s+deploy\./m,
    )
    expect(help).toContain('\nEXIT CODES\n')
    for (const row of EXIT_CODE_ROWS) expect(help).toMatch(row)
  })

  test('doctor --help shows the description, every global flag, the examples and the exit codes', async () => {
    const help = await helpFor(['doctor'])
    expect(help).toContain('\nDESCRIPTION\n')
    expect(help).toContain('Runs every preflight check')
    for (const flag of [
      '--json',
      '-c, --config=<value>',
      '-n, --namespace=<value>',
      '--release=<value>',
      '--context=<value>',
      '-v, --verbose',
    ]) {
      expect(help).toContain(flag)
    }
    expect(help).toContain('\nEXAMPLES\n')
    expect(help).toContain('$ todo-deploy doctor --config examples/spec-b/todo-deploy.yaml')
    expect(help).toContain('$ todo-deploy doctor --json')
    for (const row of EXIT_CODE_ROWS) expect(help).toMatch(row)
  })

  test('the real binary (bin/dev.js) prints the same root help and exits 0', async () => {
    const run = await execa('node', ['bin/dev.js', '--help'], {
      cwd: projectRoot,
      reject: false,
      env: {NO_COLOR: '1'},
      timeout: 60_000,
    })
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(/^ {2}doctor +Check the machine/m)
    expect(run.stdout).toContain('\nEXIT CODES\n')
  })
})

describe('help of the inner loop', () => {
  test('dev --help explains the loop, every flag and the keys, with examples', async () => {
    const help = await helpFor(['dev'])
    expect(help).toContain('\nDESCRIPTION\n')
    for (const flag of [
      '--debounce=MS',
      '--[no-]logs',
      '--port-forward',
      '--cleanup',
      '--[no-]rollback',
      '--timeout',
    ])
      expect(help).toContain(flag)
    expect(help).toMatch(/r rebuilds now,\s+s prints the status, q quits/)
    expect(help).toContain('\nEXAMPLES\n')
    expect(help).toContain('$ todo-deploy dev --no-logs --debounce 1000')
    expect(help).toContain('$ todo-deploy dev --json')
    for (const row of EXIT_CODE_ROWS) expect(help).toMatch(row)
  })

  test('logs --help shows every flag, why a pod has no logs, and examples', async () => {
    const help = await helpFor(['logs'])
    for (const flag of [
      '-f, --follow',
      '--since=DURATION',
      '--tail=N',
      '-p, --previous',
      '--timestamps',
      '--json',
    ])
      expect(help).toContain(flag)
    expect(help).toContain('ContainerCreating')
    expect(help).toContain('\nEXAMPLES\n')
    expect(help).toContain('$ todo-deploy logs backend -f')
    expect(help).toContain('$ todo-deploy logs --json --tail 200')
    for (const row of EXIT_CODE_ROWS) expect(help).toMatch(row)
  })
})
