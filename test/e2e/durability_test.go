package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/internal/kubeconfig"
)

// TestKillDuringWritesLosesNothingAcknowledged kills `svcplane up` with
// SIGKILL in the middle of a write loop, starts it again, and checks that
// every write the API acknowledged is there.
func TestKillDuringWritesLosesNothingAcknowledged(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	p := startUp(t, dir, port, "--example=false")
	client := clientFor(t, p)
	var mu sync.Mutex
	var acked []string
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprintf("w%d-%d", w, i)
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"i": fmt.Sprint(i)}}
				if _, err := client.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
					return
				}
				mu.Lock()
				acked = append(acked, name)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(2 * time.Second)
	p.kill()
	cancel()
	wg.Wait()
	if len(acked) < 10 {
		t.Fatalf("only %d writes acknowledged before the kill", len(acked))
	}
	p = startUp(t, dir, port, "--example=false")
	l, err := clientFor(t, p).CoreV1().ConfigMaps("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, cm := range l.Items {
		have[cm.Name] = true
	}
	for _, name := range acked {
		if !have[name] {
			t.Fatalf("acknowledged write %s lost (%d acknowledged, %d stored)", name, len(acked), len(l.Items))
		}
	}
	t.Logf("%d acknowledged writes, all there after kill -9 and restart", len(acked))
}

func clientFor(t *testing.T, p *upProcess) kubernetes.Interface {
	t.Helper()
	rc, err := kubeconfig.RESTConfig(p.kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	rc.QPS, rc.Burst = 1000, 1000
	return kubernetes.NewForConfigOrDie(rc)
}
