{{/* Chart name, truncated to the 63 characters a label allows. */}}
{{- define "cra-gate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name, or release-chart when the release name does not contain the chart name. */}}
{{- define "cra-gate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "cra-gate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "cra-gate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cra-gate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "cra-gate.labels" -}}
helm.sh/chart: {{ include "cra-gate.chart" . }}
{{ include "cra-gate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: cra-gate
{{- end }}

{{- define "cra-gate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cra-gate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* image reference: repository@digest, else repository:tag (tag defaults to appVersion). */}}
{{- define "cra-gate.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Prometheus job label: the ServiceMonitor sets it from app.kubernetes.io/name (the dashboard and the
alert rules select job="cra-gate"). */}}
{{- define "cra-gate.metricsServiceName" -}}
{{- printf "%s-metrics" (include "cra-gate.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Name of the admission webhook Service (and of its certificate's DNS names). */}}
{{- define "cra-gate.webhookServiceName" -}}
{{- printf "%s-webhook" (include "cra-gate.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* DNS names of the webhook serving certificate. */}}
{{- define "cra-gate.webhookDnsNames" -}}
{{- $svc := include "cra-gate.webhookServiceName" . -}}
{{- $names := list (printf "%s.%s.svc" $svc .Release.Namespace) (printf "%s.%s.svc.cluster.local" $svc .Release.Namespace) -}}
{{- concat $names .Values.webhook.extraDnsNames | join "," -}}
{{- end }}
