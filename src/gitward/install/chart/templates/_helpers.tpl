{{- define "gitward.labels" -}}
app.kubernetes.io/name: gitward
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: gitward
{{- end -}}

{{- define "gitward.selector" -}}
app.kubernetes.io/name: gitward
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
