package agent

import (
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// memLeases is an in-memory ImageLeases.
type memLeases struct {
	mu   sync.Mutex
	held map[string]string
}

func (l *memLeases) Lease(holder, ref string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held[holder] = ref
	return nil
}

func (l *memLeases) Release(holder string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.held, holder)
	return nil
}

func (l *memLeases) Holders() ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for h := range l.held {
		out = append(out, h)
	}
	slices.Sort(out)
	return out, nil
}

// TestAgentReleasesLeasesOfGonePods: leases left by containers of pods
// deleted while the agent was away are released when it starts again;
// those of the node's pods stay.
func TestAgentReleasesLeasesOfGonePods(t *testing.T) {
	live := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "live", Namespace: "default", UID: "uid-live"},
		Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "example.com/app:1"}}},
	}
	client := fake.NewSimpleClientset(live)
	leases := &memLeases{held: map[string]string{"uid-live_c": "example.com/app:1", "uid-gone_c": "example.com/app:1"}}
	startAgentWith(t, client, func(c *Config) { c.Leases = leases })
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := leases.Holders()
		if slices.Equal(got, []string{"uid-live_c"}) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease holders %v, want only uid-live_c", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
