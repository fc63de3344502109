package main

import (
	"flag"
	"os"
	"path/filepath"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// clusterFlags are the --data-dir and --kubeconfig flags of the commands
// that talk to a running cluster as its admin.
type clusterFlags struct {
	dir, kubeconfig *string
	env             bool
}

// addClusterFlags adds them to fs; with env, $KUBECONFIG comes before
// the data directory's admin.kubeconfig.
func addClusterFlags(fs *flag.FlagSet, env bool) clusterFlags {
	def := "admin kubeconfig (default: admin.kubeconfig in --data-dir)"
	if env {
		def = "kubeconfig (default: $KUBECONFIG, else admin.kubeconfig in --data-dir)"
	}
	return clusterFlags{
		dir:        fs.String("data-dir", "/var/lib/svcplane", "data directory of the cluster (its admin.kubeconfig is used)"),
		kubeconfig: fs.String("kubeconfig", "", def),
		env:        env,
	}
}

// restConfig reads the kubeconfig the flags name.
func (f clusterFlags) restConfig() (*rest.Config, error) {
	path := *f.kubeconfig
	if path == "" && f.env {
		path = os.Getenv("KUBECONFIG")
	}
	if path == "" {
		path = filepath.Join(*f.dir, "admin.kubeconfig")
	}
	return clientcmd.BuildConfigFromFlags("", path)
}

// client is a clientset over restConfig.
func (f clusterFlags) client() (kubernetes.Interface, error) {
	rc, err := f.restConfig()
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(rc)
}
