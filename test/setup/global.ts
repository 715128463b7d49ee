import {HELM_MAJORS, ensureLayer} from '../support/helm-binaries.js'

/** Unpacks the real helm binaries once per run, before the workers start (they would race otherwise). */
export default function setup(): void {
  for (const major of HELM_MAJORS) ensureLayer(major)
}
