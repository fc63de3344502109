package images

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// netexec is agnhost netexec's state: an HTTP server whose endpoints
// echo, report the client's address and the hostname, dial other pods
// and run shell commands, and a UDP server answering hostname, echo and
// clientip.
type netexec struct {
	lg      *log.Logger
	shell   string
	uploads string
	host    string
	// ready is set while a UDP server runs (/healthz, /readyz).
	ready atomic.Bool
	// terminating is closed on SIGTERM (/readyz answers 503).
	terminating chan struct{}
	// exits carries /exit and /shutdown requests to the main loop.
	exits chan shutdownRequest
}

type shutdownRequest struct {
	code    int
	timeout time.Duration
}

type netexecFlags struct {
	httpPort, udpPort, sctpPort, delayShutdown int
	cert, key, override, udpAddrs              string
}

func runNetexec(ctx context.Context, s stdio, args []string) error {
	fs := agnhostFlags(s, "netexec")
	var f netexecFlags
	fs.IntVar(&f.httpPort, "http-port", 8080, "HTTP Listen Port")
	fs.StringVar(&f.cert, "tls-cert-file", "", "File containing an x509 certificate for HTTPS. (CA cert, if any, concatenated after server cert)")
	fs.StringVar(&f.key, "tls-private-key-file", "", "File containing an x509 private key matching --tls-cert-file")
	fs.IntVar(&f.udpPort, "udp-port", 8081, "UDP Listen Port")
	fs.IntVar(&f.sctpPort, "sctp-port", -1, "SCTP Listen Port")
	fs.StringVar(&f.override, "http-override", "", "Override the HTTP handler to always respond as if it were a GET with this path & params")
	fs.StringVar(&f.udpAddrs, "udp-listen-addresses", "", "A comma separated list of ip addresses the udp servers listen from")
	fs.IntVar(&f.delayShutdown, "delay-shutdown", 0, "Number of seconds to delay shutdown when receiving SIGTERM.")
	if err := parseFlags(s, fs, args); err != nil {
		return err
	}
	n := newNetexec(logger(s))
	return n.run(ctx, f)
}

func newNetexec(lg *log.Logger) *netexec {
	return &netexec{lg: lg, shell: "/bin/sh", uploads: "/uploads", host: hostname(),
		terminating: make(chan struct{}), exits: make(chan shutdownRequest, 1)}
}

func (n *netexec) run(ctx context.Context, f netexecFlags) error {
	addrs, err := parseAddresses(f.udpAddrs)
	if err != nil {
		return err
	}
	srvCtx, stop := context.WithCancel(context.Background())
	defer stop()
	errc := make(chan error, len(addrs)+1)
	if f.udpPort != -1 {
		for _, a := range addrs {
			go func() { errc <- n.serveUDP(srvCtx, a, f.udpPort) }()
		}
	}
	if f.sctpPort != -1 {
		n.lg.Printf("SCTP is not supported by svcplane's agnhost: no SCTP server on port %d", f.sctpPort)
	}
	srv := &http.Server{Addr: fmt.Sprintf(":%d", f.httpPort), Handler: n.handler(f.override), ReadHeaderTimeout: time.Minute}
	n.lg.Printf("Started HTTP server on port %d", f.httpPort)
	go func() {
		if f.cert != "" {
			errc <- srv.ListenAndServeTLS(f.cert, f.key)
			return
		}
		errc <- srv.ListenAndServe()
	}()
	return n.wait(ctx, srv, errc, f.delayShutdown)
}

// wait ends the program: on SIGTERM (after --delay-shutdown) with 0, on
// /exit or /shutdown with their code, or on a server's failure.
func (n *netexec) wait(ctx context.Context, srv *http.Server, errc <-chan error, delay int) error {
	select {
	case <-ctx.Done():
		close(n.terminating)
		if delay > 0 {
			n.lg.Printf("Sleeping %d seconds before terminating...", delay)
			time.Sleep(time.Duration(delay) * time.Second)
		}
		_ = srv.Close()
		return nil
	case req := <-n.exits:
		if req.timeout > 0 {
			sctx, cancel := context.WithTimeout(context.Background(), req.timeout)
			err := srv.Shutdown(sctx)
			cancel()
			n.lg.Printf("Graceful shutdown completed with: %v", err)
		}
		_ = srv.Close()
		return exitCode(req.code)
	case err := <-errc:
		_ = srv.Close()
		return fmt.Errorf("netexec: %w", err)
	}
}

// handler is netexec's endpoints, or with override set every request
// answered as a GET of override.
func (n *netexec) handler(override string) http.Handler {
	mux := n.mux()
	if override == "" {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, override, nil)
		if err != nil {
			http.Error(w, fmt.Sprintf("override request failed: %v", err), http.StatusInternalServerError)
			return
		}
		req.RemoteAddr = r.RemoteAddr
		mux.ServeHTTP(w, req)
	})
}

func (n *netexec) mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n.lg.Printf("GET /")
		fmt.Fprintf(w, "NOW: %v", time.Now())
	})
	mux.HandleFunc("/clientip", func(w http.ResponseWriter, r *http.Request) {
		n.lg.Printf("GET /clientip")
		fmt.Fprint(w, r.RemoteAddr)
	})
	mux.HandleFunc("/header", n.serveHeader)
	mux.HandleFunc("/dial", n.serveDial)
	mux.HandleFunc("/echo", n.serveEcho)
	mux.HandleFunc("/exit", n.serveExit)
	mux.HandleFunc("/healthz", n.serveHealthz)
	mux.HandleFunc("/readyz", n.serveReadyz)
	mux.HandleFunc("/hostname", n.serveHostname("/hostname"))
	mux.HandleFunc("/hostName", n.serveHostname("/hostName"))
	mux.HandleFunc("/redirect", n.serveRedirect)
	mux.HandleFunc("/shell", n.serveShell)
	mux.HandleFunc("/upload", n.serveUpload)
	mux.HandleFunc("/shutdown", func(w http.ResponseWriter, r *http.Request) {
		n.lg.Printf("GET /shutdown")
		n.exits <- shutdownRequest{}
	})
	return mux
}

func (n *netexec) serveHostname(path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n.lg.Printf("GET %s", path)
		fmt.Fprint(w, n.host)
	}
}

func (n *netexec) serveEcho(w http.ResponseWriter, r *http.Request) {
	msg, codeString := r.FormValue("msg"), r.FormValue("code")
	n.lg.Printf("GET /echo?msg=%s&code=%s", msg, codeString)
	if codeString != "" {
		code, err := strconv.Atoi(codeString)
		if err != nil {
			fmt.Fprintf(w, "argument 'code' must be an integer or empty, got %q\n", codeString)
			return
		}
		w.WriteHeader(code)
	}
	fmt.Fprint(w, msg)
}

func (n *netexec) serveHeader(w http.ResponseWriter, r *http.Request) {
	key := r.FormValue("key")
	if key != "" {
		n.lg.Printf("GET /header?key=%s", key)
		fmt.Fprint(w, r.Header.Get(key))
		return
	}
	n.lg.Printf("GET /header")
	data, err := json.Marshal(r.Header)
	if err != nil {
		fmt.Fprintf(w, "error marshalling header, err: %v", err)
		return
	}
	fmt.Fprint(w, string(data))
}

func (n *netexec) serveExit(w http.ResponseWriter, r *http.Request) {
	waitString, timeoutString, codeString := r.FormValue("wait"), r.FormValue("timeout"), r.FormValue("code")
	n.lg.Printf("GET /exit?code=%s&timeout=%s&wait=%s", codeString, timeoutString, waitString)
	timeout, err := time.ParseDuration(timeoutString)
	if err != nil && timeoutString != "" {
		fmt.Fprintf(w, "argument 'timeout' must be a valid golang duration or empty, got %q\n", timeoutString)
		return
	}
	wait, err := time.ParseDuration(waitString)
	if err != nil && waitString != "" {
		fmt.Fprintf(w, "argument 'wait' must be a valid golang duration or empty, got %q\n", waitString)
		return
	}
	code, err := strconv.Atoi(codeString)
	if err != nil && codeString != "" {
		fmt.Fprintf(w, "argument 'code' must be an integer [0-127] or empty, got %q\n", codeString)
		return
	}
	n.lg.Printf("Will begin shutdown in %s, allowing %s for connections to close, then will exit with %d", wait, timeout, code)
	time.Sleep(wait)
	select {
	case n.exits <- shutdownRequest{code: code, timeout: timeout}:
	default: // a shutdown is under way already
	}
}

func (n *netexec) serveHealthz(w http.ResponseWriter, r *http.Request) {
	n.lg.Printf("GET /healthz")
	if !n.ready.Load() {
		w.WriteHeader(http.StatusPreconditionFailed)
	}
}

func (n *netexec) serveReadyz(w http.ResponseWriter, r *http.Request) {
	n.lg.Printf("GET /readyz")
	select {
	case <-n.terminating:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "shutting down")
		return
	default:
	}
	if !n.ready.Load() {
		w.WriteHeader(http.StatusPreconditionFailed)
		return
	}
	fmt.Fprint(w, "ok")
}

func (n *netexec) serveRedirect(w http.ResponseWriter, r *http.Request) {
	location, codeString := r.FormValue("location"), r.FormValue("code")
	n.lg.Printf("%s /redirect?msg=%s&code=%s", r.Method, location, codeString)
	code := http.StatusFound
	if codeString != "" {
		var err error
		if code, err = strconv.Atoi(codeString); err != nil {
			fmt.Fprintf(w, "argument 'code' must be an integer or empty, got %q\n", codeString)
			return
		}
	}
	http.Redirect(w, r, location, code)
}

func (n *netexec) serveShell(w http.ResponseWriter, r *http.Request) {
	cmd := r.FormValue("shellCommand")
	if cmd == "" {
		cmd = r.FormValue("cmd")
	}
	n.lg.Printf("GET /shell?cmd=%s", cmd)
	out, err := exec.Command(n.shell, "-c", cmd).CombinedOutput()
	res := map[string]string{}
	if len(out) > 0 {
		res["output"] = string(out)
	}
	if err != nil {
		res["error"] = err.Error()
	}
	n.lg.Printf("Output: %s", res)
	writeJSON(w, res)
}

func (n *netexec) serveUpload(w http.ResponseWriter, r *http.Request) {
	n.lg.Printf("GET /upload")
	name, msg, err := n.saveUpload(r)
	if err != nil {
		n.lg.Printf("%s: %s", msg, err)
		writeJSON(w, map[string]string{"error": msg})
		return
	}
	n.lg.Printf("Wrote upload to %s", name)
	w.WriteHeader(http.StatusCreated)
	writeJSON(w, map[string]string{"output": name})
}

// saveUpload writes the form's file into the uploads directory; on
// failure it returns upstream's message for the step that failed.
func (n *netexec) saveUpload(r *http.Request) (name, msg string, err error) {
	file, _, err := r.FormFile("file")
	if err != nil {
		return "", "Unable to upload file.", err
	}
	defer file.Close()
	f, err := os.CreateTemp(n.uploads, "upload")
	if err != nil {
		return "", "Unable to open file for write", err
	}
	defer f.Close()
	if _, err := io.Copy(f, file); err != nil {
		return "", "Unable to write file.", err
	}
	if err := os.Chmod(f.Name(), 0o700); err != nil {
		return "", "Unable to chmod file.", err
	}
	return f.Name(), "", nil
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, fmt.Sprintf("response could not be serialized. %v", err), http.StatusExpectationFailed)
		return
	}
	fmt.Fprint(w, string(b))
}

// serveDial sends request to host:port tries times over protocol (http,
// udp) and answers {"errors": [...], "responses": [...]}, each key only
// when it has entries ("responses" when the last try had a response).
func (n *netexec) serveDial(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	host, port, request, protocol, tryParam := q.Get("host"), q.Get("port"), q.Get("request"), q.Get("protocol"), q.Get("tries")
	n.lg.Printf("GET /dial?host=%s&protocol=%s&port=%s&request=%s&tries=%s", host, protocol, port, request, tryParam)
	tries := 1
	var err error
	if tryParam != "" {
		tries, err = strconv.Atoi(tryParam)
	}
	if err != nil {
		http.Error(w, fmt.Sprintf("tries parameter is invalid. %v", err), http.StatusBadRequest)
		return
	}
	if request == "" {
		http.Error(w, fmt.Sprintf("request parameter not specified. %v", err), http.StatusBadRequest)
		return
	}
	dial, addr, err := dialerFor(protocol, net.JoinHostPort(host, port))
	if errors.Is(err, errUnsupportedProtocol) {
		http.Error(w, fmt.Sprintf("unsupported protocol. %s", protocol), http.StatusBadRequest)
		return
	}
	if err != nil {
		http.Error(w, fmt.Sprintf("host and/or port param are invalid. %v", err), http.StatusBadRequest)
		return
	}
	writeJSON(w, dialTries(dial, request, addr, tries))
}

var errUnsupportedProtocol = errors.New("unsupported protocol")

// dialerFor resolves hostPort for protocol and returns its dialer.
func dialerFor(protocol, hostPort string) (func(string, string) (string, error), string, error) {
	switch strings.ToLower(protocol) {
	case "", "http":
		a, err := net.ResolveTCPAddr("tcp", hostPort)
		if err != nil {
			return nil, "", err
		}
		return dialHTTP, a.String(), nil
	case "udp":
		a, err := net.ResolveUDPAddr("udp", hostPort)
		if err != nil {
			return nil, "", err
		}
		return dialUDP, a.String(), nil
	case "sctp":
		return dialSCTP, hostPort, nil
	}
	return nil, "", errUnsupportedProtocol
}

func dialTries(dial func(string, string) (string, error), request, addr string, tries int) map[string][]string {
	var responses, errs []string
	var last string
	for range tries {
		resp, err := dial(request, addr)
		last = resp
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		responses = append(responses, resp)
	}
	out := map[string][]string{}
	if last != "" {
		out["responses"] = responses
	}
	if len(errs) > 0 {
		out["errors"] = errs
	}
	return out
}

func dialHTTP(request, addr string) (string, error) {
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://%s/%s", addr, request))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	return string(body), nil
}

func dialUDP(request, addr string) (string, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return "", fmt.Errorf("udp dial failed. err:%v", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(request)); err != nil {
		return "", fmt.Errorf("udp connection write failed. err:%v", err)
	}
	buf := make([]byte, 2048)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	count, err := c.Read(buf)
	if err != nil || count == 0 {
		return "", fmt.Errorf("reading from udp connection failed. err:'%v'", err)
	}
	return string(buf[:count]), nil
}

// dialSCTP fails: svcplane's agnhost has no SCTP (the conformance specs
// skip SCTP).
func dialSCTP(string, string) (string, error) {
	return "", errors.New("sctp dial failed. err:SCTP is not supported by svcplane's agnhost")
}

// serveUDP runs the UDP server on address:port; /healthz is ready while
// it runs.
func (n *netexec) serveUDP(ctx context.Context, address string, port int) error {
	pc, err := net.ListenPacket("udp", net.JoinHostPort(address, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("Error occurred: failed to create listener for UDP address %s:%d:%v", address, port, err) //nolint:staticcheck // upstream's text
	}
	n.lg.Printf("Started UDP server on port %s %d", address, port)
	n.ready.Store(true)
	defer func() {
		n.lg.Printf("UDP server exited")
		n.ready.Store(false)
	}()
	return serveUDPConn(ctx, pc, 2048, n.udpReply)
}

// udpReply answers netexec's UDP commands, compared (and echoed) in
// lower case; unknown commands get no answer.
func (n *netexec) udpReply(req []byte, from net.Addr) []byte {
	text := strings.ToLower(strings.TrimSpace(string(req)))
	switch {
	case text == "hostname":
		n.lg.Println("Sending udp hostName response")
		return []byte(n.host)
	case strings.HasPrefix(text, "echo "):
		_, msg, _ := strings.Cut(text, " ")
		n.lg.Printf("Echoing %v to UDP client %s\n", msg, from)
		return []byte(msg)
	case text == "clientip":
		n.lg.Printf("Sending clientip back to UDP client %s\n", from)
		return []byte(from.String())
	case text != "":
		n.lg.Printf("Unknown UDP command received from %s: %v\n", from, text)
	}
	return nil
}

// parseAddresses is --udp-listen-addresses: sorted, without duplicates;
// "" (any address) when empty.
func parseAddresses(list string) ([]string, error) {
	if list == "" {
		return []string{""}, nil
	}
	seen := map[string]bool{}
	var out []string
	for _, a := range strings.Split(list, ",") {
		if net.ParseIP(a) == nil {
			return nil, fmt.Errorf("parseAddress: invalid address %s", a)
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out, nil
}
