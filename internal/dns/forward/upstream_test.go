package forward

import (
	"net"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// fakeUpstream is a DNS server on 127.0.0.1 serving UDP and TCP on one
// port, for the forwarder to query.
type fakeUpstream struct {
	addr      string
	udpCount  atomic.Int64 // queries over UDP, health checks excluded
	tcpCount  atomic.Int64
	checks    atomic.Int64 // health checks (". IN NS")
	answering atomic.Bool  // when false, queries get no answer at all
}

// startUpstream starts a fake upstream whose answers are built by answer.
func startUpstream(t *testing.T, answer func(req *dns.Msg, tcp bool) *dns.Msg) *fakeUpstream {
	t.Helper()
	u := &fakeUpstream{}
	u.answering.Store(true)
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		_, tcp := w.RemoteAddr().(*net.TCPAddr)
		if r.Question[0].Name == "." && r.Question[0].Qtype == dns.TypeNS {
			u.checks.Add(1)
		} else if tcp {
			u.tcpCount.Add(1)
		} else {
			u.udpCount.Add(1)
		}
		if !u.answering.Load() {
			return
		}
		w.WriteMsg(answer(r, tcp))
	})
	pc, ln := listenLoopback(t)
	u.addr = ln.Addr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: handler}, {Listener: ln, Handler: handler}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return u
}

// listenLoopback opens UDP and TCP sockets on the same free port of
// 127.0.0.1.
func listenLoopback(t *testing.T) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", port))
		if err == nil {
			return pc, ln
		}
		ln.Close()
	}
	t.Fatal("no free port for UDP and TCP")
	return nil, nil
}

// deadAddr returns a loopback address where nothing listens: queries to
// it fail at once with "connection refused".
func deadAddr(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

// answerA answers every question with an A record of ip, TTL 300.
func answerA(ip string) func(*dns.Msg, bool) *dns.Msg {
	return func(req *dns.Msg, _ bool) *dns.Msg {
		m := new(dns.Msg)
		m.SetReply(req)
		m.RecursionAvailable = true
		if req.Question[0].Qtype == dns.TypeA {
			rr, _ := dns.NewRR(req.Question[0].Name + " 300 IN A " + ip)
			m.Answer = []dns.RR{rr}
		}
		return m
	}
}
