package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	"github.com/svcplane/svcplane/bench/internal/benchutil"
	"github.com/svcplane/svcplane/internal/app"
	"github.com/svcplane/svcplane/internal/controller/endpoints"
	"github.com/svcplane/svcplane/internal/controller/endpointslice"
	"github.com/svcplane/svcplane/internal/controller/mirroring"
	"github.com/svcplane/svcplane/internal/kubeconfig"
)

// bench is an API server with the endpoint controllers running against
// it through a write-counting client, and a separate client for the
// benchmark's own requests.
type bench struct {
	client kubernetes.Interface // the benchmark's
	writes *writeCounter        // the controllers'
	rc     *rest.Config
	wg     sync.WaitGroup
	ctx    context.Context
	stop   func()
}

// startBench starts the API server; startControllers the controllers.
func startBench(ctx context.Context) (*bench, error) {
	dir, err := os.MkdirTemp("", "svcplane-bench-controllers")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	srv, err := app.StartAPIServer(ctx, app.APIServerConfig{DataDir: dir, Port: 0, Logger: benchutil.Quiet(), DisableAdmission: []string{"ServiceAccount"}})
	if err != nil {
		cancel()
		return nil, err
	}
	b := &bench{writes: newWriteCounter(), ctx: ctx}
	b.stop = func() { cancel(); b.wg.Wait(); <-srv.Done; os.RemoveAll(dir) }
	rc, err := kubeconfig.RESTConfig(srv.AdminKubeconfig)
	if err != nil {
		b.stop()
		return nil, err
	}
	rc.QPS, rc.Burst = 100000, 100000
	if b.client, err = kubernetes.NewForConfig(rc); err != nil {
		b.stop()
		return nil, err
	}
	b.rc = rc
	return b, nil
}

// startControllers runs the controllers until the bench stops.
func (b *bench) startControllers(workers int) error {
	runs, err := controllers(b.ctx, b.counted(b.rc), workers)
	if err != nil {
		return err
	}
	for _, run := range runs {
		b.wg.Go(func() { run(b.ctx) })
	}
	return nil
}

// counted returns a client whose writes the counter sees.
func (b *bench) counted(rc *rest.Config) kubernetes.Interface {
	rc = rest.CopyConfig(rc)
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &countingTransport{next: rt, c: b.writes} })
	return kubernetes.NewForConfigOrDie(rc)
}

// controllers builds the three controllers over one informer factory,
// which it starts.
func controllers(ctx context.Context, client kubernetes.Interface, workers int) ([]func(context.Context), error) {
	f := informers.NewSharedInformerFactory(client, 0)
	bc := record.NewBroadcaster(record.WithContext(ctx))
	bc.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	rec := func(name string) record.EventRecorder {
		return bc.NewRecorder(scheme.Scheme, corev1.EventSource{Component: name})
	}
	ep, err := endpoints.New(endpoints.Config{Client: client, Informers: f, Recorder: rec(endpoints.Name), Logger: benchutil.Quiet(), Workers: workers})
	if err != nil {
		return nil, err
	}
	es, err := endpointslice.New(endpointslice.Config{Client: client, Informers: f, Recorder: rec(endpointslice.Name), Logger: benchutil.Quiet(), Workers: workers})
	if err != nil {
		return nil, err
	}
	mir, err := mirroring.New(mirroring.Config{Client: client, Informers: f, Recorder: rec(mirroring.Name), Logger: benchutil.Quiet(), Workers: workers})
	if err != nil {
		return nil, err
	}
	f.Start(ctx.Done())
	return []func(context.Context){ep.Run, es.Run, mir.Run}, nil
}

// writeCounter counts write requests by "verb resource".
type writeCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func newWriteCounter() *writeCounter { return &writeCounter{counts: map[string]int{}} }

func (w *writeCounter) add(key string) {
	w.mu.Lock()
	w.counts[key]++
	w.mu.Unlock()
}

// take returns the counts so far and starts again from zero.
func (w *writeCounter) take() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.counts
	w.counts = map[string]int{}
	return out
}

func (w *writeCounter) total() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, c := range w.counts {
		n += c
	}
	return n
}

type countingTransport struct {
	next http.RoundTripper
	c    *writeCounter
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if verb := writeVerb(req.Method); verb != "" {
		t.c.add(verb + " " + resourceOf(req.URL.Path))
	}
	return t.next.RoundTrip(req)
}

// writeVerb names the API verb of a writing HTTP method, "" for reads.
func writeVerb(method string) string {
	switch method {
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		return "delete"
	}
	return ""
}

// resourceOf finds the resource in /api/v1/namespaces/ns/<resource>/...
// or /apis/<group>/<version>/namespaces/ns/<resource>/....
func resourceOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range parts {
		if p == "namespaces" && i+2 < len(parts) {
			return parts[i+2]
		}
	}
	return fmt.Sprint(parts)
}
