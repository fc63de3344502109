package integration

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/app"
)

// TestTwoAPIServersShareTheKubernetesEndpoints runs a second API server on
// the first one's etcd: the kubernetes Service lists both while both run,
// and only the first once the second stops.
func TestTwoAPIServersShareTheKubernetesEndpoints(t *testing.T) {
	c := startCluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	second, err := app.StartAPIServer(ctx, app.APIServerConfig{
		DataDir: t.TempDir(), BindAddress: "127.0.0.2", Port: 0,
		EtcdServers: []string{"unix://" + filepath.Join(c.DataDir, "etcd", "etcd.sock")},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	defer func() { cancel(); <-second.Done }()
	waitFor(t, "both servers in the endpoints", func() bool { return len(kubernetesEndpointIPs(t, c)) == 2 })
	if got := strings.Join(kubernetesEndpointIPs(t, c), ","); got != "127.0.0.1,127.0.0.2" {
		t.Fatalf("endpoints %s", got)
	}
	cancel()
	<-second.Done
	waitFor(t, "the stopped server to leave", func() bool { return len(kubernetesEndpointIPs(t, c)) == 1 })
}

func kubernetesEndpointIPs(t *testing.T, c *cluster) []string {
	t.Helper()
	ep, err := c.Client.CoreV1().Endpoints("default").Get(context.Background(), "kubernetes", metav1.GetOptions{})
	if err != nil {
		return nil
	}
	var ips []string
	for _, s := range ep.Subsets {
		for _, a := range s.Addresses {
			ips = append(ips, a.IP)
		}
	}
	sort.Strings(ips)
	return ips
}
