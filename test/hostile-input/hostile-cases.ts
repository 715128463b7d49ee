import {readFileSync} from 'node:fs'
import path from 'node:path'

import {projectRoot} from '../support/run-command.js'

export type CommandName = 'up' | 'status' | 'rollback' | 'down' | 'doctor' | 'dev' | 'logs'

/** Marks a path in `files` that must be a directory rather than a file. */
export const DIRECTORY = Symbol('directory')

export interface HostileCase {
  name: string
  command: CommandName
  /** Project files: relative path → content (text or raw bytes), or DIRECTORY. */
  files?: Record<string, string | Buffer | typeof DIRECTORY>
  argv: string[]
  /** Environment changes for this case only (undefined removes a variable). */
  env?: Record<string, string | undefined>
  expect: {exitCode: 2; message: RegExp; where: RegExp}
}

const fixture = (name: string): Buffer =>
  readFileSync(path.join(projectRoot, 'test', 'fixtures', 'hostile', name))

export const ONE_MEGABYTE = 'a'.repeat(1024 * 1024)
const TRILLION = '1000000000000'

const bad = (message: RegExp, where: RegExp): HostileCase['expect'] => ({exitCode: 2, message, where})
const config = (yaml: string | Buffer): HostileCase['files'] => ({'todo-deploy.yaml': yaml})
/** A minimal chart folder, so that chart.path cases differ only in the one thing they break. */
const CHART = {
  'chart/Chart.yaml': 'apiVersion: v2\nname: todo-chatbot-chart\nversion: 1.0.0\n',
  'chart/values-dev.yaml': '{}\n',
}

/** A YAML file whose `services.<service>.<rest>` is `value` (indented under the service). */
const serviceYaml = (service: string, body: string): string =>
  `services:\n  ${service}:\n${body
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n')}\n`

export const HOSTILE_CASES: HostileCase[] = [
  // ── the config file as a whole ──────────────────────────────────────────────────────────────────
  {
    name: 'config is a list',
    command: 'status',
    files: config('- release: todo\n- namespace: dev\n'),
    argv: [],
    expect: bad(/must be a mapping/, /todo-deploy\.yaml:1:1/),
  },
  {
    name: 'config is a scalar',
    command: 'doctor',
    files: config('just some words\n'),
    argv: [],
    expect: bad(/must be a mapping/, /todo-deploy\.yaml:1:1/),
  },
  {
    name: 'config is empty',
    command: 'up',
    files: config(''),
    argv: [],
    expect: bad(/todo-deploy\.yaml is empty/, /todo-deploy\.yaml:1:1/),
  },
  {
    name: 'config holds only comments',
    command: 'status',
    files: config('# release: todo\n\n'),
    argv: [],
    expect: bad(/todo-deploy\.yaml is empty/, /todo-deploy\.yaml:1:1/),
  },
  {
    name: 'todo-deploy.yaml is a directory',
    command: 'status',
    files: {'todo-deploy.yaml': DIRECTORY},
    argv: [],
    expect: bad(/is a directory, not a file/, /todo-deploy\.yaml\b/),
  },
  {
    name: '--config names a directory',
    command: 'doctor',
    files: {'conf/': DIRECTORY},
    argv: ['--config', 'conf'],
    expect: bad(/is a directory, not a file/, /--config/),
  },
  {
    name: '--config names a missing file',
    command: 'down',
    argv: ['--yes', '--config', 'nope.yaml'],
    expect: bad(/config file .*nope\.yaml does not exist/, /--config/),
  },
  {
    name: '--config is empty',
    command: 'status',
    argv: ['--config', ''],
    expect: bad(/--config is empty/, /--config/),
  },
  {
    name: '--config is 1 MB long',
    command: 'status',
    argv: ['--config', ONE_MEGABYTE],
    expect: bad(/config file \/\S+… \(\d+ characters\) has a name too long to exist/, /--config/),
  },
  {
    name: 'TODO_DEPLOY_CONFIG names a missing file',
    command: 'status',
    env: {TODO_DEPLOY_CONFIG: 'elsewhere.yaml'},
    argv: [],
    expect: bad(/elsewhere\.yaml does not exist/, /--config/),
  },
  {
    name: 'config has non-UTF-8 bytes',
    command: 'up',
    files: config(fixture('latin1.yaml')),
    argv: [],
    expect: bad(/not valid UTF-8/, /todo-deploy\.yaml:2:15/),
  },
  {
    name: 'config is a YAML bomb (billion laughs)',
    command: 'up',
    files: config(fixture('billion-laughs.yaml')),
    argv: [],
    expect: bad(/aliases .*expand/, /todo-deploy\.yaml:3:\d+/),
  },
  {
    name: 'config YAML does not parse',
    command: 'rollback',
    files: config('release: todo\nservices: [frontend\nnamespace: dev\n'),
    argv: [],
    expect: bad(/problem/, /todo-deploy\.yaml:[23]:\d+/),
  },
  {
    name: 'config has a tab indentation',
    command: 'status',
    files: config('services:\n\tfrontend:\n\t\treplicas: 2\n'),
    argv: [],
    expect: bad(/problem/, /todo-deploy\.yaml:2:\d+/),
  },
  {
    name: 'duplicate top-level key',
    command: 'status',
    files: config('release: one\nnamespace: dev\nrelease: two\n'),
    argv: [],
    expect: bad(/"release" is given twice/, /todo-deploy\.yaml:3:1/),
  },
  {
    name: 'duplicate nested key',
    command: 'up',
    files: config(serviceYaml('frontend', 'replicas: 2\nreplicas: 3')),
    argv: [],
    expect: bad(/"replicas" is given twice/, /todo-deploy\.yaml:4:5/),
  },

  // ── keys and values ─────────────────────────────────────────────────────────────────────────────
  {
    name: 'unknown top-level key',
    command: 'status',
    files: config('relase: todo\n'),
    argv: [],
    expect: bad(/relase: unknown key \(did you mean "release"\?\)/, /todo-deploy\.yaml:1:1/),
  },
  {
    name: 'unknown nested key',
    command: 'up',
    files: config(serviceYaml('backend', 'replica: 2')),
    argv: [],
    expect: bad(
      /services\.backend\.replica: unknown key \(did you mean "replicas"\?\)/,
      /todo-deploy\.yaml:3:5/,
    ),
  },
  {
    name: 'unknown service',
    command: 'doctor',
    files: config(serviceYaml('database', 'replicas: 1')),
    argv: [],
    expect: bad(/services\.database: unknown key/, /todo-deploy\.yaml:2:3/),
  },
  {
    name: 'string where a number belongs',
    command: 'up',
    files: config(serviceYaml('frontend', 'replicas: two')),
    argv: [],
    expect: bad(/services\.frontend\.replicas: expected number, got string "two"/, /todo-deploy\.yaml:3:15/),
  },
  {
    name: 'list where a mapping belongs',
    command: 'status',
    files: config('services:\n  - frontend\n  - backend\n'),
    argv: [],
    expect: bad(/services: expected object, got a list/, /todo-deploy\.yaml:1:1/),
  },
  {
    name: 'mapping where a string belongs',
    command: 'status',
    files: config('release:\n  name: todo\n'),
    argv: [],
    expect: bad(/release: expected string, got a mapping/, /todo-deploy\.yaml:1:1/),
  },
  {
    name: 'float where an int belongs',
    command: 'up',
    files: config(serviceYaml('backend', 'replicas: 1.5')),
    argv: [],
    expect: bad(/services\.backend\.replicas: must be a whole number/, /todo-deploy\.yaml:3:15/),
  },
  {
    name: 'negative replicas',
    command: 'up',
    files: config(serviceYaml('backend', 'replicas: -1')),
    argv: [],
    expect: bad(/services\.backend\.replicas: must be at least 0, got number -1/, /todo-deploy\.yaml:3:15/),
  },
  {
    name: '10^12 replicas',
    command: 'up',
    files: config(serviceYaml('frontend', `replicas: ${TRILLION}`)),
    argv: [],
    expect: bad(/services\.frontend\.replicas: must be at most 100/, /todo-deploy\.yaml:3:15/),
  },
  {
    name: '10^12 history',
    command: 'rollback',
    files: config(`chart:\n  historyMax: ${TRILLION}\n`),
    argv: [],
    expect: bad(/chart\.historyMax: must be at most 1000/, /todo-deploy\.yaml:2:15/),
  },
  {
    name: 'port above 65535',
    command: 'status',
    files: config(serviceYaml('backend', 'port: 70000')),
    argv: [],
    expect: bad(/services\.backend\.port: must be at most 65535/, /todo-deploy\.yaml:3:11/),
  },
  {
    name: 'nodePort outside its range',
    command: 'up',
    files: config(serviceYaml('frontend', 'service:\n  nodePort: 80')),
    argv: [],
    expect: bad(
      /services\.frontend\.service\.nodePort: must be in the NodePort range 30000-32767/,
      /todo-deploy\.yaml:4:17/,
    ),
  },
  {
    name: 'negative probe timing',
    command: 'up',
    files: config(serviceYaml('backend', 'probes:\n  liveness:\n    initialDelaySeconds: -5')),
    argv: [],
    expect: bad(
      /services\.backend\.probes\.liveness\.initialDelaySeconds: must be at least 0/,
      /todo-deploy\.yaml:5:30/,
    ),
  },
  {
    name: 'unknown cluster kind',
    command: 'status',
    files: config('cluster:\n  kind: minishift\n'),
    argv: [],
    expect: bad(/cluster\.kind: must be one of "auto", "minikube"/, /todo-deploy\.yaml:2:9/),
  },
  {
    // The password is the sentinel the table checks for: it must appear in no output.
    name: 'registry.url holds credentials',
    command: 'up',
    files: config('registry:\n  url: "ci:test-secret-value@registry.example.com/team"\n'),
    argv: [],
    expect: bad(/registry\.url: must not hold credentials/, /todo-deploy\.yaml:2:8/),
  },
  {
    name: 'registry.url is a 1 MB host name',
    command: 'doctor',
    files: config(`registry:\n  url: ${ONE_MEGABYTE}.example.com\n`),
    argv: [],
    expect: bad(/registry\.url: must be at most 255 characters/, /todo-deploy\.yaml:2:8/),
  },
  {
    name: 'registry.insecure for a registry on another machine',
    command: 'up',
    files: config('registry:\n  url: registry.example.com/team\n  insecure: true\n'),
    argv: [],
    expect: bad(
      /registry\.insecure: plain HTTP is allowed only for a registry on this machine/,
      /todo-deploy\.yaml:3:13/,
    ),
  },
  {
    name: 'cluster.kind remote without a registry',
    command: 'rollback',
    files: config('cluster:\n  kind: remote\n'),
    argv: [],
    expect: bad(/cluster\.kind: remote needs registry\.url/, /todo-deploy\.yaml:2:9/),
  },
  {
    name: 'unknown service type',
    command: 'up',
    files: config(serviceYaml('frontend', 'service:\n  type: ExternalName')),
    argv: [],
    expect: bad(
      /services\.frontend\.service\.type: must be one of "NodePort", "ClusterIP", "LoadBalancer"/,
      /todo-deploy\.yaml:4:13/,
    ),
  },
  {
    name: 'unknown pull policy',
    command: 'up',
    files: config(serviceYaml('backend', 'image:\n  pullPolicy: Sometimes')),
    argv: [],
    expect: bad(/services\.backend\.image\.pullPolicy: must be one of "Never"/, /todo-deploy\.yaml:4:19/),
  },
  {
    name: 'empty release',
    command: 'up',
    files: config('release: ""\n'),
    argv: [],
    expect: bad(/1 problem in the configuration\n.*release: must not be empty/, /todo-deploy\.yaml:1:10/),
  },
  {
    name: 'null namespace',
    command: 'status',
    files: config('namespace:\n'),
    argv: [],
    expect: bad(/namespace: expected string, got null/, /todo-deploy\.yaml:1:1/),
  },
  {
    name: '1 MB release name',
    command: 'up',
    files: config(`release: ${ONE_MEGABYTE}\n`),
    argv: [],
    expect: bad(/release: must be at most 53 characters/, /todo-deploy\.yaml:1:10/),
  },
  {
    name: '1 MB image repository',
    command: 'up',
    files: config(serviceYaml('backend', `image:\n  repository: ${ONE_MEGABYTE}`)),
    argv: [],
    expect: bad(
      /services\.backend\.image\.repository: must be at most 255 characters, got 1048576/,
      /todo-deploy\.yaml:4:19/,
    ),
  },
  {
    name: 'rollout timeout in words',
    command: 'up',
    files: config('rollout:\n  timeout: 5 minutes\n'),
    argv: [],
    expect: bad(/rollout\.timeout: must be a duration such as 90s/, /todo-deploy\.yaml:2:12/),
  },
  {
    name: 'rollout timeout of zero',
    command: 'rollback',
    files: config('rollout:\n  timeout: 0s\n'),
    argv: [],
    expect: bad(/rollout\.timeout: must be longer than 0/, /todo-deploy\.yaml:2:12/),
  },
  {
    name: 'rollout timeout of 10^12 hours',
    command: 'up',
    files: config(`rollout:\n  timeout: ${TRILLION}h\n`),
    argv: [],
    expect: bad(/rollout\.timeout: must be at most 24h/, /todo-deploy\.yaml:2:12/),
  },
  {
    name: 'maxSurge above 100%',
    command: 'up',
    files: config('rollout:\n  maxSurge: 150%\n'),
    argv: [],
    expect: bad(
      /rollout\.maxSurge: must be a whole number or a percentage such as 25%/,
      /todo-deploy\.yaml:2:13/,
    ),
  },
  {
    name: 'CPU quantity in words',
    command: 'up',
    files: config(serviceYaml('frontend', 'resources:\n  limits:\n    cpu: lots')),
    argv: [],
    expect: bad(
      /services\.frontend\.resources\.limits\.cpu: must be a CPU quantity/,
      /todo-deploy\.yaml:5:14/,
    ),
  },
  {
    name: 'env var name that is not one',
    command: 'up',
    files: config(serviceYaml('backend', 'env:\n  1BAD-NAME: x')),
    argv: [],
    expect: bad(
      /services\.backend\.env\.1BAD-NAME: must be a valid environment variable name/,
      /todo-deploy\.yaml:4:\d+/,
    ),
  },
  {
    name: 'secretKeys as a string',
    command: 'up',
    files: config(serviceYaml('backend', 'secretKeys: DATABASE_URL')),
    argv: [],
    expect: bad(
      /services\.backend\.secretKeys: expected array, got string "DATABASE_URL"/,
      /todo-deploy\.yaml:3:17/,
    ),
  },
  {
    name: 'string where a boolean belongs',
    command: 'up',
    files: config('ingress:\n  enabled: "yes"\n'),
    argv: [],
    expect: bad(/ingress\.enabled: expected boolean, got string "yes"/, /todo-deploy\.yaml:2:12/),
  },
  {
    name: 'null replicas',
    command: 'up',
    files: config(serviceYaml('backend', 'replicas: null')),
    argv: [],
    expect: bad(/services\.backend\.replicas: expected number, got null/, /todo-deploy\.yaml:3:15/),
  },
  {
    name: 'float port',
    command: 'status',
    files: config(serviceYaml('frontend', 'port: 3000.5')),
    argv: [],
    expect: bad(
      /services\.frontend\.port: must be a whole number, got number 3000\.5/,
      /todo-deploy\.yaml:3:11/,
    ),
  },
  {
    name: 'zero crash-loop restarts',
    command: 'up',
    files: config('rollout:\n  crashLoopRestarts: 0\n'),
    argv: [],
    expect: bad(/rollout\.crashLoopRestarts: must be at least 1, got number 0/, /todo-deploy\.yaml:2:22/),
  },
  {
    name: 'unknown image load strategy',
    command: 'up',
    files: config('cluster:\n  imageLoad: teleport\n'),
    argv: [],
    expect: bad(
      /cluster\.imageLoad: must be one of "auto", "load", "docker-env", "none"/,
      /todo-deploy\.yaml:2:14/,
    ),
  },
  {
    name: 'Secret name with uppercase',
    command: 'up',
    files: config('secrets:\n  name: Todo_Secrets\n'),
    argv: [],
    expect: bad(/secrets\.name: must be lowercase letters/, /todo-deploy\.yaml:2:9/),
  },
  {
    name: 'ConfigMap value that is a number',
    command: 'up',
    files: config('configMap:\n  data:\n    LOG_LEVEL: 3\n'),
    argv: [],
    expect: bad(/configMap\.data\.LOG_LEVEL: expected string, got number 3/, /todo-deploy\.yaml:3:16/),
  },
  {
    name: 'health path without a slash',
    command: 'up',
    files: config(serviceYaml('backend', 'healthPath: health')),
    argv: [],
    expect: bad(/services\.backend\.healthPath: must start with \//, /todo-deploy\.yaml:3:17/),
  },
  {
    name: 'memory quantity with a bad unit',
    command: 'up',
    files: config(serviceYaml('backend', 'resources:\n  requests:\n    memory: 12XB')),
    argv: [],
    expect: bad(
      /services\.backend\.resources\.requests\.memory: must be a memory quantity/,
      /todo-deploy\.yaml:5:17/,
    ),
  },
  {
    name: 'build arg name that is not one',
    command: 'up',
    files: config(serviceYaml('frontend', 'build:\n  args:\n    "NODE VERSION": "18"')),
    argv: [],
    expect: bad(
      /services\.frontend\.build\.args\.NODE VERSION: must be a build-arg name/,
      /todo-deploy\.yaml:5:\d+/,
    ),
  },
  {
    name: 'valuesFiles as a string',
    command: 'up',
    files: config('chart:\n  valuesFiles: values-dev.yaml\n'),
    argv: [],
    expect: bad(
      /chart\.valuesFiles: expected array, got string "values-dev\.yaml"/,
      /todo-deploy\.yaml:2:16/,
    ),
  },
  {
    name: 'too many replicas for minikube (a data-model rule)',
    command: 'up',
    files: config(serviceYaml('frontend', 'replicas: 10')),
    argv: [],
    expect: bad(/breaks 1 rule of the data model/, /todo-deploy\.yaml:3:15/),
  },

  // ── paths ───────────────────────────────────────────────────────────────────────────────────────
  {
    name: 'chart.path escapes the project',
    command: 'up',
    files: config('chart:\n  path: ../../etc\n'),
    argv: [],
    expect: bad(/chart\.path: "\.\.\/\.\.\/etc" is outside the project folder/, /todo-deploy\.yaml:2:9/),
  },
  {
    name: 'chart.path is absolute',
    command: 'status',
    files: config('chart:\n  path: /etc\n'),
    argv: [],
    expect: bad(/chart\.path: "\/etc" is outside the project folder/, /todo-deploy\.yaml:2:9/),
  },
  {
    name: 'chart.path names a missing folder',
    command: 'up',
    files: config('chart:\n  path: charts/todo\n'),
    argv: [],
    expect: bad(
      /chart\.path: the chart folder "charts\/todo" \(.*\) does not exist/,
      /todo-deploy\.yaml:2:9/,
    ),
  },
  {
    name: 'chart.path names a folder without Chart.yaml',
    command: 'up',
    files: {...config('chart:\n  path: chart\n'), 'chart/values.yaml': '{}\n'},
    argv: [],
    expect: bad(/chart\.path: the chart folder "chart" has no Chart\.yaml/, /todo-deploy\.yaml:2:9/),
  },
  {
    name: 'chart.path names a file',
    command: 'rollback',
    files: {...config('chart:\n  path: chart/Chart.yaml\n'), ...CHART},
    argv: [],
    expect: bad(/chart\.path: "chart\/Chart\.yaml" is a file, not a chart folder/, /todo-deploy\.yaml:2:9/),
  },
  {
    name: 'chart.valuesFiles escapes the chart',
    command: 'up',
    files: {...config('chart:\n  path: chart\n  valuesFiles: [../../../etc/passwd]\n'), ...CHART},
    argv: [],
    expect: bad(/chart\.valuesFiles\.0: .*outside the chart folder/, /todo-deploy\.yaml:3:17/),
  },
  {
    name: 'chart.extraValuesFiles escapes the project',
    command: 'up',
    files: config('chart:\n  extraValuesFiles:\n    - ../../secrets.yaml\n'),
    argv: [],
    expect: bad(/chart\.extraValuesFiles\.0: .*outside the project folder/, /todo-deploy\.yaml:3:7/),
  },
  {
    name: 'secrets.envFile escapes the project',
    command: 'up',
    files: config('secrets:\n  envFile: ../../etc/environment\n'),
    argv: [],
    expect: bad(/secrets\.envFile: .*outside the project folder/, /todo-deploy\.yaml:2:12/),
  },
  {
    name: 'build.context escapes the project',
    command: 'up',
    files: config(serviceYaml('frontend', 'build:\n  context: ../../etc')),
    argv: [],
    expect: bad(/services\.frontend\.build\.context: .*outside the project folder/, /todo-deploy\.yaml:4:16/),
  },
  {
    name: 'build.dockerfile is absolute',
    command: 'up',
    files: config(serviceYaml('backend', 'build:\n  dockerfile: /etc/passwd')),
    argv: [],
    expect: bad(
      /services\.backend\.build\.dockerfile: .*outside the project folder/,
      /todo-deploy\.yaml:4:19/,
    ),
  },

  // ── .env and secrets ────────────────────────────────────────────────────────────────────────────
  {
    name: '.env line that does not parse (and holds a secret)',
    command: 'up',
    files: {'.env': 'DATABASE_URL=test-secret-value-5\nJWT_SECRET: test-secret-value-6\n'},
    argv: [],
    expect: bad(/this line is not KEY=value/, /\/.*\/\.env:2\b/),
  },
  {
    name: '.env line with only a word',
    command: 'up',
    files: {'.env': '# comment\n\nGEMINI_API_KEY\n'},
    argv: [],
    expect: bad(/this line is not KEY=value/, /\/.*\/\.env:3\b/),
  },
  {
    name: '.env duplicate key',
    command: 'up',
    files: {'.env': 'JWT_SECRET=test-secret-value-7\nDATABASE_URL=x\nJWT_SECRET=test-secret-value-8\n'},
    argv: [],
    expect: bad(/JWT_SECRET is set twice \(first on line 1\)/, /\/.*\/\.env:3\b/),
  },
  {
    name: '.env quote never closed',
    command: 'up',
    files: {'.env': 'JWT_SECRET="test-secret-value-9\nDATABASE_URL=x\n'},
    argv: [],
    expect: bad(/quoted value is never closed/, /\/.*\/\.env:1\b/),
  },
  {
    name: '.env is a directory',
    command: 'up',
    files: {'.env/': DIRECTORY},
    argv: [],
    expect: bad(/\.env is a directory, not a \.env file/, /\/.*\/\.env\b/),
  },
  {
    name: '.env has non-UTF-8 bytes',
    command: 'up',
    files: {'.env': fixture('latin1.env')},
    argv: [],
    expect: bad(/\.env is not valid UTF-8 \(line 1\)/, /\/.*\/\.env:1\b/),
  },
  {
    name: 'a secret is missing',
    command: 'up',
    env: {JWT_SECRET: undefined},
    argv: [],
    expect: bad(/missing secret: JWT_SECRET/, /the environment/),
  },

  // ── flags and arguments ─────────────────────────────────────────────────────────────────────────
  {
    name: 'up --timeout "5 minutes"',
    command: 'up',
    argv: ['--timeout', '5 minutes'],
    expect: bad(/--timeout "5 minutes" is not a duration/, /--timeout/),
  },
  {
    name: 'up --timeout 0s',
    command: 'up',
    argv: ['--timeout', '0s'],
    expect: bad(/--timeout "0s" is not a duration/, /--timeout/),
  },
  {
    name: 'up --timeout 10^12 hours',
    command: 'up',
    argv: ['--timeout', `${TRILLION}h`],
    expect: bad(/--timeout .* is longer than 24h/, /--timeout/),
  },
  {
    name: 'up --timeout empty',
    command: 'up',
    argv: ['--timeout='],
    expect: bad(/--timeout "" is not a duration/, /--timeout/),
  },
  {
    name: 'up --only database',
    command: 'up',
    argv: ['--only', 'database'],
    expect: bad(/Expected --only=database to be one of: frontend, backend/, /--only/),
  },
  {
    name: 'up --only empty',
    command: 'up',
    argv: ['--only='],
    expect: bad(/Expected --only= to be one of: frontend, backend/, /--only/),
  },
  {
    name: 'up --set without =',
    command: 'up',
    argv: ['--set', 'frontend.replicaCount'],
    expect: bad(/--set "frontend\.replicaCount" is not KEY=VALUE/, /--set/),
  },
  {
    name: 'up --set with an empty key',
    command: 'up',
    argv: ['--set', '=3'],
    expect: bad(/--set "=3" is not KEY=VALUE/, /--set/),
  },
  {
    name: 'up --set 1 MB without =',
    command: 'up',
    argv: ['--set', ONE_MEGABYTE],
    expect: bad(/--set "a{60}… \(1048576 characters\)" is not KEY=VALUE/, /--set/),
  },
  {
    name: 'up --values names a missing file',
    command: 'up',
    argv: ['--values', 'extra.yaml'],
    expect: bad(/--values .*extra\.yaml does not exist/, /--values/),
  },
  {
    name: 'up --values names a directory',
    command: 'up',
    files: {'values/': DIRECTORY},
    argv: ['-f', 'values'],
    expect: bad(/--values .*values is a directory/, /--values/),
  },
  {
    name: 'up --namespace empty',
    command: 'up',
    argv: ['--namespace', ''],
    expect: bad(/1 problem in the configuration\n.*namespace: must not be empty/, /--namespace {2}namespace/),
  },
  {
    name: 'up --release 1 MB',
    command: 'up',
    argv: ['--release', ONE_MEGABYTE],
    expect: bad(/release: must be at most 53 characters/, /--release {2}release/),
  },
  {
    name: 'up --no-build given a value',
    command: 'up',
    argv: ['--build=maybe'],
    expect: bad(/--build is a switch and takes no value \(got "maybe"\)/, /--build/),
  },
  {
    name: 'up --dry-run given a value',
    command: 'up',
    argv: ['--dry-run=yes'],
    expect: bad(/--dry-run is a switch and takes no value \(got "yes"\)/, /--dry-run/),
  },
  {
    name: 'up --values 1 MB path',
    command: 'up',
    argv: ['--values', ONE_MEGABYTE],
    expect: bad(/--values \/\S+… \(\d+ characters\) does not exist/, /--values/),
  },
  {
    name: 'up --namespace given twice',
    command: 'up',
    argv: ['-n', 'one', '-n', 'two'],
    expect: bad(
      /--namespace=two cannot also be provided when using --namespace=one|can only be specified once/,
      /--namespace/,
    ),
  },
  {
    name: 'status --namespace with uppercase',
    command: 'status',
    argv: ['-n', 'Todo_App'],
    expect: bad(/namespace: must be lowercase letters/, /--namespace {2}namespace/),
  },
  {
    name: 'status --context empty',
    command: 'status',
    argv: ['--context', ''],
    expect: bad(/cluster\.context: must not be empty/, /--context {2}cluster\.context/),
  },
  {
    name: 'dev --debounce not a number',
    command: 'dev',
    argv: ['--debounce', '300ms'],
    expect: bad(/--debounce "300ms" is not a number of milliseconds from 0 to 60000/, /--debounce/),
  },
  {
    name: 'dev --no-logs given a value',
    command: 'dev',
    argv: ['--no-logs=1'],
    expect: bad(/--no-logs is a switch and takes no value \(got "1"\)/, /--no-logs/),
  },
  {
    name: 'dev --cleanup given a value',
    command: 'dev',
    argv: ['--cleanup=yes'],
    expect: bad(/--cleanup is a switch and takes no value \(got "yes"\)/, /--cleanup/),
  },
  {
    name: 'dev --timeout "5 minutes"',
    command: 'dev',
    argv: ['--timeout', '5 minutes'],
    expect: bad(/--timeout "5 minutes" is not a duration/, /--timeout|fix: use a duration/),
  },
  {
    name: 'dev with a broken todo-deploy.yaml',
    command: 'dev',
    files: config('services: [frontend\n'),
    argv: [],
    expect: bad(/1 problem in the configuration/, /todo-deploy\.yaml:2:1/),
  },
  {
    name: 'dev with an unexpected argument',
    command: 'dev',
    argv: ['frontend'],
    expect: bad(/Unexpected argument: frontend/, /argument frontend/),
  },
  {
    name: 'logs of an unknown service',
    command: 'logs',
    argv: ['database'],
    expect: bad(/unknown service "database"/, /argument database/),
  },
  {
    name: 'logs --since not a duration',
    command: 'logs',
    argv: ['--since', 'yesterday'],
    expect: bad(/--since "yesterday" is not a duration from 1s to 24h/, /--since/),
  },
  {
    name: 'logs --tail not a number',
    command: 'logs',
    argv: ['--tail', 'all'],
    expect: bad(/--tail: Expected an integer but received: all/, /--tail/),
  },
  {
    name: 'logs --follow with --previous',
    command: 'logs',
    argv: ['-f', '--previous'],
    expect: bad(/--previous=true cannot also be provided when using --follow/, /--previous/),
  },
  {
    name: 'logs --follow given a value',
    command: 'logs',
    argv: ['--follow=yes'],
    expect: bad(/--follow is a switch and takes no value \(got "yes"\)/, /--follow/),
  },
  {
    name: 'status --watch given a value',
    command: 'status',
    argv: ['--watch=yes'],
    expect: bad(/--watch is a switch and takes no value \(got "yes"\)/, /--watch/),
  },
  {
    name: 'status with an unknown flag',
    command: 'status',
    argv: ['--namespce', 'dev'],
    expect: bad(/Nonexistent flag: --namespce/, /--namespce/),
  },
  {
    name: 'status with an unexpected argument',
    command: 'status',
    argv: ['everything'],
    expect: bad(/Unexpected argument: everything/, /argument everything/),
  },
  {
    name: 'rollback abc',
    command: 'rollback',
    argv: ['abc'],
    expect: bad(/revision "abc" is not a revision number/, /REVISION/),
  },
  {
    name: 'rollback 0',
    command: 'rollback',
    argv: ['0'],
    expect: bad(/revision "0" is not a revision number/, /REVISION/),
  },
  {
    name: 'rollback 1.5',
    command: 'rollback',
    argv: ['1.5'],
    expect: bad(/revision "1\.5" is not a revision number/, /REVISION/),
  },
  {
    name: 'rollback 10^12',
    command: 'rollback',
    argv: [TRILLION],
    expect: bad(/revision "1000000000000" is not a revision number/, /REVISION/),
  },
  {
    name: 'rollback --timeout "5 minutes"',
    command: 'rollback',
    argv: ['2', '--timeout', '5 minutes'],
    expect: bad(/--timeout "5 minutes" is not a duration/, /--timeout/),
  },
  {
    name: 'down --keep -1',
    command: 'down',
    argv: ['--yes', '--purge', '--keep', '-1'],
    expect: bad(/--keep: Expected an integer greater than or equal to 0 but received: -1/, /--keep/),
  },
  {
    name: 'down --keep without --purge',
    command: 'down',
    argv: ['--yes', '--keep', '2'],
    expect: bad(/--keep only applies with --purge/, /--keep/),
  },
  {
    name: 'down --keep abc',
    command: 'down',
    argv: ['--yes', '--purge', '--keep', 'abc'],
    expect: bad(/--keep: Expected an integer but received: abc/, /--keep/),
  },
  {
    name: 'down --keep 10^12',
    command: 'down',
    argv: ['--yes', '--purge', '--keep', TRILLION],
    expect: bad(
      /--keep: Expected an integer less than or equal to 1000 but received: 1000000000000/,
      /--keep/,
    ),
  },
  {
    name: 'down --keep 1.5',
    command: 'down',
    argv: ['--yes', '--purge', '--keep', '1.5'],
    expect: bad(/--keep: Expected an integer but received: 1\.5/, /--keep/),
  },
  {
    name: 'down --timeout 5 minutes',
    command: 'down',
    argv: ['--yes', '--timeout', '5 minutes'],
    expect: bad(/--timeout "5 minutes" is not a duration/, /--timeout/),
  },
  {
    name: 'down --purge given a value',
    command: 'down',
    argv: ['--yes', '--purge=true'],
    expect: bad(/--purge is a switch and takes no value \(got "true"\)/, /--purge/),
  },
  {
    name: 'rollback --list given a value',
    command: 'rollback',
    argv: ['--list=1'],
    expect: bad(/--list is a switch and takes no value \(got "1"\)/, /--list/),
  },
  {
    name: 'rollback --list with a revision',
    command: 'rollback',
    argv: ['--list', '3'],
    expect: bad(/--list shows the history and takes no revision \(got 3\)/, /--list/),
  },
  {
    name: 'down without --yes and no terminal',
    command: 'down',
    argv: ['--purge'],
    expect: bad(/down needs confirmation/, /--yes/),
  },
  {
    name: 'doctor --json given a value',
    command: 'doctor',
    argv: ['--json=false'],
    expect: bad(/--json is a switch and takes no value \(got "false"\)/, /--json/),
  },
]
