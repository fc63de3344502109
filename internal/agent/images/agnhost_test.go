package images

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testStdio returns streams that write into buffers.
func testStdio(args ...string) (stdio, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return stdio{in: strings.NewReader(""), out: &out, errOut: &errOut, args: args}, &out, &errOut
}

// get fetches url and returns status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// udpServer answers datagrams on loopback with reply until the test ends.
func udpServer(t *testing.T, reply func([]byte, net.Addr) []byte) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = serveUDPConn(ctx, pc, 2048, reply) }()
	return pc.LocalAddr().String()
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T, network string) string {
	t.Helper()
	if network == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		return pc.LocalAddr().String()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestNetexecEndpoints(t *testing.T) {
	n := newNetexec(log.New(io.Discard, "", 0))
	n.host = "netexec-pod"
	n.uploads = t.TempDir()
	srv := httptest.NewServer(n.handler(""))
	defer srv.Close()
	_, self, _ := net.SplitHostPort(srv.Listener.Addr().String())
	udp := udpServer(t, n.udpReply)
	_, udpPort, _ := net.SplitHostPort(udp)
	_, closedUDP, _ := net.SplitHostPort(closedPort(t, "udp"))
	tests := []struct {
		path   string
		code   int
		body   string
		prefix bool
	}{
		{"/", 200, "NOW: ", true},
		{"/echo?msg=hello", 200, "hello", false},
		{"/echo?msg=gone&code=404", 404, "gone", false},
		{"/echo?msg=x&code=abc", 200, "argument 'code' must be an integer or empty, got \"abc\"\n", false},
		{"/clientip", 200, "127.0.0.1:", true},
		{"/hostname", 200, "netexec-pod", false},
		{"/hostName", 200, "netexec-pod", false},
		{"/header?key=X-Test", 200, "", false},
		{"/healthz", 412, "", false},
		{"/readyz", 412, "", false},
		{"/shell?cmd=echo+hi", 200, `{"output":"hi\n"}`, false},
		{"/shell?shellCommand=exit+3", 200, `{"error":"exit status 3"}`, false},
		{"/dial?request=hostname&host=127.0.0.1&port=" + self, 200, `{"responses":["netexec-pod"]}`, false},
		{"/dial?request=echo%20Hi&protocol=udp&host=127.0.0.1&port=" + udpPort + "&tries=2", 200, `{"responses":["hi","hi"]}`, false},
		{"/dial?request=hostname&protocol=udp&host=127.0.0.1&port=" + closedUDP, 200,
			`{"errors":["reading from udp connection failed. err:'read udp 127.0.0.1:`, true},
		{"/dial?request=hostname&protocol=sctp&host=127.0.0.1&port=1", 200, `{"errors":["sctp dial failed.`, true},
		{"/dial?host=127.0.0.1&port=1", 400, "request parameter not specified. <nil>\n", false},
		{"/dial?request=x&protocol=icmp&host=127.0.0.1&port=1", 400, "unsupported protocol. icmp\n", false},
		{"/dial?request=x&tries=many&host=127.0.0.1&port=1", 400, "tries parameter is invalid. ", true},
		{"/upload", 200, `{"error":"Unable to upload file."}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, body := get(t, srv.URL+tt.path)
			if code != tt.code || tt.prefix && !strings.HasPrefix(body, tt.body) || !tt.prefix && body != tt.body {
				t.Errorf("%d %q, want %d %q", code, body, tt.code, tt.body)
			}
		})
	}
	n.ready.Store(true)
	for path, want := range map[string]string{"/healthz": "", "/readyz": "ok"} {
		if code, body := get(t, srv.URL+path); code != 200 || body != want {
			t.Errorf("%s once the UDP server runs: %d %q", path, code, body)
		}
	}
	close(n.terminating)
	if code, body := get(t, srv.URL+"/readyz"); code != 503 || body != "shutting down" {
		t.Errorf("/readyz after SIGTERM: %d %q", code, body)
	}
	t.Run("redirect", func(t *testing.T) {
		c := http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(srv.URL + "/redirect?location=/echo%3Fmsg%3Dfoo&code=307")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 307 || resp.Header.Get("Location") != "/echo?msg=foo" {
			t.Errorf("%d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("header", func(t *testing.T) {
		req, _ := http.NewRequest("GET", srv.URL+"/header?key=X-Forwarded-For", nil)
		req.Header.Set("X-Forwarded-For", "10.0.0.7")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "10.0.0.7" {
			t.Errorf("%q", b)
		}
	})
	t.Run("exit", func(t *testing.T) {
		if code, _ := get(t, srv.URL+"/exit?code=7&timeout=1s"); code != 200 {
			t.Fatalf("code %d", code)
		}
		if req := <-n.exits; req.code != 7 || req.timeout != time.Second {
			t.Errorf("%+v", req)
		}
	})
}

func TestNetexecUDPReply(t *testing.T) {
	n := newNetexec(log.New(io.Discard, "", 0))
	n.host = "pod-a"
	from := &net.UDPAddr{IP: net.IPv4(10, 244, 0, 3), Port: 4000}
	tests := []struct {
		req  string
		want []byte
	}{
		{"hostname", []byte("pod-a")},
		{"hostName\n", []byte("pod-a")},
		{"echo Hello World", []byte("hello world")},
		{"clientip", []byte("10.244.0.3:4000")},
		{"bogus", nil},
		{"", nil},
	}
	for _, tt := range tests {
		if got := n.udpReply([]byte(tt.req), from); !bytes.Equal(got, tt.want) {
			t.Errorf("%q: %q, want %q", tt.req, got, tt.want)
		}
	}
}

func TestParseAddresses(t *testing.T) {
	for in, want := range map[string][]string{"": {""}, "10.0.0.2,10.0.0.1,10.0.0.2": {"10.0.0.1", "10.0.0.2"}} {
		got, err := parseAddresses(in)
		if err != nil || !cmp.Equal(got, want) {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := parseAddresses("nope"); err == nil {
		t.Error("bad address accepted")
	}
}

func TestAgnhostCommands(t *testing.T) {
	dir := t.TempDir()
	resolv := filepath.Join(dir, "resolv.conf")
	os.WriteFile(resolv, []byte("nameserver 10.96.0.10\nsearch ns.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"), 0o644)
	tests := []struct {
		name    string
		run     func(s stdio) error
		out     string
		errText string
		err     error
	}{
		{"entrypoint-tester", func(s stdio) error {
			s.args = []string{"/agnhost-2", "entrypoint-tester", "override", "arguments"}
			return runAgnhost(context.Background(), s, s.args[1:])
		}, "[/agnhost-2 entrypoint-tester override arguments]\n", "", nil},
		{"dns-suffix", func(s stdio) error { return printResolvConfLine(s, nil, "dns-suffix", "search", resolv) },
			"ns.svc.cluster.local,svc.cluster.local,cluster.local\n", "", nil},
		{"dns-server-list", func(s stdio) error { return printResolvConfLine(s, nil, "dns-server-list", "nameserver", resolv) },
			"10.96.0.10\n", "", nil},
		{"unknown subcommand", func(s stdio) error { return runAgnhost(context.Background(), s, []string{"nope"}) },
			"", "Error: unknown command \"nope\" for \"app\"\nRun 'app --help' for usage.\n", exitCode(1)},
		{"bad flag", func(s stdio) error { return runAgnhost(context.Background(), s, []string{"netexec", "--bogus"}) },
			"", "Error: unknown flag: --bogus\n", exitCode(1)},
		{"serve-hostname modes", func(s stdio) error { return runServeHostname(context.Background(), s, []string{"--udp"}) },
			"", "", errors.New("Can't server TCP/UDP mode and HTTP mode at the same time")},
		{"logs-generator without lines", func(s stdio) error { return runLogsGenerator(context.Background(), s, []string{"-d", "1s"}) },
			"", "", errors.New("Invalid total number of lines: 0")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, out, errOut := testStdio()
			err := tt.run(s)
			if (err == nil) != (tt.err == nil) || err != nil && err.Error() != tt.err.Error() {
				t.Errorf("err %v, want %v", err, tt.err)
			}
			if out.String() != tt.out || errOut.String() != tt.errText {
				t.Errorf("out %q err %q, want %q %q", out, errOut, tt.out, tt.errText)
			}
		})
	}
}

func TestPause(t *testing.T) {
	for sig, want := range map[syscall.Signal]error{syscall.SIGTERM: exitCode(2), syscall.SIGINT: exitCode(1)} {
		s, out, _ := testStdio()
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(signalled{sig})
		if err := runPause(ctx, s, nil); err != want || out.String() != "Paused\n" {
			t.Errorf("%v: %v %q", sig, err, out)
		}
	}
}

func TestLogsGenerator(t *testing.T) {
	s, _, errOut := testStdio()
	if err := runLogsGenerator(context.Background(), s, []string{"--log-lines-total", "5", "--run-duration", "50ms"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(errOut.String(), "\n"), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "I") || !strings.Contains(lines[4], "logs_generator.go:76] 4 ") {
		t.Errorf("%q", lines)
	}
}

func TestTestWebserver(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "results"), 0o755)
	os.WriteFile(filepath.Join(root, "results", "wheezy_udp@kubernetes"), []byte("OK\n"), 0o644)
	srv := httptest.NewServer(testWebserverHandler(root))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/results/wheezy_udp@kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "OK\n" || resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Cache-Control") != "private" {
		t.Errorf("%d %q %v", resp.StatusCode, b, resp.Header)
	}
	if code, _ := get(t, srv.URL+"/results/missing"); code != 404 {
		t.Errorf("missing file: %d", code)
	}
}

func TestLiveness(t *testing.T) {
	young := httptest.NewServer(livenessMux(time.Now()))
	defer young.Close()
	old := httptest.NewServer(livenessMux(time.Now().Add(-11 * time.Second)))
	defer old.Close()
	tests := []struct {
		url, body string
		code      int
	}{
		{young.URL + "/healthz", "ok", 200},
		{old.URL + "/healthz", "error: 11", 500},
		{young.URL + "/sleep-headers?code=201", "Slept for 0 secs\n", 201},
		{young.URL + "/sleep-body?code=200", "Sleeping for 0 secs\nSlept for 0 secs\n", 200},
		{young.URL + "/slow-response?time=x", "parameter 'time' is invalid: ", 400},
	}
	for _, tt := range tests {
		if code, body := get(t, tt.url); code != tt.code || !strings.HasPrefix(body, tt.body) {
			t.Errorf("%s: %d %q, want %d %q", tt.url, code, body, tt.code, tt.body)
		}
	}
}

func TestPorter(t *testing.T) {
	for _, tt := range []struct {
		json      bool
		body, typ string
	}{{false, "foo", "text/plain; charset=utf-8"}, {true, `{"Method":"GET","Body":"foo"}`, "application/json"}} {
		srv := httptest.NewServer(porterHandler("foo", tt.json))
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if string(b) != tt.body || resp.Header.Get("Content-Type") != tt.typ {
			t.Errorf("json %v: %q %q", tt.json, b, resp.Header.Get("Content-Type"))
		}
	}
}

func TestConnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	echo := udpServer(t, func(b []byte, _ net.Addr) []byte { return b })
	tests := []struct {
		name, got, want string
	}{
		{"tcp open", connectTCP(ln.Addr().String(), time.Second), ""},
		{"tcp refused", connectTCP(closedPort(t, "tcp"), time.Second), "REFUSED"},
		{"tcp bad address", connectTCP("nohostport", time.Second), "UNKNOWN: address nohostport: missing port in address"},
		{"udp answered", connectUDP(echo, time.Second, "hostname"), ""},
		{"udp refused", strings.SplitN(connectUDP(closedPort(t, "udp"), time.Second, "hostname"), ":", 2)[0], "REFUSED"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestMounttest(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "new")
	s, out, _ := testStdio()
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	failed := mounttest(s, mounttestFlags{new0644: file, perm: file, mode: file, owner: file,
		content: filepath.Join(dir, "missing")})
	uid, gid := os.Getuid(), os.Getgid()
	want := strings.Join([]string{
		`content of file "` + file + `": mount-tester new file`, ``,
		`mode of file "` + file + `": -rw-r--r--`,
		`perms of file "` + file + `": -rw-r--r--`,
		`owner UID of "` + file + `": ` + strconv.Itoa(uid),
		`owner GID of "` + file + `": ` + strconv.Itoa(gid),
		`error reading file content for "` + filepath.Join(dir, "missing") + `": open ` + filepath.Join(dir, "missing") + `: no such file or directory`, ``}, "\n")
	if diff := cmp.Diff(want, out.String()); diff != "" || !failed {
		t.Errorf("failed %v (-want +got):\n%s", failed, diff)
	}
}
