//go:build tools

// Package cluster pins the kube-apiserver command so `go mod tidy` keeps it.
package cluster

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
