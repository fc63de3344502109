package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/internal/apiserver/allocator/claim"
	"github.com/svcplane/svcplane/internal/app"
	"github.com/svcplane/svcplane/internal/storage"
	"github.com/svcplane/svcplane/internal/testcluster"
)

// smallRanges make collisions between the two servers likely: 200
// Services take most of the dynamic band of both ranges.
var smallRanges = app.ClusterConfig{ServiceCIDRs: []string{"10.10.0.0/24"}, NodePortRange: "30000-30249"}

// TestTwoAPIServersAllocateDistinctValues creates 200 NodePort Services at
// once through two API servers sharing one etcd, 100 through each from 10
// clients per server: every Service gets its own cluster IP and node port,
// each claimed for it. Deleting them through the other server releases
// every claim.
func TestTwoAPIServersAllocateDistinctValues(t *testing.T) {
	first := testcluster.Start(t, testcluster.Options{Cluster: smallRanges})
	second := startSecondAPIServer(t, first, smallRanges)
	clients := []kubernetes.Interface{adminClient(t, first.Kubeconfig), adminClient(t, second.AdminKubeconfig)}

	created := createEverywhere(t, clients, 10, 10)
	var held []string
	for _, svc := range created {
		held = append(held, svc.Spec.ClusterIP, fmt.Sprint(svc.Spec.Ports[0].NodePort))
	}
	checkDistinct(t, held)
	if len(created) != 200 {
		t.Fatalf("created %d Services, want 200", len(created))
	}
	if got, want := claims(t, first.Server.Storage), wantClaims(created); got != want {
		t.Fatalf("claims:\n got %s\nwant %s", got, want)
	}

	for i, svc := range created {
		other := clients[(i+1)%2] // created[i] came through clients[i%2]
		if err := other.CoreV1().Services("default").Delete(context.Background(), svc.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := claims(t, first.Server.Storage); got != "ips/ipv4/10.10.0.1=services/default/kubernetes" {
		t.Fatalf("claims after deleting every Service: %s", got)
	}
}

func startSecondAPIServer(t *testing.T, first *testcluster.Cluster, cluster app.ClusterConfig) *app.APIServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	second, err := app.StartAPIServer(ctx, app.APIServerConfig{
		DataDir: t.TempDir(), BindAddress: "127.0.0.2", Port: 0, Cluster: cluster,
		EtcdServers: []string{"unix://" + filepath.Join(first.DataDir, "etcd", "etcd.sock")},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-second.Done })
	return second
}

// createEverywhere creates perWorker NodePort Services from each of
// workers goroutines per client, all at once. The i-th Service returned
// came through clients[i%len(clients)].
func createEverywhere(t *testing.T, clients []kubernetes.Interface, workers, perWorker int) []*corev1.Service {
	t.Helper()
	out := make([]*corev1.Service, len(clients)*workers*perWorker)
	var wg sync.WaitGroup
	for c, client := range clients {
		for w := range workers {
			wg.Go(func() {
				for i := range perWorker {
					n := (w*perWorker+i)*len(clients) + c
					svc, err := client.CoreV1().Services("default").Create(context.Background(),
						nodePortService(fmt.Sprintf("s%d-w%d-%d", c, w, i)), metav1.CreateOptions{})
					if err != nil {
						t.Errorf("create through server %d: %v", c, err)
						return
					}
					out[n] = svc
				}
			})
		}
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return out
}

// claims lists the claims in store as "key=holder", sorted.
func claims(t *testing.T, store storage.Store) string {
	t.Helper()
	res, err := store.List(context.Background(), claim.Prefix, storage.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, kv := range res.KVs {
		var rec claim.Record
		if err := json.Unmarshal(kv.Value, &rec); err != nil {
			t.Fatalf("claim %s: %v", kv.Key, err)
		}
		out = append(out, strings.TrimPrefix(kv.Key, claim.Prefix)+"="+rec.Holder)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// wantClaims is what claims lists for the kubernetes Service and created.
func wantClaims(created []*corev1.Service) string {
	out := []string{"ips/ipv4/10.10.0.1=services/default/kubernetes"}
	for _, svc := range created {
		holder := claim.Holder(svc.Namespace, svc.Name)
		out = append(out, fmt.Sprintf("ips/ipv4/%s=%s", svc.Spec.ClusterIP, holder),
			fmt.Sprintf("nodeports/%d=%s", svc.Spec.Ports[0].NodePort, holder))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
