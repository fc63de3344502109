package images

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// netexec is agnhost netexec: an HTTP server whose endpoints echo,
// report the client's address and the hostname, dial other pods and run
// shell commands, and a UDP server answering hostname, echo and clientip.
func netexec(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("netexec", flag.ContinueOnError)
	httpPort := fs.Int("http-port", 8080, "HTTP port")
	udpPort := fs.Int("udp-port", 8081, "UDP port (-1 disables)")
	shell := fs.String("shell", "/bin/sh", "shell for /shell")
	fs.Int("sctp-port", -1, "SCTP port (not supported)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	errc := make(chan error, 2)
	go func() { errc <- serveHTTP(ctx, fmt.Sprintf(":%d", *httpPort), netexecMux(*shell)) }()
	if *udpPort > 0 {
		go func() { errc <- serveUDP(ctx, fmt.Sprintf(":%d", *udpPort), udpReply) }()
	}
	fmt.Printf("Started HTTP server on port %d\nStarted UDP server on port %d\n", *httpPort, *udpPort)
	return wait(ctx, errc)
}

func netexecMux(shell string) *http.ServeMux {
	host, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "NOW: %v", time.Now())
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.FormValue("msg"))
	})
	mux.HandleFunc("/clientip", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.RemoteAddr)
	})
	hostname := func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, host) }
	mux.HandleFunc("/hostname", hostname)
	mux.HandleFunc("/hostName", hostname)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/header", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get(r.FormValue("key")))
	})
	mux.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.FormValue("code"))
		os.Exit(code)
	})
	mux.HandleFunc("/shell", func(w http.ResponseWriter, r *http.Request) {
		out, err := exec.Command(shell, "-c", r.FormValue("cmd")).CombinedOutput()
		res := map[string]string{"output": string(out)}
		if err != nil {
			res["error"] = err.Error()
		}
		_ = json.NewEncoder(w).Encode(res)
	})
	mux.HandleFunc("/dial", serveDial)
	return mux
}

// udpReply answers netexec's UDP commands.
func udpReply(req []byte, from net.Addr) []byte {
	s := strings.TrimSpace(string(req))
	switch {
	case s == "hostname" || s == "hostName":
		h, _ := os.Hostname()
		return []byte(h)
	case strings.HasPrefix(s, "echo "):
		return []byte(strings.TrimPrefix(s, "echo "))
	case s == "clientip":
		return []byte(from.String())
	}
	return []byte("unknown command " + s)
}

// serveDial sends request to host:port tries times and answers
// {"responses": [...], "errors": [...]}.
func serveDial(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tries, _ := strconv.Atoi(q.Get("tries"))
	if tries < 1 {
		tries = 1
	}
	addr := net.JoinHostPort(q.Get("host"), q.Get("port"))
	out := struct {
		Responses []string `json:"responses"`
		Errors    []string `json:"errors"`
	}{Responses: []string{}, Errors: []string{}}
	for i := 0; i < tries; i++ {
		resp, err := dialOnce(q.Get("protocol"), addr, q.Get("request"))
		if err != nil {
			out.Errors = append(out.Errors, err.Error())
			continue
		}
		out.Responses = append(out.Responses, resp)
	}
	_ = json.NewEncoder(w).Encode(out)
}

func dialOnce(protocol, addr, request string) (string, error) {
	if protocol == "udp" {
		c, err := net.DialTimeout("udp", addr, 5*time.Second)
		if err != nil {
			return "", err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte(request)); err != nil {
			return "", err
		}
		buf := make([]byte, 2048)
		n, err := c.Read(buf)
		return string(buf[:n]), err
	}
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/" + strings.TrimPrefix(request, "/"))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}
