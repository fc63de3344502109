package images

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// nettestState is agnhost nettest's state, served as JSON by /read.
type nettestState struct {
	Hostname             string
	Sent                 map[string]int
	Received             map[string]int
	Errors               []string
	Log                  []string
	StillContactingPeers bool

	mu    sync.Mutex
	peers int
	scope string // namespace/service, for the failure log
}

// nettestWrite is the body other pods POST to /write.
type nettestWrite struct{ Source, Dest string }

// runNettest is agnhost nettest: a web server on --port with /read (the
// state), /write (peers and preStop hooks register here), /status
// (pass, running or fail) and /quit; it posts to every endpoint of
// --service through the API.
func runNettest(ctx context.Context, s stdio, args []string) error {
	fs := agnhostFlags(s, "nettest")
	port := fs.Int("port", 8080, "Port number to serve at.")
	peers := fs.Int("peers", 8, "Must find at least this many peers for the test to pass.")
	service := fs.String("service", "nettest", "Service to find other network test pods in.")
	namespace := fs.String("namespace", "default", "Namespace of this pod. TODO: kubernetes should make this discoverable.")
	delay := fs.Int("delay-shutdown", 0, "Number of seconds to delay shutdown when receiving SIGTERM.")
	if err := parseFlags(s, fs, args); err != nil {
		return err
	}
	if *service == "" {
		return fmt.Errorf("Must provide -service flag.") //nolint:staticcheck // upstream's text
	}
	lg := logger(s)
	st := &nettestState{Hostname: hostname(), StillContactingPeers: true, peers: *peers, scope: *namespace + "/" + *service}
	srvCtx, stop := context.WithCancel(context.Background())
	defer stop()
	quit := make(chan struct{}, 1)
	go st.contactOthers(srvCtx, lg, *namespace, *service)
	errc := make(chan error, 1)
	go func() { errc <- serveHTTP(srvCtx, fmt.Sprintf(":%d", *port), st.mux(quit)) }()
	select {
	case err := <-errc:
		return err
	case <-quit:
		return nil
	case <-ctx.Done():
		if *delay > 0 {
			lg.Printf("Sleeping %d seconds before exit ...", *delay)
			time.Sleep(time.Duration(*delay) * time.Second)
		}
		return nil
	}
}

func (st *nettestState) mux(quit chan<- struct{}) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		select {
		case quit <- struct{}{}:
		default:
		}
	})
	mux.HandleFunc("/read", st.serveRead)
	mux.HandleFunc("/write", st.serveWrite)
	mux.HandleFunc("/status", st.serveStatus)
	return mux
}

func (st *nettestState) serveStatus(w http.ResponseWriter, r *http.Request) {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case len(st.Sent) >= st.peers && len(st.Received) >= st.peers:
		fmt.Fprint(w, "pass")
	case st.StillContactingPeers:
		fmt.Fprint(w, "running")
	default:
		st.logLocked("Declaring failure for %s with %d sent and %d received and %d peers", st.scope, len(st.Sent), len(st.Received), st.peers)
		fmt.Fprint(w, "fail")
	}
}

func (st *nettestState) serveRead(w http.ResponseWriter, r *http.Request) {
	st.mu.Lock()
	defer st.mu.Unlock()
	b, err := json.MarshalIndent(st, "", "\t")
	st.appendErr(err)
	_, _ = w.Write(b)
}

func (st *nettestState) serveWrite(w http.ResponseWriter, r *http.Request) {
	defer r.Body.Close()
	st.mu.Lock()
	defer st.mu.Unlock()
	var wp nettestWrite
	st.appendErr(json.NewDecoder(r.Body).Decode(&wp))
	if wp.Source == "" {
		st.appendErr(fmt.Errorf("%v: Got request with no source", st.Hostname))
	} else {
		if st.Received == nil {
			st.Received = map[string]int{}
		}
		st.Received[wp.Source]++
	}
	st.appendErr(json.NewEncoder(w).Encode(struct{ Hostname string }{st.Hostname}))
}

func (st *nettestState) appendErr(err error) {
	if err != nil {
		st.Errors = append(st.Errors, err.Error())
	}
}

func (st *nettestState) logf(format string, args ...any) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.logLocked(format, args...)
}

// logLocked keeps the last 500 messages.
func (st *nettestState) logLocked(format string, args ...any) {
	st.Log = append(st.Log, fmt.Sprintf(format, args...))
	if len(st.Log) > 500 {
		st.Log = st.Log[1:]
	}
}

// contactOthers posts to /write of every endpoint of the service, 15
// rounds 5 s apart, once the API answers and the service has the peers.
func (st *nettestState) contactOthers(ctx context.Context, lg *log.Logger, namespace, service string) {
	defer func() {
		st.mu.Lock()
		st.StillContactingPeers = false
		st.mu.Unlock()
	}()
	cfg, err := rest.InClusterConfig()
	if err != nil {
		lg.Printf("Unable to create config; error: %v\n", err)
		return
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		lg.Printf("Unable to create client; error: %v\n", err)
		return
	}
	const sleep = 5 * time.Second
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if eps := st.endpoints(ctx, client, namespace, service); len(eps) >= st.peers {
			break
		}
		sleepCtx(ctx, sleep)
	}
	for i := 0; i < 15 && ctx.Err() == nil; i++ {
		for _, ep := range st.endpoints(ctx, client, namespace, service) {
			st.logf("Attempting to contact %s", ep)
			st.contact(ep)
		}
		sleepCtx(ctx, sleep)
	}
}

// endpoints are the service's endpoints as "http://ip:port".
func (st *nettestState) endpoints(ctx context.Context, c kubernetes.Interface, namespace, service string) []string {
	eps, err := c.CoreV1().Endpoints(namespace).Get(ctx, service, metav1.GetOptions{}) //nolint:staticcheck // upstream reads Endpoints
	if err != nil {
		st.logf("Unable to read the endpoints for %v/%v: %v.", namespace, service, err)
		return nil
	}
	set := map[string]bool{}
	for _, ss := range eps.Subsets {
		for _, a := range ss.Addresses {
			for _, p := range ss.Ports {
				set["http://"+net.JoinHostPort(a.IP, fmt.Sprint(p.Port))] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for e := range set {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

func (st *nettestState) contact(ep string) {
	body, _ := json.Marshal(nettestWrite{Dest: ep, Source: st.Hostname})
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Post(ep+"/write", "application/json", bytes.NewReader(body))
	if err != nil {
		st.logf("Warning: unable to contact the endpoint %q: %v", ep, err)
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		st.logf("Warning: unable to read response from '%v': '%v'", ep, err)
		return
	}
	var wr struct{ Hostname string }
	if err := json.Unmarshal(b, &wr); err != nil {
		st.logf("Warning: unable to unmarshal response (%v) from '%v': '%v'", string(b), ep, err)
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.Sent == nil {
		st.Sent = map[string]int{}
	}
	st.Sent[wr.Hostname]++
}
