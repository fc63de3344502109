package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/svcplane/svcplane/internal/proxy"
)

// syncBuffer is a log sink safe for the proxy's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestIPVSFallsBackToIPTables asks for ipvs where the (fake) kernel lacks
// it: one log line names what is missing, a Warning Event goes on the
// Node, and iptables mode runs.
func TestIPVSFallsBackToIPTables(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.1"}}}}
	client := fake.NewClientset(node)
	klog := &kernelLog{failing: map[proxy.Mode]bool{}}
	var logs syncBuffer
	cfg := ProxyConfig{
		KubeProxy: switchConfig(t, "ipvs"), Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		clearConntrack: noConntrack{}, switchWait: 3 * time.Second,
		newBackend: func(_ context.Context, m proxy.Mode, fam corev1.IPFamily, _ ProxyConfig) (proxy.Backend, error) {
			if m == proxy.ModeIPVS {
				return nil, fmt.Errorf("kernel has no IPVS (module ip_vs): %w", proxy.ErrUnavailable)
			}
			if fam != corev1.IPv4Protocol {
				return nil, proxy.ErrUnavailable
			}
			return &fakeSharedBackend{fakeModeBackend{mode: m, log: klog}}, nil
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runProxyWith(ctx, cfg, client) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("proxy: %v", err)
		}
	}()
	c := &switchCluster{client: client, log: klog}
	c.waitFor(t, "iptables sync")
	ev := waitEvent(t, client, "", ipvsUnavailableReason)
	if ev.Type != corev1.EventTypeWarning || ev.InvolvedObject.Kind != "Node" || ev.InvolvedObject.Name != "n1" ||
		!strings.Contains(ev.Message, "ip_vs") {
		t.Errorf("event %s %s/%s: %q", ev.Type, ev.InvolvedObject.Kind, ev.InvolvedObject.Name, ev.Message)
	}
	lines := 0
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "ipvs") && strings.Contains(l, "unavailable") {
			lines++
			if !strings.Contains(l, "ip_vs") {
				t.Errorf("the log line does not name what is missing: %s", l)
			}
		}
	}
	if lines != 1 {
		t.Errorf("%d log lines about ipvs being unavailable, want 1:\n%s", lines, logs.String())
	}
	if running := strings.Contains(logs.String(), `msg="proxy running" mode=iptables`); !running {
		t.Errorf("the proxy does not say it runs iptables mode:\n%s", logs.String())
	}
}

// waitEvent waits for an Event of reason in namespace ("" for all).
func waitEvent(t *testing.T, client *fake.Clientset, namespace, reason string) corev1.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		list, err := client.CoreV1().Events(namespace).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list.Items {
			if e.Reason == reason {
				return e
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s Event", reason)
	return corev1.Event{}
}
