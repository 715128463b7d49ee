{{/* app.kubernetes.io/name: nameOverride or the chart name. */}}
{{- define "todo-chatbot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-<chart>, or the release name alone when it already contains the chart name. */}}
{{- define "todo-chatbot.fullname" -}}
{{- $name := include "todo-chatbot.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "todo-chatbot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The standard labels every object carries. */}}
{{- define "todo-chatbot.labels" -}}
helm.sh/chart: {{ include "todo-chatbot.chart" . }}
app.kubernetes.io/name: {{ include "todo-chatbot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/*
Selector of one component (frontend or backend). Selectors are immutable once a Deployment exists:
keep them to `app` + instance. Called with (dict "root" $ "component" .Values.frontend).
*/}}
{{- define "todo-chatbot.selectorLabels" -}}
app: {{ .component.name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* Labels of a component's objects: `app` + `tier` + the standard labels (which hold the instance). */}}
{{- define "todo-chatbot.componentLabels" -}}
app: {{ .component.name }}
tier: {{ .component.tier }}
{{ include "todo-chatbot.labels" .root }}
{{- end -}}

{{/* Labels of shared objects (ConfigMap, Ingress): `app` is the app name, `tier` says what they are. */}}
{{- define "todo-chatbot.sharedLabels" -}}
app: {{ include "todo-chatbot.name" .root }}
tier: {{ .tier }}
{{ include "todo-chatbot.labels" .root }}
{{- end -}}

{{/* The Secret the CLI creates; the chart only refers to it. */}}
{{- define "todo-chatbot.secretName" -}}
{{- required "secrets.existingSecret must name the Secret todo-deploy creates" .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "todo-chatbot.httpProbe" -}}
httpGet:
  path: {{ .path }}
  port: http
{{- with .initialDelaySeconds }}
initialDelaySeconds: {{ . }}
{{- end }}
periodSeconds: {{ .periodSeconds }}
timeoutSeconds: {{ .timeoutSeconds }}
failureThreshold: {{ .failureThreshold }}
{{- end -}}

{{/* One Deployment; frontend-deployment.yaml and backend-deployment.yaml differ only by their values. */}}
{{- define "todo-chatbot.deployment" -}}
{{- $root := .root -}}
{{- $c := .component -}}
{{- $values := $root.Values -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $c.name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "todo-chatbot.componentLabels" . | nindent 4 }}
spec:
  replicas: {{ $c.replicaCount }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: {{ $values.strategy.maxSurge }}
      maxUnavailable: {{ $values.strategy.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "todo-chatbot.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "todo-chatbot.componentLabels" . | nindent 8 }}
      annotations:
        {{- /* a changed ConfigMap or Secret restarts the pods that read it */}}
        checksum/config: {{ toJson $values.configMap.data | sha256sum }}
        {{- if $c.secretKeys }}
        checksum/secrets: {{ $values.secrets.checksum | quote }}
        {{- end }}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 1001
      {{- with $values.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      containers:
        - name: {{ $c.containerName }}
          image: "{{ $c.image.repository }}:{{ $c.image.tag | toString }}"
          imagePullPolicy: {{ $c.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ $c.containerPort }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ $values.configMap.name }}
          {{- if or $c.env $c.secretKeys }}
          env:
            {{- range $name, $value := $c.env }}
            - name: {{ $name }}
              value: {{ $value | toString | quote }}
            {{- end }}
            {{- range $c.secretKeys }}
            - name: {{ . }}
              valueFrom:
                secretKeyRef:
                  name: {{ include "todo-chatbot.secretName" $root }}
                  key: {{ . }}
            {{- end }}
          {{- end }}
          resources:
            {{- toYaml $c.resources | nindent 12 }}
          readinessProbe:
            {{- include "todo-chatbot.httpProbe" $c.probes.readiness | nindent 12 }}
          livenessProbe:
            {{- include "todo-chatbot.httpProbe" $c.probes.liveness | nindent 12 }}
          {{- if $c.probes.startup.enabled }}
          startupProbe:
            {{- include "todo-chatbot.httpProbe" $c.probes.startup | nindent 12 }}
          {{- end }}
          securityContext:
            allowPrivilegeEscalation: false
{{- end -}}

{{/* One Service; its targetPort is always the component's containerPort. */}}
{{- define "todo-chatbot.service" -}}
{{- $c := .component -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ $c.service.name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "todo-chatbot.componentLabels" . | nindent 4 }}
spec:
  type: {{ $c.service.type }}
  selector:
    {{- include "todo-chatbot.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ $c.service.port }}
      targetPort: {{ $c.containerPort }}
      protocol: TCP
      {{- if and (eq $c.service.type "NodePort") $c.service.nodePort }}
      nodePort: {{ $c.service.nodePort }}
      {{- end }}
{{- end -}}
