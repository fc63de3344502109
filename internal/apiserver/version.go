package apiserver

import (
	"net/http"
	"runtime"

	"k8s.io/apimachinery/pkg/version"
)

// KubernetesVersion is the Kubernetes release whose API svcplane serves.
// kubectl's dispatcher picks its client by the minor version.
const KubernetesVersion = "v1.32.4"

// Version describes the server for /version.
func Version() version.Info {
	return version.Info{
		Major:        "1",
		Minor:        "32",
		GitVersion:   KubernetesVersion + "+svcplane",
		GitTreeState: "clean",
		GoVersion:    runtime.Version(),
		Compiler:     runtime.Compiler,
		Platform:     runtime.GOOS + "/" + runtime.GOARCH,
	}
}

func serveVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, Version())
}
