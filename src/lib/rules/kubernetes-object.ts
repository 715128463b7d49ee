/**
 * A Kubernetes object as rendered by `helm template` or read back from the API. Deliberately loose:
 * rendered YAML is untyped (a quantity may be the number 1 or the string "1"), so the rules read
 * every field defensively instead of trusting a generated model.
 */
export interface K8sObject {
  apiVersion?: string
  kind?: string
  metadata?: {
    name?: string
    namespace?: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
  }
  spec?: unknown
  data?: Record<string, unknown>
  stringData?: Record<string, unknown>
  [field: string]: unknown
}
