// Package integration runs the real API server, with embedded etcd on
// loopback, and drives it with client-go and the real kubectl.
package integration

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/svcplane/svcplane/internal/app"
	"github.com/svcplane/svcplane/internal/kubeconfig"
)

// cluster is one API server started for a test.
type cluster struct {
	t          *testing.T
	srv        *app.APIServer
	client     kubernetes.Interface
	restConfig *rest.Config
	kubeconfig string
	cacheDir   string
	cancel     context.CancelFunc
}

// startCluster runs an API server on a free loopback port with its data
// in a temporary directory, stopped when the test ends.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	srv, err := app.StartAPIServer(ctx, app.APIServerConfig{
		DataDir: dir, BindAddress: "127.0.0.1", Port: 0,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		cancel()
		t.Fatalf("start API server: %v", err)
	}
	t.Cleanup(func() { cancel(); <-srv.Done })
	rc, err := kubeconfig.RESTConfig(srv.AdminKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{t: t, srv: srv, client: client, restConfig: rc, kubeconfig: srv.AdminKubeconfig, cacheDir: filepath.Join(dir, "kubectl-cache"), cancel: cancel}
}

// kubectl runs the machine's kubectl against the cluster and returns its
// standard output; a failure fails the test.
func (c *cluster) kubectl(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.kubectlResult("", args...)
	if err != nil {
		c.t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// kubectlResult runs kubectl with stdin and returns both outputs.
func (c *cluster) kubectlResult(stdin string, args ...string) (string, string, error) {
	c.t.Helper()
	cmd := exec.Command("kubectl", append([]string{"--cache-dir", c.cacheDir}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.kubeconfig)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

func needKubectl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not installed")
	}
}
