// Package testcluster starts a real API server (embedded etcd, HTTPS on a
// free loopback port, data in a temporary directory) for tests, and runs
// the machine's kubectl against it.
package testcluster

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
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

// Cluster is one API server started for a test.
type Cluster struct {
	t *testing.T
	// Server is the running API server.
	Server *app.APIServer
	// Client is an admin clientset; RESTConfig its configuration.
	Client     kubernetes.Interface
	RESTConfig *rest.Config
	// Kubeconfig is the admin kubeconfig's path.
	Kubeconfig string
	// DataDir is the server's data directory.
	DataDir  string
	cacheDir string
}

// Options change how the server starts.
type Options struct {
	// Cluster settings (service CIDRs, node port range).
	Cluster app.ClusterConfig
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// ProxyDial dials the targets of the proxy subresources.
	ProxyDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// ServiceAccountAdmission turns on the pods' ServiceAccount admission,
	// off by default as in upstream's integration framework: it needs the
	// serviceaccount controller, which tests of the API alone do not run.
	ServiceAccountAdmission bool
}

// Start runs an API server until the test ends.
func Start(t *testing.T, opts Options) *Cluster {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := app.StartAPIServer(ctx, app.APIServerConfig{
		DataDir: dir, BindAddress: "127.0.0.1", Port: 0, Cluster: opts.Cluster, Logger: logger, ProxyDial: opts.ProxyDial,
		DisableAdmission: disabledAdmission(opts),
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
	rc.QPS, rc.Burst = 1000, 2000
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return &Cluster{t: t, Server: srv, Client: client, RESTConfig: rc, Kubeconfig: srv.AdminKubeconfig,
		DataDir: dir, cacheDir: filepath.Join(dir, "kubectl-cache")}
}

// Kubectl runs kubectl against the cluster and returns its standard
// output; a failure fails the test.
func (c *Cluster) Kubectl(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.KubectlResult("", args...)
	if err != nil {
		c.t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// KubectlResult runs kubectl with stdin and returns both outputs and the
// error, for commands expected to fail.
func (c *Cluster) KubectlResult(stdin string, args ...string) (string, string, error) {
	c.t.Helper()
	cmd := c.KubectlCmd(args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// KubectlCmd returns an unstarted kubectl command against the cluster.
func (c *Cluster) KubectlCmd(args ...string) *exec.Cmd {
	cmd := exec.Command("kubectl", append([]string{"--cache-dir", c.cacheDir}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
	return cmd
}

// NeedKubectl skips the test where kubectl is not installed.
func NeedKubectl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not installed")
	}
}

func disabledAdmission(opts Options) []string {
	if opts.ServiceAccountAdmission {
		return nil
	}
	return []string{"ServiceAccount"}
}
