package stream

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/svcplane/svcplane/internal/agent/runtime"
)

// fakeStreamer echoes stdin for exec, serves a fixed log and forwards
// the pod ports in ports to loopback addresses.
type fakeStreamer struct {
	log   string
	ports map[uint16]string
}

func (f fakeStreamer) LogPath(types.UID, string, bool) (string, error) { return f.log, nil }
func (f fakeStreamer) Exited(types.UID, string) <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}
func (f fakeStreamer) Exec(_ context.Context, req runtime.ExecRequest) (int, error) {
	fmt.Fprintf(req.Stdout, "ran %s\n", strings.Join(req.Command, " "))
	if req.Stdin != nil {
		_, _ = io.Copy(req.Stdout, req.Stdin)
	}
	if req.Command[0] == "fail" {
		return 3, nil
	}
	return 0, nil
}
func (f fakeStreamer) Attach(context.Context, runtime.AttachRequest) error { return nil }
func (f fakeStreamer) DialPort(ctx context.Context, _ types.UID, port uint16) (net.Conn, error) {
	addr, ok := f.ports[port]
	if !ok {
		return nil, fmt.Errorf("dial tcp4 127.0.0.1:%d: connect: connection refused", port)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

type fakePods struct{ s fakeStreamer }

func (p fakePods) LookupPod(ns, name string) (*corev1.Pod, bool) {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: "u"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}, name == "p"
}
func (p fakePods) Streamer() (runtime.Streamer, bool) { return p.s, true }

func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	return newTestServerPorts(t, nil)
}

// newTestServerPorts serves a pod "ns/p" whose ports forward to the
// given loopback addresses.
func newTestServerPorts(t *testing.T, ports map[uint16]string) *httptest.Server {
	t.Helper()
	log := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(log, []byte("one\ntwo\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewServer(Config{Pods: fakePods{fakeStreamer{log: log, ports: ports}}}).Handler())
	t.Cleanup(srv.Close)
	return srv
}

// TestExecWithClientGo speaks to the server with client-go's websocket
// executor, the one kubectl 1.32 uses.
func TestExecWithClientGo(t *testing.T) {
	srv := newTestServer(t)
	for _, tt := range []struct {
		cmd  string
		code int
	}{{"echo", 0}, {"fail", 3}} {
		url := srv.URL + "/exec/ns/p/c?command=" + tt.cmd + "&command=x&stdin=true&stdout=true&stderr=true"
		exec, err := remotecommand.NewWebSocketExecutor(&rest.Config{Host: srv.URL}, "GET", url)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		err = exec.StreamWithContext(context.Background(), remotecommand.StreamOptions{Stdin: strings.NewReader("input\n"), Stdout: &out, Stderr: io.Discard})
		if tt.code == 0 && err != nil {
			t.Fatalf("%s: %v", tt.cmd, err)
		}
		if tt.code != 0 {
			ce, ok := err.(interface{ ExitStatus() int })
			if !ok || ce.ExitStatus() != tt.code {
				t.Fatalf("%s: err %v, want exit code %d", tt.cmd, err, tt.code)
			}
		}
		if want := "ran " + tt.cmd + " x\ninput\n"; out.String() != want {
			t.Fatalf("%s: output %q, want %q", tt.cmd, out.String(), want)
		}
	}
}

// TestExecWithSPDY uses client-go's SPDY executor, the fallback for
// clients without websockets.
func TestExecWithSPDY(t *testing.T) {
	srv := newTestServer(t)
	url, _ := neturl.Parse(srv.URL + "/exec/ns/p/c?command=fail&command=y&stdin=true&stdout=true&stderr=true")
	exec, err := remotecommand.NewSPDYExecutor(&rest.Config{Host: srv.URL}, "POST", url)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = exec.StreamWithContext(context.Background(), remotecommand.StreamOptions{Stdin: strings.NewReader("in\n"), Stdout: &out, Stderr: io.Discard})
	ce, ok := err.(interface{ ExitStatus() int })
	if !ok || ce.ExitStatus() != 3 {
		t.Fatalf("err %v, want exit code 3", err)
	}
	if out.String() != "ran fail y\nin\n" {
		t.Fatalf("output %q", out.String())
	}
}

func TestLogsTail(t *testing.T) {
	srv := newTestServer(t)
	for q, want := range map[string]string{"": "one\ntwo\nthree\n", "?tailLines=2": "two\nthree\n", "?tailLines=0": "", "?limitBytes=5": "one\nt"} {
		resp, err := srv.Client().Get(srv.URL + "/containerLogs/ns/p/c" + q)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Errorf("%q: %q, want %q", q, b, want)
		}
	}
	resp, _ := srv.Client().Get(srv.URL + "/containerLogs/ns/missing/c")
	if resp.StatusCode != 404 {
		t.Errorf("missing pod: %d", resp.StatusCode)
	}
}

// TestExecChannelV1: under channel.k8s.io (what upstream's conformance
// spec "remote command execution over websockets" asks for) the error
// channel carries nothing on success and the failure's message otherwise,
// as the kubelet's pre-v4 protocol.
func TestExecChannelV1(t *testing.T) {
	srv := newTestServer(t)
	for _, tt := range []struct{ cmd, wantErr string }{
		{"echo", ""},
		{"fail", "command terminated with non-zero exit code: exit status 3"},
	} {
		d := websocket.Dialer{Subprotocols: []string{"channel.k8s.io"}}
		ws, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/exec/ns/p/c?command="+tt.cmd+"&command=x&stdout=true", nil)
		if err != nil {
			t.Fatal(err)
		}
		if ws.Subprotocol() != "channel.k8s.io" {
			t.Errorf("subprotocol %q", ws.Subprotocol())
		}
		var out, errCh bytes.Buffer
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				break
			}
			switch {
			case len(msg) > 0 && msg[0] == chanStdout:
				out.Write(msg[1:])
			case len(msg) > 0 && msg[0] == chanError:
				errCh.Write(msg[1:])
			}
		}
		ws.Close()
		if out.String() != "ran "+tt.cmd+" x\n" || errCh.String() != tt.wantErr {
			t.Errorf("%s: stdout %q, error channel %q, want %q", tt.cmd, out.String(), errCh.String(), tt.wantErr)
		}
	}
}
