package ui

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
)

//go:embed web
var webFS embed.FS

// RulesReader reads the proxy rules a node's kernel holds, for the
// address family of fam.
type RulesReader interface {
	ReadRules(node *corev1.Node, fam corev1.IPFamily) NodeRules
}

// Config configures the live view.
type Config struct {
	Client kubernetes.Interface
	// Rules reads each node's rules; nil reads none (the page says so).
	Rules RulesReader
	// Domain is the cluster's DNS domain (cluster.local when empty).
	Domain string
	// RulesEvery is how often the rules are read again for 5 s after
	// objects change (200 ms when zero: a pod's way leaves the page
	// within a second of its proxy's write even when a read takes a few
	// hundred ms under load); when nothing changes, every 5 s.
	RulesEvery time.Duration
	Logger     *slog.Logger
}

// Server serves the live view.
type Server struct {
	cfg Config
	hub *hub
	// changed wakes the model's loop: an object changed or a page came.
	changed chan struct{}
}

// New makes a live view server.
func New(cfg Config) *Server {
	if cfg.RulesEvery <= 0 {
		cfg.RulesEvery = 200 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, hub: newHub(), changed: make(chan struct{}, 1)}
}

// listers are the informers' caches Build reads.
type listers struct {
	services  corelisters.ServiceLister
	pods      corelisters.PodLister
	nodes     corelisters.NodeLister
	endpoints discoverylisters.EndpointSliceLister
}

// Serve watches the cluster and serves the page on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ls, err := s.startInformers(ctx, s.changed)
	if err != nil {
		ln.Close()
		return err
	}
	go s.watch(ctx, ls, s.changed)
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("live view: %w", err)
	}
	return nil
}

func (s *Server) startInformers(ctx context.Context, changed chan<- struct{}) (listers, error) {
	f := informers.NewSharedInformerFactory(s.cfg.Client, 0)
	poke := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { signal(changed) },
		UpdateFunc: func(any, any) { signal(changed) },
		DeleteFunc: func(any) { signal(changed) },
	}
	ls := listers{
		services:  f.Core().V1().Services().Lister(),
		pods:      f.Core().V1().Pods().Lister(),
		nodes:     f.Core().V1().Nodes().Lister(),
		endpoints: f.Discovery().V1().EndpointSlices().Lister(),
	}
	for _, inf := range []cache.SharedIndexInformer{
		f.Core().V1().Services().Informer(), f.Core().V1().Pods().Informer(),
		f.Core().V1().Nodes().Informer(), f.Discovery().V1().EndpointSlices().Informer(),
	} {
		if _, err := inf.AddEventHandler(poke); err != nil {
			return ls, err
		}
	}
	f.Start(ctx.Done())
	go func() { <-ctx.Done(); f.Shutdown() }()
	return ls, nil
}

func signal(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// rulesWindow is how long after a change the rules are read every
// RulesEvery (the proxies write theirs a moment after the objects
// change, seconds under load); outside it they are read every
// rulesWindow.
const rulesWindow = 5 * time.Second

// watch rebuilds the model at each change, and, while a page watches,
// reads the nodes' rules every RulesEvery within rulesWindow of a change,
// else every rulesWindow.
func (s *Server) watch(ctx context.Context, ls listers, changed <-chan struct{}) {
	tick := time.NewTicker(s.cfg.RulesEvery)
	defer tick.Stop()
	var rules map[string]NodeRules
	var lastChange, lastRead time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
			lastChange = time.Now()
			s.publish(ls, rules)
		case now := <-tick.C:
			if !s.hub.watched() || now.Sub(lastChange) > rulesWindow && now.Sub(lastRead) < rulesWindow {
				continue
			}
			rules, lastRead = s.readRules(ls), now
			s.publish(ls, rules)
		}
	}
}

// readRules reads every node's rules, for each family its Services use.
func (s *Server) readRules(ls listers) map[string]NodeRules {
	nodes, _ := ls.nodes.List(labels.Everything())
	out := map[string]NodeRules{}
	if s.cfg.Rules == nil {
		for _, n := range nodes {
			out[n.Name] = NodeRules{Err: errors.New("this live view reads no node's rules")}
		}
		return out
	}
	fams := serviceFamilies(ls)
	for _, n := range nodes {
		var nr NodeRules
		for _, fam := range fams {
			r := s.cfg.Rules.ReadRules(n, fam)
			nr.Modes = append(nr.Modes, r.Modes...)
			nr.Err = errors.Join(nr.Err, r.Err)
		}
		out[n.Name] = nr
	}
	return out
}

// serviceFamilies are the families of the Services' cluster IPs (IPv4
// when there is none).
func serviceFamilies(ls listers) []corev1.IPFamily {
	svcs, _ := ls.services.List(labels.Everything())
	v6 := false
	for _, svc := range svcs {
		for _, f := range svc.Spec.IPFamilies {
			v6 = v6 || f == corev1.IPv6Protocol
		}
	}
	if v6 {
		return []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
	}
	return []corev1.IPFamily{corev1.IPv4Protocol}
}

func (s *Server) publish(ls listers, rules map[string]NodeRules) {
	in := Input{Rules: rules, Domain: s.cfg.Domain}
	in.Services, _ = ls.services.List(labels.Everything())
	in.Pods, _ = ls.pods.List(labels.Everything())
	in.Nodes, _ = ls.nodes.List(labels.Everything())
	in.Slices, _ = ls.endpoints.List(labels.Everything())
	data, err := json.Marshal(Build(in))
	if err != nil {
		s.cfg.Logger.Error("live view model", "err", err)
		return
	}
	s.hub.set(data)
}

// Handler serves the page, its assets, /api/model (the model as JSON)
// and /api/events (the model at each change, as Server-Sent Events).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	web, _ := fs.Sub(webFS, "web")
	mux.Handle("GET /", http.FileServerFS(web))
	mux.HandleFunc("GET /api/model", s.serveModel)
	mux.HandleFunc("GET /api/events", s.serveEvents)
	return mux
}

func (s *Server) serveModel(w http.ResponseWriter, _ *http.Request) {
	data, _ := s.hub.get()
	if data == nil {
		http.Error(w, "the cluster's objects are not read yet", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(data)
}

func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	defer s.hub.watch()()
	signal(s.changed)
	for {
		// The channel closes only when newer data comes: each pass sends
		// new data.
		data, changed := s.hub.get()
		if data != nil {
			if _, err := fmt.Fprintf(w, "data: %s\n\n", data); err != nil {
				return
			}
			flusher.Flush()
		}
		select {
		case <-r.Context().Done():
			return
		case <-changed:
		}
	}
}
