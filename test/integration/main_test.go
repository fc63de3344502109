// Package integration runs the real API server, with embedded etcd on
// loopback, and drives it with client-go and the real kubectl.
package integration

import (
	"testing"

	"github.com/svcplane/svcplane/internal/testcluster"
)

// cluster wraps testcluster.Cluster with the short names these tests use.
type cluster struct {
	*testcluster.Cluster
	t *testing.T
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	return &cluster{Cluster: testcluster.Start(t, testcluster.Options{}), t: t}
}

func (c *cluster) kubectl(args ...string) string { c.t.Helper(); return c.Kubectl(args...) }

func needKubectl(t *testing.T) { t.Helper(); testcluster.NeedKubectl(t) }
