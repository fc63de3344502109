package stream

import (
	"bytes"
	"net/http"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// fakeStream is one SPDY stream, recording what the agent writes.
type fakeStream struct {
	id      uint32
	headers http.Header
	mu      sync.Mutex
	written bytes.Buffer
	reset   bool
}

func newFakeStream(id uint32, typ, port, requestID string) *fakeStream {
	h := http.Header{}
	for k, v := range map[string]string{corev1.StreamType: typ, corev1.PortHeader: port, corev1.PortForwardRequestIDHeader: requestID} {
		if v != "" {
			h.Set(k, v)
		}
	}
	return &fakeStream{id: id, headers: h}
}

func (f *fakeStream) Read([]byte) (int, error) { return 0, nil }
func (f *fakeStream) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.written.Write(p)
}
func (f *fakeStream) Close() error { return nil }
func (f *fakeStream) Reset() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reset = true
	return nil
}
func (f *fakeStream) Headers() http.Header { return f.headers }
func (f *fakeStream) Identifier() uint32   { return f.id }

func (f *fakeStream) state() (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.written.String(), f.reset
}

// TestPortForwardStreamHeaders checks what the stream handler accepts,
// as the kubelet does.
func TestPortForwardStreamHeaders(t *testing.T) {
	for _, tt := range []struct {
		name    string
		stream  *fakeStream
		wantErr string
		wantID  string
	}{
		{"error stream", newFakeStream(1, "error", "80", "4"), "", "4"},
		{"data stream", newFakeStream(3, "data", "65535", "4"), "", "4"},
		{"no requestID: the error stream's id", newFakeStream(5, "error", "80", ""), "", "5"},
		{"no requestID: data follows its error stream by 2", newFakeStream(7, "data", "80", ""), "", "5"},
		{"unknown type", newFakeStream(1, "stdin", "80", "0"), `invalid stream type "stdin"`, ""},
		{"port 0", newFakeStream(1, "data", "0", "0"), `invalid port header "0"`, ""},
		{"port too big", newFakeStream(1, "data", "65536", "0"), `invalid port header "65536"`, ""},
		{"no port", newFakeStream(1, "data", "", "0"), `invalid port header ""`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			typ, _, err := pfHeaders(tt.stream)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id := pfRequestID(tt.stream, typ); id != tt.wantID {
				t.Fatalf("request id %q, want %q", id, tt.wantID)
			}
		})
	}
}

// TestPortForwardPairTimeout: an error stream whose data stream never
// comes is told so and reset.
func TestPortForwardPairTimeout(t *testing.T) {
	s := newPFSession(pfConfig{Pod: "u", PairTimeout: 20 * time.Millisecond})
	errStream := newFakeStream(1, "error", "80", "0")
	replied := make(chan struct{})
	close(replied)
	if err := s.newStream(errStream, replied); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		written, reset := errStream.state()
		if reset {
			if want := "request 0: timed out after 20ms waiting for streams"; written != want {
				t.Fatalf("error stream got %q, want %q", written, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lone error stream was not reset")
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pairs) != 0 {
		t.Fatalf("pairs left: %v", s.pairs)
	}
}
