package userspace

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy/proxytest"
	"github.com/svcplane/svcplane/internal/proxy/tracer"
)

var three = []string{"127.0.0.2:8080", "127.0.0.3:8080", "127.0.0.4:8080"}

func serveThree(t *testing.T) {
	for _, a := range three {
		serveTCP(t, a)
	}
}

// TestSchedulers: rr takes the endpoints in turn, sh keeps a client on
// one endpoint, lc takes the endpoint with the fewest open connections.
func TestSchedulers(t *testing.T) {
	needNetns(t)
	serveThree(t)
	b := newTestBackend(t, Config{})
	mustSync(t, b, state(nil,
		port{name: "rr", ip: "10.96.0.1", port: 80, eps: three},
		port{name: "sh", ip: "10.96.0.2", port: 80, eps: three, sched: "sh"},
		port{name: "lc", ip: "10.96.0.3", port: 80, eps: three, sched: "lc"},
	))
	t.Run("rr", func(t *testing.T) {
		got := greetings(t, "10.96.0.1:80", "", 30)
		for _, a := range three {
			if got[a] != 10 {
				t.Errorf("rr: want 10 connections on each endpoint, got %v", got)
			}
		}
	})
	t.Run("sh", func(t *testing.T) {
		seen := map[string]bool{}
		for _, src := range []string{"127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.1.4", "127.0.1.5", "127.0.1.6"} {
			got := greetings(t, "10.96.0.2:80", src, 5)
			if len(got) != 1 {
				t.Errorf("sh: client %s went to %v", src, got)
			}
			for a := range got {
				seen[a] = true
			}
		}
		if len(seen) < 2 {
			t.Errorf("sh: 6 clients all hashed to %v", seen)
		}
	})
	t.Run("lc", func(t *testing.T) {
		var open []*conn
		for range 3 {
			c, err := dial("10.96.0.3:80", "")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			open = append(open, c)
		}
		// Close the one on the second endpoint; with one open connection
		// on each of the others, every new one goes there while it is
		// held open.
		var freed string
		for _, c := range open {
			if c.Greeting == three[1] {
				freed = c.Greeting
				c.Close()
			}
		}
		if freed == "" {
			t.Fatalf("lc: three connections did not spread: %v", open)
		}
		waitFor(t, func() bool { return b.activeOn("ns/lc:p", three[1]) == 0 })
		c, err := dial("10.96.0.3:80", "")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if c.Greeting != freed {
			t.Errorf("lc: got %s, want the idle endpoint %s", c.Greeting, freed)
		}
	})
}

// activeOn is the count of open connections to endpoint of service.
func (b *Backend) activeOn(service, endpoint string) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	for n, svc := range b.services {
		if n.String() == service {
			for ap, ep := range svc.eps {
				if ap.String() == endpoint {
					return ep.active.Load()
				}
			}
		}
	}
	return -1
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAffinity: with ClientIP affinity, rr keeps each client on the
// endpoint it got first.
func TestAffinity(t *testing.T) {
	needNetns(t)
	serveThree(t)
	b := newTestBackend(t, Config{})
	mustSync(t, b, state(nil, port{name: "sticky", ip: "10.96.0.1", port: 80, eps: three, affinity: 10800}))
	seen := map[string]bool{}
	for _, src := range []string{"127.0.1.1", "127.0.1.2", "127.0.1.3"} {
		got := greetings(t, "10.96.0.1:80", src, 10)
		if len(got) != 1 {
			t.Errorf("client %s went to %v", src, got)
		}
		for a := range got {
			seen[a] = true
		}
	}
	if len(seen) != 3 {
		t.Errorf("three clients should start on three endpoints under rr, got %v", seen)
	}
}

// TestRetryOnRefused: an endpoint that refuses is skipped; the client
// never notices.
func TestRetryOnRefused(t *testing.T) {
	needNetns(t)
	serveTCP(t, "127.0.0.2:8080")
	b := newTestBackend(t, Config{})
	mustSync(t, b, state(nil, port{name: "half", ip: "10.96.0.1", port: 80, eps: []string{"127.0.0.2:8080", "127.0.0.9:8080"}}))
	got := greetings(t, "10.96.0.1:80", "", 20)
	if got["127.0.0.2:8080"] != 20 {
		t.Errorf("want every connection on the live endpoint, got %v", got)
	}
}

// TestNoEndpoints: a service port without endpoints is refused at once;
// one whose only endpoints are on other nodes resets outside traffic to
// its Local-policy NodePort.
func TestNoEndpoints(t *testing.T) {
	needNetns(t)
	serveTCP(t, "127.0.0.2:8080")
	b := newTestBackend(t, Config{})
	mustSync(t, b, state(nil,
		port{name: "empty", ip: "10.96.0.1", port: 80},
		port{name: "remote", ip: "10.96.0.2", port: 80, nodePort: 30080, extLocal: true, eps: []string{"127.0.0.2:8080"}},
	))
	start := time.Now()
	_, err := dial("10.96.0.1:80", "")
	if !errors.Is(err, syscall.ECONNREFUSED) || time.Since(start) > time.Second {
		t.Errorf("no endpoints: got %v after %v, want connection refused at once", err, time.Since(start))
	}
	// From the node itself the Cluster endpoints serve.
	if c, err := dial("192.168.0.2:30080", "192.168.0.2"); err != nil {
		t.Errorf("node to Local NodePort: %v", err)
	} else {
		c.Close()
	}
	if c, err := dial("10.96.0.2:80", ""); err != nil {
		t.Errorf("cluster IP of a Local-policy service: %v", err)
	} else {
		c.Close()
	}
}

// TestUDP: a client's datagrams go to one endpoint while its session
// lives; the session ends after the idle timeout.
func TestUDP(t *testing.T) {
	needNetns(t)
	for _, a := range three {
		serveUDP(t, a)
	}
	b := newTestBackend(t, Config{UDPIdleTimeout: 300 * time.Millisecond})
	mustSync(t, b, state(nil, port{name: "dns", proto: corev1.ProtocolUDP, ip: "10.96.0.10", port: 53, eps: three}))
	c, err := net.Dial("udp4", "10.96.0.10:53")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ask := func() string {
		c.SetDeadline(time.Now().Add(2 * time.Second))
		c.Write([]byte("?"))
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		if err != nil {
			return err.Error()
		}
		return string(buf[:n])
	}
	first := ask()
	for range 5 {
		if got := ask(); got != first {
			t.Fatalf("one session, two endpoints: %s then %s", first, got)
		}
	}
	if n := b.conns.len(); n != 1 {
		t.Errorf("want 1 session, have %d", n)
	}
	waitFor(t, func() bool { return b.conns.len() == 0 })
	if got := ask(); got == first || !strings.HasPrefix(got, "127.0.0.") {
		t.Errorf("after the idle timeout a new session should take the next endpoint: %s then %s", first, got)
	}
}

// TestPartialSyncKeepsConnections: an endpoint change keeps the listener
// and established connections; removing the Service closes its listener
// (its address goes, so its connections stall); Cleanup closes everything
// and removes the interface.
func TestPartialSyncKeepsConnections(t *testing.T) {
	needNetns(t)
	serveThree(t)
	b := newTestBackend(t, Config{})
	other := port{name: "other", ip: "10.96.0.2", port: 80, eps: three[2:]}
	mustSync(t, b, state(nil, port{name: "web", ip: "10.96.0.1", port: 80, eps: three[:1]}, other))
	c, err := dial("10.96.0.1:80", "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mustSync(t, b, state([]string{"web"}, port{name: "web", ip: "10.96.0.1", port: 80, eps: three[1:2]}, other))
	if got, err := c.echo("still"); got != "still" {
		t.Fatalf("established connection after an endpoint change: %q %v", got, err)
	}
	if got := greetings(t, "10.96.0.1:80", "", 3); got[three[1]] != 3 {
		t.Errorf("new connections should use the new endpoint: %v", got)
	}
	mustSync(t, b, state([]string{"web"}, other))
	if _, err := dial("10.96.0.1:80", ""); err == nil {
		t.Error("a removed Service still answers")
	}
	if got := greetings(t, "10.96.0.2:80", "", 2); got[three[2]] != 2 {
		t.Errorf("the untouched Service: %v", got)
	}
	c2, err := dial("10.96.0.2:80", "")
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := b.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	c2.SetDeadline(time.Now().Add(2 * time.Second))
	if got, err := c2.echo("after cleanup"); err == nil {
		t.Errorf("a connection survived Cleanup: %q", got)
	}
	if _, err := net.InterfaceByName(DefaultInterface); err == nil {
		t.Error("the interface survived Cleanup")
	}
	if n := b.conns.len(); n != 0 || len(b.listeners) != 0 {
		t.Errorf("after Cleanup: %d connections, %d listeners", n, len(b.listeners))
	}
}

// TestRules prints the listener table.
func TestRules(t *testing.T) {
	needNetns(t)
	b := newTestBackend(t, Config{})
	mustSync(t, b, state(nil, port{name: "web", ip: "10.96.0.1", port: 80, eps: three[:2], affinity: 60, nodePort: 30080}))
	out, err := b.Rules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"interface svcplane-us0: 1 addresses 10.96.0.1",
		"10.96.0.1:80      TCP    ns/web:p  cluster-ip  rr     ClientIP 60s  127.0.0.2:8080(0) 127.0.0.3:8080(0)",
		"192.168.0.2:30080  TCP",
	} {
		if !strings.Contains(out, strings.Join(strings.Fields(want), " ")) && !strings.Contains(squash(out), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("rules lack %q:\n%s", want, out)
		}
	}
	// Another backend of the namespace (`svcplane proxy rules`) asks this one.
	fresh, _ := New(Config{})
	got, err := fresh.Rules(context.Background())
	if err != nil || squash(got) != squash(out) {
		t.Errorf("rules through the socket: %v\n%s", err, got)
	}
}

func squash(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(lines, "\n")
}

// TestTracerOverall traces the shared cases through what the backend
// serves for the shared fixtures. Userspace differs from the kernel modes
// in one way only: every connection it relays comes from the node's
// address (Masq), since the proxy opens it.
func TestTracerOverall(t *testing.T) {
	needNetns(t)
	b := newTestBackend(t, Config{})
	mustSync(t, b, proxytest.OverallState())
	cases := proxytest.OverallCases()
	for i, c := range cases {
		if o := c.Want.Output; o != tracer.Drop && o != tracer.Reject && o != tracer.None {
			cases[i].Want.Masq = true
		}
	}
	tracer.Run(t, b.Tracer(), cases)
}

// TestHandover: the next userspace backend of a live configuration change
// syncs beside the running one; after Handover it serves new connections
// alone while the old backend's established connection runs on.
func TestHandover(t *testing.T) {
	needNetns(t)
	serveThree(t)
	old := newTestBackend(t, Config{})
	st := state(nil, port{name: "web", ip: "10.96.0.1", port: 80, eps: three, nodePort: 30080})
	mustSync(t, old, st)
	c, err := dial("10.96.0.1:80", "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	next := newTestBackend(t, Config{Scheduler: "sh"})
	mustSync(t, next, st)
	if err := old.Handover(context.Background(), "userspace"); err != nil {
		t.Fatal(err)
	}
	if got, err := c.echo("kept"); got != "kept" {
		t.Errorf("established connection after Handover: %q %v", got, err)
	}
	if got := greetings(t, "10.96.0.1:80", "", 6); len(got) != 1 {
		t.Errorf("the next backend (sh) should serve one client from one endpoint: %v", got)
	}
	if _, err := net.InterfaceByName(DefaultInterface); err != nil {
		t.Errorf("the interface went with Handover: %v", err)
	}
}
