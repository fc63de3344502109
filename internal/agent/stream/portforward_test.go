package stream

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// pfDialers are the two ways kubectl 1.32 connects: SPDY tunnelled in a
// websocket first, plain SPDY as the fallback.
var pfDialers = []struct {
	name string
	new  func(t *testing.T, url string) httpstream.Dialer
}{
	{"websocket tunnel", func(t *testing.T, url string) httpstream.Dialer {
		u, _ := neturl.Parse(url)
		d, err := portforward.NewSPDYOverWebsocketDialer(u, &rest.Config{Host: u.Host})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}},
	{"spdy", func(t *testing.T, url string) httpstream.Dialer {
		u, _ := neturl.Parse(url)
		tr, up, err := spdy.RoundTripperFor(&rest.Config{Host: u.Host})
		if err != nil {
			t.Fatal(err)
		}
		return spdy.NewDialer(up, &http.Client{Transport: tr}, http.MethodPost, u)
	}},
}

// podPage is what the fake pod's port 80 answers.
func podPage(t *testing.T) string {
	t.Helper()
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "page %s", r.URL.Path)
	}))
	t.Cleanup(web.Close)
	return web.Listener.Addr().String()
}

// TestPortForwardManyConnections forwards 50 parallel HTTP requests to
// each of two ports through one client-go PortForwarder, over each
// dialer.
func TestPortForwardManyConnections(t *testing.T) {
	srv := newTestServerPorts(t, map[uint16]string{80: podPage(t), 8080: podPage(t)})
	for _, d := range pfDialers {
		t.Run(d.name, func(t *testing.T) {
			local := startForwarder(t, d.new(t, srv.URL+"/portForward/ns/p"), "0:80", "0:8080")
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			var wg sync.WaitGroup
			errs := make(chan error, 100)
			for i := range 100 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- getPage(client, fmt.Sprintf("http://127.0.0.1:%d/%d", local[i%2], i), fmt.Sprintf("page /%d", i))
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func getPage(c *http.Client, url, want string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != want {
		return fmt.Errorf("%s: %q (%v), want %q", url, b, err, want)
	}
	return nil
}

// startForwarder runs a PortForwarder for the test and returns its local
// ports.
func startForwarder(t *testing.T, d httpstream.Dialer, ports ...string) []uint16 {
	t.Helper()
	stop, ready := make(chan struct{}), make(chan struct{})
	pf, err := portforward.NewOnAddresses(d, []string{"127.0.0.1"}, ports, stop, ready, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- pf.ForwardPorts() }()
	t.Cleanup(func() { close(stop); <-done })
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("port-forward: %v", err)
	}
	forwarded, err := pf.GetPorts()
	if err != nil {
		t.Fatal(err)
	}
	var local []uint16
	for _, p := range forwarded {
		local = append(local, p.Local)
	}
	return local
}

// TestPortForwardStreams speaks the stream protocol itself: pairs are
// matched by requestID whatever the order the streams come in, and a port
// that refuses answers with the kubelet's text on the error stream.
func TestPortForwardStreams(t *testing.T) {
	srv := newTestServerPorts(t, map[uint16]string{80: podPage(t)})
	for _, d := range pfDialers {
		t.Run(d.name, func(t *testing.T) {
			conn, proto, err := d.new(t, srv.URL+"/portForward/ns/p").Dial(protocolPortForward)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if proto != protocolPortForward {
				t.Fatalf("protocol %q", proto)
			}
			refusedErr, refusedData := openPair(t, conn, "81", "7")
			okErr, okData := openPair(t, conn, "80", "8")
			if _, err := io.WriteString(okData, "GET /x HTTP/1.0\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			if b, _ := io.ReadAll(okData); !strings.HasSuffix(string(b), "page /x") {
				t.Errorf("port 80 answered %q", b)
			}
			if b, _ := io.ReadAll(okErr); len(b) != 0 {
				t.Errorf("port 80 error stream: %q", b)
			}
			want := "error forwarding port 81 to pod u, uid : dial tcp4 127.0.0.1:81: connect: connection refused"
			if b, _ := io.ReadAll(refusedErr); string(b) != want {
				t.Errorf("port 81 error stream:\n got %q\nwant %q", b, want)
			}
			if b, _ := io.ReadAll(refusedData); len(b) != 0 {
				t.Errorf("port 81 data: %q", b)
			}
		})
	}
}

// openPair opens the error stream (half-closed, as client-go does) and
// the data stream of one request.
func openPair(t *testing.T, conn httpstream.Connection, port, id string) (httpstream.Stream, httpstream.Stream) {
	t.Helper()
	h := http.Header{}
	h.Set(corev1.StreamType, corev1.StreamTypeError)
	h.Set(corev1.PortHeader, port)
	h.Set(corev1.PortForwardRequestIDHeader, id)
	errStream, err := conn.CreateStream(h)
	if err != nil {
		t.Fatal(err)
	}
	_ = errStream.Close()
	h.Set(corev1.StreamType, corev1.StreamTypeData)
	data, err := conn.CreateStream(h)
	if err != nil {
		t.Fatal(err)
	}
	return errStream, data
}

// TestPortForwardRejects covers requests the agent turns away before
// any stream: unknown pods and websockets without the tunnel protocol
// (so that kubectl falls back to SPDY), and SPDY without the protocol.
func TestPortForwardRejects(t *testing.T) {
	srv := newTestServerPorts(t, nil)
	ws := "ws" + strings.TrimPrefix(srv.URL, "http")
	for _, tt := range []struct {
		name     string
		url      string
		header   http.Header
		wantCode int
	}{
		{"unknown pod", ws + "/portForward/ns/missing", http.Header{"Sec-WebSocket-Protocol": {protocolPFTunnel}}, http.StatusNotFound},
		{"websocket without the tunnel protocol", ws + "/portForward/ns/p", http.Header{"Sec-WebSocket-Protocol": {"v4.channel.k8s.io"}}, http.StatusBadRequest},
		{"wrong pod uid", ws + "/portForward/ns/p/other", http.Header{"Sec-WebSocket-Protocol": {protocolPFTunnel}}, http.StatusNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, resp, err := websocket.DefaultDialer.Dial(tt.url, tt.header)
			if err == nil {
				c.Close()
				t.Fatal("upgraded")
			}
			if resp == nil || resp.StatusCode != tt.wantCode {
				t.Fatalf("response %v, want %d", resp, tt.wantCode)
			}
		})
	}
	t.Run("spdy without portforward.k8s.io", func(t *testing.T) {
		u, _ := neturl.Parse(srv.URL + "/portForward/ns/p")
		tr, up, _ := spdy.RoundTripperFor(&rest.Config{Host: u.Host})
		_, _, err := spdy.NewDialer(up, &http.Client{Transport: tr}, http.MethodPost, u).Dial("v9.portforward.k8s.io")
		if err == nil || !strings.Contains(err.Error(), "unable to negotiate protocol") {
			t.Fatalf("dial: %v", err)
		}
	})
}
