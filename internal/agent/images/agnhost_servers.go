package images

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// runServeHostname is agnhost serve-hostname: the hostname over HTTP
// (default), raw TCP or UDP on --port. It exits on SIGTERM, where
// upstream's serves on for 60 s "awaiting pod deletion": svcplane's
// tests expect a deleted backend gone at once (the traffic suite's
// scale to zero).
func runServeHostname(ctx context.Context, s stdio, args []string) error {
	fs := agnhostFlags(s, "serve-hostname")
	doTCP := fs.Bool("tcp", false, "Serve raw over TCP.")
	doUDP := fs.Bool("udp", false, "Serve raw over UDP.")
	doHTTP := fs.Bool("http", true, "Serve HTTP.")
	doClose := fs.Bool("close", false, "Close connection per each HTTP request.")
	port := fs.Int("port", 9376, "Port number.")
	if err := parseFlags(s, fs, args); err != nil {
		return err
	}
	if *doHTTP && (*doTCP || *doUDP) {
		return errors.New("Can't server TCP/UDP mode and HTTP mode at the same time") //nolint:staticcheck // upstream's text
	}
	lg := logger(s)
	host := hostname()
	srvCtx, stop := context.WithCancel(context.Background())
	defer stop()
	errc := make(chan error, 3)
	addr := fmt.Sprintf(":%d", *port)
	if *doTCP {
		go func() { errc <- serveTCPText(srvCtx, addr, lg, host) }()
	}
	if *doUDP {
		go func() {
			errc <- serveUDP(srvCtx, addr, 16, func(_ []byte, from net.Addr) []byte {
				lg.Printf("UDP request from %s", from)
				return []byte(host)
			})
		}()
	}
	if *doHTTP {
		go func() { errc <- serveHTTP(srvCtx, addr, hostnameHandler(lg, host, *doClose)) }()
	}
	lg.Printf("Serving on port %d.\n", *port)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if sig := signalOf(ctx); sig != nil {
		lg.Printf("Shutting down after receiving signal: %s.\n", sig)
	}
	return nil
}

func hostnameHandler(lg *log.Logger, host string, closeConn bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lg.Printf("HTTP request from %s", r.RemoteAddr)
		if closeConn {
			w.Header().Add("Connection", "close")
		}
		fmt.Fprint(w, host)
	})
}

// serveTCPText writes text to every TCP connection and closes it.
func serveTCPText(ctx context.Context, addr string, lg *log.Logger, text string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("Error from net.Listen(): %w", err) //nolint:staticcheck // upstream's text
	}
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("Error from Accept(): %w", err) //nolint:staticcheck // upstream's text
		}
		lg.Printf("TCP request from %s", c.RemoteAddr())
		_, _ = c.Write([]byte(text))
		c.Close()
	}
}

// serveUDP answers each datagram (read into a buffer of size bytes) with
// reply's result; a nil result sends nothing.
func serveUDP(ctx context.Context, addr string, size int, reply func(req []byte, from net.Addr) []byte) error {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	return serveUDPConn(ctx, pc, size, reply)
}

func serveUDPConn(ctx context.Context, pc net.PacketConn, size int, reply func(req []byte, from net.Addr) []byte) error {
	go func() { <-ctx.Done(); pc.Close() }()
	buf := make([]byte, size)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if out := reply(buf[:n], from); out != nil {
			_, _ = pc.WriteTo(out, from)
		}
	}
}

// serveHTTP serves h on addr until ctx ends.
func serveHTTP(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return serveHTTPListener(ctx, ln, h)
}

func serveHTTPListener(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Minute}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// firstError returns the first server's error, or nil when ctx ends.
func firstError(ctx context.Context, errc <-chan error) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
}

// runTestWebserver is agnhost test-webserver: the container's files over
// HTTP on --port (80).
func runTestWebserver(ctx context.Context, s stdio, args []string) error {
	fs := agnhostFlags(s, "test-webserver")
	port := fs.Int("port", 80, "Port number.")
	if err := parseFlags(s, fs, args); err != nil {
		return err
	}
	return serveHTTP(ctx, fmt.Sprintf(":%d", *port), testWebserverHandler("/"))
}

func testWebserverHandler(root string) http.Handler {
	files := http.StripPrefix("/", http.FileServer(http.Dir(root)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "private")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "DNT,X-Mx-ReqToken,Keep-Alive,User-Agent,X-Requested-With,Cache-Control,Content-Type")
		r.Header.Del("If-Modified-Since")
		files.ServeHTTP(w, r)
	})
}

// runLiveness is agnhost liveness: /healthz is healthy for 10 s, then
// answers 500; other endpoints emulate slow or broken servers. Port 8080.
func runLiveness(ctx context.Context, s stdio, args []string) error {
	if err := parseFlags(s, agnhostFlags(s, "liveness"), args); err != nil {
		return err
	}
	return serveHTTP(ctx, ":8080", livenessMux(time.Now()))
}

func livenessMux(started time.Time) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/started", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, time.Since(started).String())
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if d := time.Since(started); d.Seconds() > 10 {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "error: %v", d.Seconds())
			return
		}
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		loc, err := url.QueryUnescape(r.URL.Query().Get("loc"))
		if err != nil {
			http.Error(w, fmt.Sprintf("invalid redirect: %q", r.URL.Query().Get("loc")), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, loc, http.StatusFound)
	})
	mux.HandleFunc("/sleep-headers", livenessSleepHeaders)
	mux.HandleFunc("/sleep-body", livenessSleepBody)
	mux.HandleFunc("/slow-response", func(w http.ResponseWriter, r *http.Request) {
		if p, ok := livenessParams(w, r); ok {
			w.WriteHeader(p.code)
			writeRandomBody(w, p.size, p.interval)
		}
	})
	mux.HandleFunc("/disconnect-headers", func(w http.ResponseWriter, r *http.Request) { disconnect(w) })
	mux.HandleFunc("/disconnect-body", func(w http.ResponseWriter, r *http.Request) {
		if p, ok := livenessParams(w, r); ok {
			w.WriteHeader(p.code)
			writeRandomBody(w, p.size, 0)
			fmt.Fprint(w, "Disconnecting\n")
			flush(w)
			disconnect(w)
		}
	})
	return mux
}

func livenessSleepHeaders(w http.ResponseWriter, r *http.Request) {
	p, ok := livenessParams(w, r)
	if !ok {
		return
	}
	time.Sleep(time.Duration(p.sleep) * time.Second)
	w.WriteHeader(p.code)
	fmt.Fprintf(w, "Slept for %d secs\n", p.sleep)
	writeRandomBody(w, p.size, 0)
}

func livenessSleepBody(w http.ResponseWriter, r *http.Request) {
	p, ok := livenessParams(w, r)
	if !ok {
		return
	}
	w.WriteHeader(p.code)
	writeRandomBody(w, p.size, p.interval)
	fmt.Fprintf(w, "Sleeping for %d secs\n", p.sleep)
	if p.sleep > 0 {
		flush(w)
		time.Sleep(time.Duration(p.sleep) * time.Second)
	}
	fmt.Fprintf(w, "Slept for %d secs\n", p.sleep)
}

type livenessParam struct{ code, sleep, size, interval int }

// livenessParams reads code (500), time, size (KiB) and interval (s).
func livenessParams(w http.ResponseWriter, r *http.Request) (livenessParam, bool) {
	p := livenessParam{code: http.StatusInternalServerError}
	for _, f := range []struct {
		name string
		v    *int
	}{{"code", &p.code}, {"time", &p.sleep}, {"size", &p.size}, {"interval", &p.interval}} {
		if q := r.URL.Query().Get(f.name); q != "" {
			n, err := strconv.Atoi(q)
			if err != nil {
				http.Error(w, fmt.Sprintf("parameter '%s' is invalid: %v", f.name, err), http.StatusBadRequest)
				return p, false
			}
			*f.v = n
		}
	}
	return p, true
}

func writeRandomBody(w http.ResponseWriter, kib, interval int) {
	for range kib {
		if interval > 0 {
			flush(w)
			time.Sleep(time.Duration(interval) * time.Second)
		}
		for b := 0; b < 1024; b += 16 {
			fmt.Fprintf(w, "%16x", rand.Uint64())
		}
	}
}

func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

func disconnect(w http.ResponseWriter) {
	h, ok := w.(http.Hijacker)
	if !ok {
		return
	}
	if c, _, err := h.Hijack(); err == nil {
		c.Close()
	}
}

// porterPrefixes are porter's environment variable prefixes and what
// each serves.
var porterPrefixes = []struct{ prefix, kind string }{
	{"SERVE_PORT_", "tcp"}, {"SERVE_TCP_PORT_", "tcp"}, {"SERVE_UDP_PORT_", "udp"},
	{"SERVE_TLS_PORT_", "tls"}, {"SERVE_SCTP_PORT_", "sctp"},
}

// runPorter is agnhost porter: for every SERVE_{PORT,TCP_PORT,UDP_PORT,
// TLS_PORT}_N variable, the variable's value on port N.
func runPorter(ctx context.Context, s stdio, args []string) error {
	fs := agnhostFlags(s, "porter")
	jsonResp := fs.Bool("json-response", false, "Responds to requests with a json response that includes the default value with the http.Request Method")
	if err := parseFlags(s, fs, args); err != nil {
		return err
	}
	lg := logger(s)
	env := map[string]string{}
	for _, kv := range s.environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for _, kv := range s.environ {
		key, value, _ := strings.Cut(kv, "=")
		for _, p := range porterPrefixes {
			if port, ok := strings.CutPrefix(key, p.prefix); ok {
				go porterServe(ctx, lg, p.kind, port, value, *jsonResp, env)
				break
			}
		}
	}
	<-ctx.Done()
	return nil
}

func porterServe(ctx context.Context, lg *log.Logger, kind, port, value string, jsonResp bool, env map[string]string) {
	addr := "0.0.0.0:" + port
	h := porterHandler(value, jsonResp)
	switch kind {
	case "tcp":
		lg.Printf("server on port %q failed: %v", port, serveHTTP(ctx, addr, h))
	case "udp":
		lg.Printf("Started UDP server on port %s", port)
		err := serveUDP(ctx, addr, 16, func([]byte, net.Addr) []byte { return []byte(value) })
		if err != nil {
			lg.Printf("UDP: failed to listen on port %s: %v", port, err)
		}
	case "tls":
		cert, key := orString(env["CERT_FILE"], "localhost.crt"), orString(env["KEY_FILE"], "localhost.key")
		srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: time.Minute}
		go func() { <-ctx.Done(); _ = srv.Close() }()
		lg.Printf("tls server on port %q with certFile=%q, keyFile=%q failed: %v", port, cert, key, srv.ListenAndServeTLS(cert, key))
	case "sctp":
		lg.Printf("Failed to listen SCTP. error: SCTP is not supported by svcplane's agnhost")
	}
}

func porterHandler(value string, jsonResp bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !jsonResp {
			fmt.Fprint(w, value)
			return
		}
		b, _ := json.Marshal(struct{ Method, Body string }{r.Method, value})
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, string(b))
	})
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
