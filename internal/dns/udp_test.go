package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// udpFixture is a udpServer on loopback whose handler answers every name
// with A 192.0.2.1 and blocks on the name "slow." until release closes.
type udpFixture struct {
	u       *udpServer
	addr    string
	release chan struct{}
	slow    chan struct{} // receives once per slow query being handled
	served  chan error
}

func startUDP(t *testing.T, listen string, readers, batch int) *udpFixture {
	t.Helper()
	conn, err := listenUDP(listen)
	if err != nil {
		t.Fatal(err)
	}
	f := &udpFixture{addr: conn.LocalAddr().String(), release: make(chan struct{}), slow: make(chan struct{}, 100), served: make(chan error, 1)}
	f.u = newUDPServer(conn, readers, batch, f.handle)
	started := make(chan struct{})
	go func() { f.served <- f.u.serve(func() { close(started) }) }()
	<-started
	t.Cleanup(func() { f.stop(t) })
	return f
}

func (f *udpFixture) handle(r *mdns.Msg, _ netip.AddrPort, buf []byte, quick bool) ([]byte, bool) {
	if r.Question[0].Name == "slow." {
		if quick {
			return nil, false
		}
		f.slow <- struct{}{}
		<-f.release
	}
	m := new(mdns.Msg)
	m.SetReply(r)
	m.Answer = []mdns.RR{&mdns.A{Hdr: header(r.Question[0].Name, mdns.TypeA), A: net.IPv4(192, 0, 2, 1)}}
	wire, err := m.PackBuffer(buf)
	if err != nil {
		panic(err)
	}
	return wire, true
}

// stop shuts the server down and checks every reader ended.
func (f *udpFixture) stop(t *testing.T) {
	t.Helper()
	select {
	case <-f.release:
	default:
		close(f.release)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f.u.shutdown(ctx)
	f.u.close()
	select {
	case err := <-f.served:
		f.served <- err
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after shutdown")
	}
	if n := f.u.idle.Load(); n != 0 {
		t.Errorf("%d readers left", n)
	}
}

func askA(t *testing.T, addr, name string) (*mdns.Msg, error) {
	t.Helper()
	c := &mdns.Client{Timeout: 2 * time.Second}
	m, _, err := c.Exchange(new(mdns.Msg).SetQuestion(name, mdns.TypeA), addr)
	return m, err
}

func TestUDPConcurrentQueries(t *testing.T) {
	forBothModes(t, func(t *testing.T, batch int) {
		f := startUDP(t, "127.0.0.1:0", 2, batch)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				for j := range 50 {
					name := mdns.Fqdn(net.IPv4(10, 0, byte(i), byte(j)).String() + ".test")
					m, err := askA(t, f.addr, name)
					if err != nil {
						t.Errorf("%s: %v", name, err)
						return
					}
					if len(m.Answer) != 1 || m.Answer[0].Header().Name != name {
						t.Errorf("%s: answer %v", name, m.Answer)
					}
				}
			})
		}
		wg.Wait()
	})
}

func TestUDPSlowQueriesDoNotStopOthers(t *testing.T) {
	forBothModes(t, func(t *testing.T, batch int) {
		f := startUDP(t, "127.0.0.1:0", 2, batch)
		slow := make(chan error, 5)
		for range 5 {
			go func() {
				_, err := askA(t, f.addr, "slow.")
				slow <- err
			}()
		}
		for range 5 {
			<-f.slow // every reader there was is now busy
		}
		if _, err := askA(t, f.addr, "fast."); err != nil {
			t.Fatalf("with 5 slow queries in flight: %v", err)
		}
		close(f.release)
		for range 5 {
			if err := <-slow; err != nil {
				t.Errorf("slow query: %v", err)
			}
		}
	})
}

func TestUDPShutdownAnswersQueriesInFlight(t *testing.T) {
	forBothModes(t, func(t *testing.T, batch int) {
		f := startUDP(t, "127.0.0.1:0", 2, batch)
		slow := make(chan error, 1)
		go func() {
			_, err := askA(t, f.addr, "slow.")
			slow <- err
		}()
		<-f.slow
		stopped := make(chan struct{})
		go func() {
			f.u.shutdown(context.Background())
			close(stopped)
		}()
		select {
		case <-stopped:
			t.Fatal("shutdown returned with a query in flight")
		case <-time.After(100 * time.Millisecond):
		}
		close(f.release)
		if err := <-slow; err != nil {
			t.Errorf("query in flight: %v", err)
		}
		<-stopped
		if _, err := askA(t, f.addr, "late."); err == nil {
			t.Error("answered after shutdown")
		}
	})
}

func TestUDPShutdownBeforeServe(t *testing.T) {
	conn, err := listenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := newUDPServer(conn, 2, 1, func(*mdns.Msg, netip.AddrPort, []byte, bool) ([]byte, bool) { return nil, true })
	u.shutdown(context.Background())
	u.close()
	done := make(chan error, 1)
	go func() { done <- u.serve(nil) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve after shutdown did not return")
	}
}

func TestUDPReadErrorStopsServing(t *testing.T) {
	forBothModes(t, func(t *testing.T, batch int) {
		f := startUDP(t, "127.0.0.1:0", 2, batch)
		boom := errors.New("boom")
		f.u.readFailed(boom)
		select {
		case err := <-f.served:
			f.served <- nil
			if !errors.Is(err, boom) {
				t.Errorf("serve: %v, want %v", err, boom)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("serve did not return after a read error")
		}
	})
}

// TestUDPRejects: what miekg/dns's server answers before any handler.
func TestUDPRejects(t *testing.T) {
	forBothModes(t, func(t *testing.T, batch int) {
		f := startUDP(t, "127.0.0.1:0", 2, batch)
		twoQuestions := new(mdns.Msg).SetQuestion("a.", mdns.TypeA)
		twoQuestions.Question = append(twoQuestions.Question, twoQuestions.Question[0])
		response := new(mdns.Msg).SetQuestion("a.", mdns.TypeA)
		response.Response = true
		notify := new(mdns.Msg).SetQuestion("a.", mdns.TypeA)
		notify.Opcode = mdns.OpcodeUpdate
		valid, err := new(mdns.Msg).SetQuestion("a.", mdns.TypeA).Pack()
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			wire  []byte
			rcode int // -1: no reply
		}{
			{"two questions", packed(t, twoQuestions), mdns.RcodeFormatError},
			{"a response", packed(t, response), -1},
			{"opcode UPDATE", packed(t, notify), mdns.RcodeNotImplemented},
			{"cut short after the header", valid[:14], mdns.RcodeFormatError},
			{"shorter than a header", valid[:5], -1},
		} {
			got, ok := rawExchange(t, f.addr, tc.wire)
			switch {
			case tc.rcode < 0 && ok:
				t.Errorf("%s: answered %v", tc.name, got)
			case tc.rcode >= 0 && !ok:
				t.Errorf("%s: no answer", tc.name)
			case ok && (got.Rcode != tc.rcode || !got.Response || len(got.Answer)+len(got.Ns)+len(got.Extra) != 0):
				t.Errorf("%s: got %v, want %s", tc.name, got, mdns.RcodeToString[tc.rcode])
			}
		}
		if _, err := askA(t, f.addr, "after.rejects."); err != nil {
			t.Errorf("after the rejects: %v", err)
		}
	})
}

func packed(t *testing.T, m *mdns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawExchange sends wire and returns the reply, false when none comes
// within 300 ms.
func rawExchange(t *testing.T, addr string, wire []byte) (*mdns.Msg, bool) {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(wire); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return nil, false
	}
	m := new(mdns.Msg)
	if err := m.Unpack(buf[:n]); err != nil {
		t.Fatalf("unpack reply: %v", err)
	}
	return m, true
}

// TestUDPWildcardRepliesFromDestination: bound to 0.0.0.0, a query sent
// to 127.0.0.2 is answered from 127.0.0.2 (a connected client drops a
// reply from any other address, e.g. 127.0.0.1 picked by route).
func TestUDPWildcardRepliesFromDestination(t *testing.T) {
	forBothModes(t, func(t *testing.T, batch int) {
		f := startUDP(t, "0.0.0.0:0", 2, batch)
		if !f.u.pktinfo {
			t.Fatal("no packet info on a wildcard socket")
		}
		_, port, _ := net.SplitHostPort(f.addr)
		if _, err := askA(t, net.JoinHostPort("127.0.0.2", port), "wildcard."); err != nil {
			t.Fatalf("query to 127.0.0.2: %v", err)
		}
	})
}

// forBothModes runs test with one query read at a time and in batches.
func forBothModes(t *testing.T, test func(t *testing.T, batch int)) {
	for _, batch := range []int{1, udpBatchSize} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) { test(t, batch) })
	}
}

// TestBatchable: batches only when the queries that would wait can be
// told apart.
func TestBatchable(t *testing.T) {
	plain := answerFunc(func(*mdns.Msg) *mdns.Msg { return nil })
	for _, tc := range []struct {
		name      string
		answerer  Answerer
		forwarder Forwarder
		want      bool
	}{
		{"nothing", nil, nil, true},
		{"quick answerer", NewFakeAnswerer(), nil, true},
		{"answerer that may wait", plain, nil, false},
		{"forwarder without a cache", NewFakeAnswerer(), &fakeForwarder{}, false},
	} {
		s, err := NewServer(ServerConfig{Addrs: []string{"127.0.0.1:0"}, Cluster: tc.answerer, Forwarder: tc.forwarder})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.batchable(); got != tc.want {
			t.Errorf("%s: batchable %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTransientReadErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "read", Err: os.NewSyscallError("recvfrom", syscall.ENOBUFS)}, true},
		{syscall.ECONNREFUSED, true},
		{syscall.EBADF, false},
		{net.ErrClosed, false},
		{os.ErrDeadlineExceeded, false},
	} {
		if got := transient(tc.err); got != tc.want {
			t.Errorf("transient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
