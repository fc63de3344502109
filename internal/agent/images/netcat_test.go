package images

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseNetcat(t *testing.T) {
	tests := []struct {
		args string
		want ncOptions
		err  string
	}{
		{"-v -z -w 2 10.0.0.1 80", ncOptions{verbose: true, zero: true, timeout: 2 * time.Second, host: "10.0.0.1", ports: []string{"80"}}, ""},
		{"-v -t -w 2 svc 8080", ncOptions{verbose: true, timeout: 2 * time.Second, host: "svc", ports: []string{"8080"}}, ""},
		{"-vuz -w2 10.0.0.1 53", ncOptions{verbose: true, udp: true, zero: true, timeout: 2 * time.Second, host: "10.0.0.1", ports: []string{"53"}}, ""},
		{"-zv host 20-22", ncOptions{verbose: true, zero: true, host: "host", ports: []string{"20", "21", "22"}}, ""},
		{"-l -p 8080", ncOptions{listen: true, srcPort: "8080", ports: []string{"8080"}}, ""},
		{"-lk 9000", ncOptions{listen: true, keep: true, ports: []string{"9000"}}, ""},
		{"-N -q 0 h 1", ncOptions{shutdownOnEOF: true, quit: 0, host: "h", ports: []string{"1"}}, ""},
		{"h", ncOptions{}, "missing port number"},
		{"-Y h 1", ncOptions{}, "invalid option -- 'Y'"},
		{"h 1 -w", ncOptions{}, "option requires an argument -- w"},
		{"h 0", ncOptions{}, "port range not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			got, err := parseNetcat(strings.Fields(tt.args))
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.quit == 0 && !strings.Contains(tt.args, "-q") {
				tt.want.quit = -1
			}
			tt.want.network = "tcp"
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(ncOptions{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// runNC runs nc with stdin and returns its exit code, stdout and stderr.
func runNC(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	s, out, errOut := testStdio()
	s.in = strings.NewReader(stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return exitStatus(s, runNetcat(ctx, s, args)), out.String(), errOut.String()
}

func TestNetcat(t *testing.T) {
	// An HTTP server answers nc's "hostName\n" with 400 and closes, as
	// agnhost's servers do for the e2e reachability checks.
	web := httptest.NewServer(http.NotFoundHandler())
	defer web.Close()
	webHost, webPort, _ := net.SplitHostPort(web.Listener.Addr().String())
	echo := udpServer(t, func(b []byte, _ net.Addr) []byte { return bytes.ToUpper(b) })
	udpHost, udpPort, _ := net.SplitHostPort(echo)
	_, closed, _ := net.SplitHostPort(closedPort(t, "tcp"))
	tests := []struct {
		name, stdin string
		args        []string
		code        int
		out, errOut string
	}{
		{"tcp -v -z open", "", []string{"-n", "-v", "-z", "-w", "2", webHost, webPort}, 0, "",
			"Connection to 127.0.0.1 " + webPort + " port [tcp/*] succeeded!\n"},
		{"tcp -z closed", "", []string{"-nvz", "-w2", webHost, closed}, 1, "",
			"nc: connect to 127.0.0.1 port " + closed + " (tcp) failed: Connection refused\n"},
		{"tcp -z closed quiet", "", []string{"-z", webHost, closed}, 1, "", ""},
		{"tcp request", "hostName\n", []string{"-n", "-t", "-w", "2", webHost, webPort}, 0, "HTTP/1.1 400 Bad Request", ""},
		{"udp request", "hostName\n", []string{"-n", "-v", "-u", "-w", "1", udpHost, udpPort}, 0, "HOSTNAME\n",
			"Connection to 127.0.0.1 " + udpPort + " port [udp/*] succeeded!\n"},
		{"udp -q 0 quits after stdin", "echo hi\n", []string{"-u", "-q", "0", udpHost, udpPort}, 0, "", ""},
		{"usage", "", []string{"-l"}, 1, "", "nc: usage:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			code, out, errOut := runNC(t, tt.stdin, tt.args...)
			if code != tt.code || !strings.HasPrefix(out, tt.out) || !strings.HasPrefix(errOut, tt.errOut) || tt.errOut == "" && errOut != "" {
				t.Errorf("%d %q %q, want %d %q %q", code, out, errOut, tt.code, tt.out, tt.errOut)
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
		})
	}
}

func TestNetcatListen(t *testing.T) {
	port := strings.TrimPrefix(closedPort(t, "tcp"), "127.0.0.1:")
	s, out, errOut := testStdio()
	done := make(chan error, 1)
	go func() { done <- runNetcat(context.Background(), s, []string{"-v", "-l", "-N", "127.0.0.1", port}) }()
	var conn net.Conn
	for i := 0; i < 100; i++ {
		var err error
		if conn, err = net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if conn == nil {
		t.Fatal("nc -l never listened")
	}
	conn.Write([]byte("from client\n"))
	reply, _ := io.ReadAll(conn) // -N: stdin's EOF shuts nc's side
	conn.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if out.String() != "from client\n" || len(reply) != 0 || !strings.HasPrefix(errOut.String(), "Listening on 127.0.0.1 "+port+"\nConnection received on 127.0.0.1 ") {
		t.Errorf("out %q reply %q err %q", out, reply, errOut)
	}
}

func TestServiceName(t *testing.T) {
	if _, err := os.Stat("/etc/services"); err != nil {
		t.Skip("no /etc/services")
	}
	if got := serviceName("80", "tcp", false); got != "http" {
		t.Errorf("80/tcp: %q", got)
	}
	if got := serviceName("80", "tcp", true); got != "*" {
		t.Errorf("-n: %q", got)
	}
}

func TestHttpd(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "index.html"), []byte(itWorks), 0o644)
	os.Mkdir(filepath.Join(root, "sub"), 0o755)
	var log bytes.Buffer
	h := &httpdHandler{root: root, server: "Apache/2.4.39 (Unix)", log: stdio{out: &log}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		path, body string
		code       int
	}{
		{"/", itWorks, 200},
		{"/index.html", itWorks, 200},
		{"/nope", "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n" +
			"<h1>Not Found</h1>\n<p>The requested URL /nope was not found on this server.</p>\n</body></html>\n", 404},
		{"/sub", "", 301},
		{"/sub/", "", 404},
	}
	for _, tt := range tests {
		resp, err := c.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || tt.body != "" && string(b) != tt.body || resp.Header.Get("Server") != "Apache/2.4.39 (Unix)" {
			t.Errorf("%s: %d %q %q", tt.path, resp.StatusCode, b, resp.Header.Get("Server"))
		}
	}
	if !strings.Contains(log.String(), "\"GET / HTTP/1.1\" 200 45\n") {
		t.Errorf("access log %q", log.String())
	}
	if v := httpdVersion([]string{"HTTPD_VERSION=2.4.39"}); v != "2.4.39" {
		t.Errorf("version %q", v)
	}
}
