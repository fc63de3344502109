package userspace

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net"
	"testing"
	"time"
)

// TestSockmapRelay hands a relay to the kernel and checks that data sent
// before and after the hand-over arrives whole and in order both ways,
// and that each side's half-close reaches the other after its data.
func TestSockmapRelay(t *testing.T) {
	m, err := newSockmap()
	if err != nil {
		t.Skipf("the kernel takes no socket redirects here: %v", err)
	}
	defer m.close()

	// The server reads to EOF, then answers with the digest of what it
	// got.
	srv := listen(t)
	go func() {
		c, err := srv.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		h := sha256.New()
		io.Copy(h, c)
		c.Write(h.Sum(nil))
	}()
	// The proxy's front listener; the client writes before the proxy has
	// even accepted, so the first bytes wait in the receive queue.
	front := listen(t)
	client, err := net.Dial("tcp", front.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	payload := make([]byte, 8<<20)
	rand.Read(payload)
	client.Write(payload[:1000])

	fc, err := front.Accept()
	if err != nil {
		t.Fatal(err)
	}
	bc, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	relayed := make(chan error, 1)
	go func() { relayed <- m.relay(fc.(*net.TCPConn), bc.(*net.TCPConn)) }()

	client.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := client.Write(payload[1000:]); err != nil {
		t.Fatal(err)
	}
	client.(*net.TCPConn).CloseWrite()
	answer, err := io.ReadAll(client)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	if want := sha256.Sum256(payload); !bytes.Equal(answer, want[:]) {
		t.Errorf("the server got other bytes than were sent: digest %x, want %x", answer, want)
	}
	select {
	case err := <-relayed:
		if err != nil {
			t.Errorf("relay: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the relay did not end after both half-closes")
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}
