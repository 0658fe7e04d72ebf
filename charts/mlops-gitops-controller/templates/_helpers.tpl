{{/* Chart name, shortened to the 63 characters a label value allows. */}}
{{- define "mlops-gitops-controller.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name of the release's objects: the release name, unless it already contains the chart name. */}}
{{- define "mlops-gitops-controller.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "mlops-gitops-controller.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mlops-gitops-controller.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "mlops-gitops-controller.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "mlops-gitops-controller.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "mlops-gitops-controller.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "mlops-gitops-controller.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "mlops-gitops-controller.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
What the controller needs on the resources it reconciles, in every namespace it watches.
docs/install.md explains each rule. Shared by the ClusterRole (all namespaces) and the Roles
(watchNamespaces), so both modes grant exactly the same verbs.
*/}}
{{- define "mlops-gitops-controller.reconcileRules" -}}
# Watch the custom resources, and patch their finalizer and bookkeeping annotations.
- apiGroups: ["mlops.gitops.dev"]
  resources: ["workspaces", "mlmodels", "servingendpoints", "mljobs", "modelmonitors", "experiments", "gitfolders"]
  verbs: ["list", "watch", "patch"]
# Write observed state and conditions (the status subresource only).
- apiGroups: ["mlops.gitops.dev"]
  resources: ["workspaces/status", "mlmodels/status", "servingendpoints/status", "mljobs/status", "modelmonitors/status", "experiments/status", "gitfolders/status"]
  verbs: ["patch"]
# Post Events about external changes and failures on the custom resources.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
# Read the credentials Secret a Workspace names; never list or watch Secrets.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
{{- end -}}

{{/* The label telling one shard's pods (and Deployment) from another's: `include ... $index`. */}}
{{- define "mlops-gitops-controller.shardLabel" -}}
mlops.gitops.dev/shard: {{ . | quote }}
{{- end -}}
