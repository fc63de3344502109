package dns

import (
	"bytes"
	"encoding/binary"
	"testing"

	mdns "github.com/miekg/dns"
)

// FuzzServeDNS feeds raw messages through unpacking and ServeDNS, over
// UDP and TCP, and checks that each query gets exactly one well-formed
// reply with its ID and question that fits the client's buffer. `go test`
// runs the seeds only; fuzz longer with
//
//	go test -run '^$' -fuzz FuzzServeDNS -fuzztime 5m -parallel 1 ./internal/dns/
func FuzzServeDNS(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	s, err := NewServer(ServerConfig{Addrs: []string{"127.0.0.1:0"}, Cluster: NewFakeAnswerer(), Forwarder: &fakeForwarder{}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req := new(mdns.Msg)
		if req.Unpack(data) != nil {
			return
		}
		for _, tcp := range []bool{false, true} {
			w := newRecorder("127.0.0.1:5353", tcp)
			s.ServeDNS(w, req)
			checkFuzzReply(t, req, w, tcp)
		}
	})
}

func checkFuzzReply(t *testing.T, req *mdns.Msg, w *recorder, tcp bool) {
	if req.Response {
		if len(w.wire) != 0 {
			t.Fatal("answered a response")
		}
		return
	}
	m, err := w.msg()
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	if m.Id != req.Id || !m.Response {
		t.Fatalf("reply id %d qr %v to id %d", m.Id, m.Response, req.Id)
	}
	if len(req.Question) == 1 && m.Rcode != mdns.RcodeFormatError && (len(m.Question) != 1 || m.Question[0] != req.Question[0]) {
		t.Fatalf("reply question %v to %v", m.Question, req.Question)
	}
	limit := mdns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		limit = max(limit, int(opt.UDPSize()))
	}
	if !tcp && len(w.wire[0]) > limit {
		t.Fatalf("%d bytes over UDP for a %d-byte buffer", len(w.wire[0]), limit)
	}
}

// fuzzSeeds are well-formed queries of each kind the server treats apart
// and the malformed messages a resolver meets.
func fuzzSeeds() [][]byte {
	packed := func(m *mdns.Msg) []byte {
		b, err := m.Pack()
		if err != nil {
			panic(err)
		}
		return b
	}
	q := func(name string, qtype uint16, edit func(*mdns.Msg)) []byte {
		m := new(mdns.Msg)
		m.SetQuestion(name, qtype)
		if edit != nil {
			edit(m)
		}
		return packed(m)
	}
	// header: id 0x1234, rd, qdcount 1
	header := []byte{0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}
	withName := func(name []byte) []byte {
		return append(append(append([]byte{}, header...), name...), 0x00, 0x01, 0x00, 0x01)
	}
	longName := bytes.Repeat(append([]byte{63}, bytes.Repeat([]byte{'a'}, 63)...), 5)
	seeds := [][]byte{
		q("kubernetes.default.svc.cluster.local.", mdns.TypeA, nil),
		q("big.cluster.local.", mdns.TypeA, nil),
		q("big.cluster.local.", mdns.TypeA, func(m *mdns.Msg) { m.SetEdns0(600, true) }),
		q("panic.cluster.local.", mdns.TypeA, nil),
		q("www.example.org.", mdns.TypeAAAA, nil),
		q("cluster.local.", mdns.TypeAXFR, nil),
		q("cluster.local.", mdns.TypeSOA, func(m *mdns.Msg) { m.Opcode = mdns.OpcodeNotify }),
		q("a.cluster.local.", mdns.TypeA, func(m *mdns.Msg) { m.SetEdns0(4096, false); m.IsEdns0().SetVersion(1) }),
		q("a.cluster.local.", mdns.TypeA, func(m *mdns.Msg) { m.Question = append(m.Question, m.Question[0]) }),
		q("a.cluster.local.", mdns.TypeA, func(m *mdns.Msg) { m.Response = true }),
		q("version.bind.", mdns.TypeTXT, func(m *mdns.Msg) { m.Question[0].Qclass = mdns.ClassCHAOS }),
		{},
		{0x00, 0x01, 0x02},
		header[:5], // truncated header
		append(append([]byte{}, header...), 7, 'e'),                    // truncated question
		withName([]byte{0xc0, 0x0c}),                                   // compression pointer to itself
		withName([]byte{3, 'f', 'o', 'o', 0xc0, 0x0c}),                 // loop through a label
		withName(append([]byte{64}, bytes.Repeat([]byte{'x'}, 64)...)), // label over 63
		withName(append(longName, 0)),                                  // name over 255
		withName([]byte{4, 0xff, 0xe9, 0x00, '.', 7, 'c', 'l', 'u', 's', 't', 'e', 'r', 5, 'l', 'o', 'c', 'a', 'l', 0}), // non-ASCII
	}
	// arcount 1 with a truncated OPT record
	opt := append(withName([]byte{0}), 0x00, 0x00, 0x29, 0x10)
	binary.BigEndian.PutUint16(opt[10:], 1)
	return append(seeds, opt)
}
