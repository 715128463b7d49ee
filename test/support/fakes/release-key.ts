/** How the fakes key what they keep per release (or per named object): `<namespace>/<name>`. */
export function key(release: string, namespace: string): string {
  return `${namespace}/${release}`
}
