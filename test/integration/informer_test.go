package integration

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	clientfeatures "k8s.io/client-go/features"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/svcplane/svcplane/internal/app"
)

// gates switches client-go's WatchListClient feature for one test.
type gates struct {
	clientfeatures.Gates
	watchList bool
}

func (g gates) Enabled(f clientfeatures.Feature) bool {
	if f == clientfeatures.WatchListClient {
		return g.watchList
	}
	return g.Gates.Enabled(f)
}

func TestInformerSyncsAndFollows(t *testing.T) {
	for _, watchList := range []bool{true, false} {
		t.Run(fmt.Sprintf("watchList=%v", watchList), func(t *testing.T) {
			old := clientfeatures.FeatureGates()
			clientfeatures.ReplaceFeatureGates(gates{Gates: old, watchList: watchList})
			defer clientfeatures.ReplaceFeatureGates(old)
			c := startCluster(t)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			createConfigMaps(t, c, "before", 5)
			seen := runInformer(ctx, t, c)
			waitFor(t, "initial configmaps", func() bool { return len(seen()) >= 5 })
			createConfigMaps(t, c, "after", 3)
			waitFor(t, "later configmaps", func() bool { return len(seen()) >= 8 })
		})
	}
}

func createConfigMaps(t *testing.T, c *cluster, prefix string, n int) {
	t.Helper()
	for i := range n {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: prefix + "-" + strconv.Itoa(i)}}
		if _, err := c.Client.CoreV1().ConfigMaps("default").Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// runInformer starts a configmap informer and returns a func listing the
// names in its cache.
func runInformer(ctx context.Context, t *testing.T, c *cluster) func() []string {
	t.Helper()
	factory := informers.NewSharedInformerFactory(c.Client, 0)
	inf := factory.Core().V1().ConfigMaps().Informer()
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("informer did not sync")
	}
	return func() []string { return inf.GetStore().ListKeys() }
}

// inNamespace keeps the namespace/name keys of one namespace.
func inNamespace(keys []string, ns string) []string {
	var out []string
	for _, k := range keys {
		if strings.HasPrefix(k, ns+"/") {
			out = append(out, k)
		}
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCompactedWatchIsGoneAndInformerRecovers(t *testing.T) {
	c := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	createConfigMaps(t, c, "a", 1)
	seen := runInformer(ctx, t, c)
	createConfigMaps(t, c, "b", 5)
	rev, err := c.Server.Storage.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Server.Storage.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	// A watch from before the compaction ends with 410 Gone, from a
	// server whose watch cache started after it (a cache that still holds
	// the revision's events serves them, as kube-apiserver's does).
	second := adminClient(t, startSecondAPIServer(t, c.Cluster, app.ClusterConfig{}).AdminKubeconfig)
	body, err := second.CoreV1().RESTClient().Get().AbsPath("/api/v1/namespaces/default/configmaps").
		Param("watch", "true").Param("timeoutSeconds", "2").Param("resourceVersion", "1").SetHeader("Accept", "application/json").DoRaw(ctx)
	if err != nil || !strings.Contains(string(body), `"type":"ERROR"`) || !strings.Contains(string(body), `"code":410`) {
		t.Fatalf("watch from a compacted revision: %v %s", err, body)
	}
	createConfigMaps(t, c, "c", 2)
	// Only default's: the server publishes kube-public/cluster-info on its own.
	waitFor(t, "informer to follow after compaction", func() bool { return len(inNamespace(seen(), "default")) == 8 })
	w, err := c.Client.CoreV1().ConfigMaps("default").Watch(ctx, metav1.ListOptions{ResourceVersion: strconv.FormatInt(rev, 10)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	createConfigMaps(t, c, "d", 1)
	ev := <-w.ResultChan()
	if ev.Type != watch.Added {
		t.Fatalf("watch from the compaction revision: %v", ev)
	}
}
