package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/svcplane/svcplane/internal/proxy/tracer"
)

type fakeReader struct{ rules fakeRules }

func (f fakeReader) ReadRules(*corev1.Node, corev1.IPFamily) NodeRules {
	return NodeRules{Modes: []ModeRules{{Mode: "iptables", Explainer: f.rules}}}
}

// TestServeEvents: the page gets the model at once, and again within a
// second when a slice changes.
func TestServeEvents(t *testing.T) {
	ready := func(pod, ip string) ep { return ep{pod: pod, ip: ip, ready: true, serving: true} }
	client := fake.NewClientset(service("web"), node("n1", "10.240.0.2"),
		slice("web", "web-x", ready("web-a", "10.244.0.5"), ready("web-b", "10.244.0.6")))
	rules := fakeRules{"10.96.0.20:80": {way("10.244.0.5:8080", 0.5, "SVC", "SEP-A"), way("10.244.0.6:8080", 0.5, "SVC", "SEP-B")}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Client: client, Rules: fakeReader{rules}, RulesEvery: 50 * time.Millisecond})
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	resp, err := http.Get(base + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := bufio.NewReader(resp.Body)
	waitModel(t, events, func(m Model) bool { return endpointsWithRules(m) == 2 })

	sl := slice("web", "web-x", ready("web-a", "10.244.0.5"))
	start := time.Now()
	if _, err := client.DiscoveryV1().EndpointSlices("default").Update(ctx, sl, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitModel(t, events, func(m Model) bool { return len(m.Services[0].Slices[0].Endpoints) == 1 })
	if d := time.Since(start); d > time.Second {
		t.Errorf("the change reached the page after %s, want under 1s", d)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

func endpointsWithRules(m Model) int {
	n := 0
	for _, s := range m.Services {
		for _, sl := range s.Slices {
			for _, e := range sl.Endpoints {
				if len(e.Rules) > 0 {
					n++
				}
			}
		}
	}
	return n
}

// waitModel reads events until one's model satisfies ok (10 s at most).
func waitModel(t *testing.T, r *bufio.Reader, ok func(Model) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("events: %v (last %s)", err, last)
		}
		data, found := strings.CutPrefix(line, "data: ")
		if !found {
			continue
		}
		last = data
		var m Model
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		if ok(m) {
			return
		}
	}
	t.Fatalf("no model as wanted; last: %s", last)
}

// TestAssetsAreOurOwn: every asset is embedded and none loads anything
// from elsewhere.
func TestAssetsAreOurOwn(t *testing.T) {
	remote := regexp.MustCompile(`(src|href)\s*=\s*["'](https?:)?//|@import|url\(\s*["']?https?:|fetch\(\s*["']https?:`)
	err := fs.WalkDir(webFS, "web", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := webFS.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		if loc := remote.FindIndex(b); loc != nil {
			t.Errorf("%s loads from elsewhere: %q", path, b[loc[0]:loc[1]])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := New(Config{}).Handler()
	for _, p := range []string{"/", "/app.js", "/style.css", "/logo.svg"} {
		req, _ := http.NewRequest("GET", p, nil)
		w := &recorder{header: http.Header{}}
		rec.ServeHTTP(w, req)
		if w.code != 0 && w.code != http.StatusOK {
			t.Errorf("GET %s: %d", p, w.code)
		}
	}
}

type recorder struct {
	header http.Header
	code   int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(c int)           { r.code = c }

var (
	_ RulesReader      = fakeReader{}
	_ tracer.Explainer = fakeRules{}
)
