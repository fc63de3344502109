//go:build tools

// Package upstream names the upstream programs build.sh builds, so that the
// module's requirements (go.mod, go.sum) cover them.
package upstream

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
)
