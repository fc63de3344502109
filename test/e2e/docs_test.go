package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/svcplane/svcplane/internal/netns"
	"github.com/svcplane/svcplane/internal/tour"
)

// TestDocsTour runs the docs tour's short part (the first page: a
// Deployment, a ClusterIP Service, its Endpoints and EndpointSlices, a
// pod deleted) in check mode against its own sandbox, as
// `hack/docs.sh --check` does, so the generator's steps stay valid; the
// tour removes its cluster itself, which is checked.
func TestDocsTour(t *testing.T) {
	t.Parallel()
	needRoot(t)
	needKubectl(t)
	name := fmt.Sprintf("doc%d", os.Getpid()%100000)
	var log strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	err := tour.Run(ctx, tour.Config{Bin: binary, Name: name, Short: true, Log: &log}, tour.Pages())
	if err != nil {
		t.Fatalf("tour: %v\n%s", err, log.String())
	}
	left, _ := netns.NewDir("").List(netns.Names{Cluster: name}.Prefix())
	if len(left) > 0 {
		t.Errorf("namespaces left after the tour: %v", left)
	}
}
