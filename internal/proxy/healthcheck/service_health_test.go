package healthcheck

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"
)

// loopback opens every requested listener on 127.0.0.1 with a free port
// and remembers where each request went.
type loopback struct {
	mu    sync.Mutex
	addrs map[string]string // requested -> actual
	fail  map[string]bool
}

func (l *loopback) listen(network, addr string) (net.Listener, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail[addr] {
		return nil, errors.New("address already in use")
	}
	ln, err := net.Listen(network, "127.0.0.1:0")
	if err == nil {
		l.addrs[addr] = ln.Addr().String()
	}
	return ln, err
}

func (l *loopback) url(addr string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return "http://" + l.addrs[addr] + "/"
}

type reply struct {
	Code         int
	Weight, Body string
}

func fetch(t *testing.T, url string) reply {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", resp.Header)
	}
	return reply{resp.StatusCode, resp.Header.Get("X-Load-Balancing-Endpoint-Weight"), string(body)}
}

type unhealthy struct{}

func (unhealthy) Healthy() bool { return false }

func TestServiceHealth(t *testing.T) {
	ns1 := types.NamespacedName{Namespace: "ns1", Name: "svc1"}
	tests := []struct {
		name      string
		endpoints map[types.NamespacedName]int
		proxy     ProxyHealthChecker
		want      reply
	}{
		{"local endpoints", map[types.NamespacedName]int{ns1: 2}, nil, reply{200, "2",
			"{\n\t\"service\": {\n\t\t\"namespace\": \"ns1\",\n\t\t\"name\": \"svc1\"\n\t},\n\t\"localEndpoints\": 2,\n\t\"serviceProxyHealthy\": true\n}"}},
		{"no local endpoints", map[types.NamespacedName]int{ns1: 0}, nil, reply{503, "0",
			"{\n\t\"service\": {\n\t\t\"namespace\": \"ns1\",\n\t\t\"name\": \"svc1\"\n\t},\n\t\"localEndpoints\": 0,\n\t\"serviceProxyHealthy\": true\n}"}},
		{"missing from endpoints", map[types.NamespacedName]int{}, nil, reply{503, "0",
			"{\n\t\"service\": {\n\t\t\"namespace\": \"ns1\",\n\t\t\"name\": \"svc1\"\n\t},\n\t\"localEndpoints\": 0,\n\t\"serviceProxyHealthy\": true\n}"}},
		{"proxy unhealthy", map[types.NamespacedName]int{ns1: 1}, unhealthy{}, reply{503, "1",
			"{\n\t\"service\": {\n\t\t\"namespace\": \"ns1\",\n\t\t\"name\": \"svc1\"\n\t},\n\t\"localEndpoints\": 1,\n\t\"serviceProxyHealthy\": false\n}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lb := &loopback{addrs: map[string]string{}}
			s := NewServiceHealth(ServiceHealthConfig{Listen: lb.listen, Proxy: tt.proxy})
			defer s.Close()
			if err := s.SyncServices(map[types.NamespacedName]uint16{ns1: 30000}); err != nil {
				t.Fatal(err)
			}
			if err := s.SyncEndpoints(tt.endpoints); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, fetch(t, lb.url(":30000"))); d != "" {
				t.Errorf("reply (-want +got):\n%s", d)
			}
		})
	}
}

func TestServiceHealthSync(t *testing.T) {
	a := types.NamespacedName{Namespace: "ns", Name: "a"}
	b := types.NamespacedName{Namespace: "ns", Name: "b"}
	lb := &loopback{addrs: map[string]string{}}
	s := NewServiceHealth(ServiceHealthConfig{Listen: lb.listen,
		Addresses: []netip.Addr{netip.MustParseAddr("192.168.1.10"), netip.MustParseAddr("fd00::10")}})
	defer s.Close()
	if err := s.SyncServices(map[types.NamespacedName]uint16{a: 30000, b: 30001}); err != nil {
		t.Fatal(err)
	}
	s.SyncEndpoints(map[types.NamespacedName]int{a: 1, b: 3})
	for _, addr := range []string{"192.168.1.10:30000", "[fd00::10]:30000", "192.168.1.10:30001", "[fd00::10]:30001"} {
		if got := fetch(t, lb.url(addr)); got.Code != 200 {
			t.Errorf("%s answered %d", addr, got.Code)
		}
	}
	oldB := lb.url("192.168.1.10:30001")
	// b moves to another port, a is unchanged.
	if err := s.SyncServices(map[types.NamespacedName]uint16{a: 30000, b: 30005}); err != nil {
		t.Fatal(err)
	}
	s.SyncEndpoints(map[types.NamespacedName]int{a: 1, b: 3})
	if _, err := http.Get(oldB); err == nil {
		t.Errorf("old port of b still answers")
	}
	if got := fetch(t, lb.url("192.168.1.10:30005")); got.Weight != "3" {
		t.Errorf("b on its new port: %+v", got)
	}
	// Removing b closes it; a keeps answering.
	if err := s.SyncServices(map[types.NamespacedName]uint16{a: 30000}); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(lb.url("192.168.1.10:30005")); err == nil {
		t.Errorf("removed b still answers")
	}
	if got := fetch(t, lb.url("[fd00::10]:30000")); got.Code != 200 {
		t.Errorf("a answered %d after b left", got.Code)
	}
}

func TestServiceHealthListenFailure(t *testing.T) {
	a := types.NamespacedName{Namespace: "ns", Name: "a"}
	b := types.NamespacedName{Namespace: "ns", Name: "b"}
	lb := &loopback{addrs: map[string]string{}, fail: map[string]bool{"192.168.1.10:30001": true}}
	s := NewServiceHealth(ServiceHealthConfig{Listen: lb.listen, Addresses: []netip.Addr{netip.MustParseAddr("192.168.1.10")}})
	defer s.Close()
	err := s.SyncServices(map[types.NamespacedName]uint16{a: 30000, b: 30001})
	if err == nil {
		t.Fatal("SyncServices succeeded with a port in use")
	}
	s.SyncEndpoints(map[types.NamespacedName]int{a: 1})
	if got := fetch(t, lb.url("192.168.1.10:30000")); got.Code != 200 {
		t.Errorf("a answered %d", got.Code)
	}
	// The next sync retries b.
	delete(lb.fail, "192.168.1.10:30001")
	if err := s.SyncServices(map[types.NamespacedName]uint16{a: 30000, b: 30001}); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got := fetch(t, lb.url("192.168.1.10:30001")); got.Code != 503 {
		t.Errorf("b answered %d, want 503 (no endpoints yet)", got.Code)
	}
}

func TestServiceHealthRealListen(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	name := types.NamespacedName{Namespace: "default", Name: "web"}
	s := NewServiceHealth(ServiceHealthConfig{Addresses: []netip.Addr{netip.MustParseAddr("127.0.0.1")}})
	if err := s.SyncServices(map[types.NamespacedName]uint16{name: uint16(port)}); err != nil {
		t.Skipf("port %d taken meanwhile: %v", port, err)
	}
	s.SyncEndpoints(map[types.NamespacedName]int{name: 1})
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	if got := fetch(t, url); got.Code != 200 || got.Weight != "1" {
		t.Errorf("got %+v", got)
	}
	s.Close()
	if _, err := http.Get(url); err == nil {
		t.Error("still answering after Close")
	}
}
