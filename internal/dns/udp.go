package dns

// udp.go: the UDP serving loop. miekg/dns's server starts a goroutine per
// packet, reads with a fresh buffer and an out-of-band buffer each time
// and packs every reply into a new slice; on one core that per-query work
// (stack growth above all) costs as much as answering. Here a few
// long-lived readers each read a query into a buffer of their own, answer
// it and write the reply packed into another buffer of their own. When
// the last idle reader takes a query (every other one is busy, e.g.
// waiting for an upstream) it first starts another, so a slow answer
// never stops the socket; readers beyond maxIdle end once they are done.
// miekg/dns still parses and packs, and serves TCP.

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	mdns "github.com/miekg/dns"
)

// Header bits of a DNS message (RFC 1035 §4.1.1), as miekg/dns's.
const (
	bitQR = 1 << 15
	bitAA = 1 << 10
	bitTC = 1 << 9
	bitRD = 1 << 8
	bitRA = 1 << 7
	bitZ  = 1 << 6
	bitAD = 1 << 5
	bitCD = 1 << 4
)

// headerSize is the length of a DNS header.
const headerSize = 12

// packBufferSize is each reader's buffer for replies; bigger ones (over
// TCP-sized EDNS buffers) are allocated.
const packBufferSize = 4096

// udpHandler answers r from client and returns the packed reply, nil for
// none; it may pack into buf. With quick set it answers only what needs
// no waiting, and says done false for the rest.
type udpHandler func(r *mdns.Msg, client netip.AddrPort, buf []byte, quick bool) (wire []byte, done bool)

// udpServer serves one UDP socket with a few long-lived readers.
type udpServer struct {
	conn    *net.UDPConn
	handle  udpHandler
	maxIdle int64
	pktinfo bool // bound to a wildcard address: reply from the query's destination
	batch   int  // queries read at once (recvmmsg); 1 reads one at a time

	idle     atomic.Int64 // readers not busy with a query
	stopping atomic.Bool
	wg       sync.WaitGroup
	done     chan struct{} // closed when every reader has ended

	mu      sync.Mutex
	started bool
	err     error // the read error that stopped serving
}

// newUDPServer returns a server for conn; readers is how many wait for
// queries when none is busy (at least 2, so a busy one never leaves the
// socket unread). With batch above 1 the readers read up to batch
// queries at once, answer the quick ones and send their replies at once,
// and hand the others to goroutines of their own.
func newUDPServer(conn *net.UDPConn, readers, batch int, handle udpHandler) *udpServer {
	u := &udpServer{conn: conn, handle: handle, maxIdle: int64(max(readers, 2)), batch: max(batch, 1), done: make(chan struct{})}
	if a, ok := conn.LocalAddr().(*net.UDPAddr); ok && a.IP.IsUnspecified() {
		u.pktinfo = enablePktinfo(conn) == nil
	}
	return u
}

// udpReader is the state of one reader, reused for every query it reads.
type udpReader struct {
	in  []byte
	oob []byte
	out []byte
}

// serve starts the readers, calls started, and returns once they have
// all ended: nil after shutdown, else the read error that stopped them.
func (u *udpServer) serve(started func()) error {
	u.mu.Lock()
	if u.stopping.Load() {
		u.mu.Unlock()
		close(u.done)
		return nil
	}
	u.started = true
	u.mu.Unlock()
	for range u.maxIdle {
		u.spawn()
	}
	if started != nil {
		started()
	}
	u.wg.Wait()
	close(u.done)
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.err
}

// spawn starts one more idle reader.
func (u *udpServer) spawn() {
	u.idle.Add(1)
	u.wg.Add(1)
	go u.read()
}

// read reads and answers queries until the socket closes or shutdown.
func (u *udpServer) read() {
	defer u.wg.Done()
	if u.batch > 1 {
		u.readBatches()
		return
	}
	r := &udpReader{in: make([]byte, udpReadBuffer), out: make([]byte, packBufferSize)}
	if u.pktinfo {
		r.oob = make([]byte, pktinfoSize)
	}
	for {
		n, oobn, client, err := u.readFrom(r)
		if u.retry(err) {
			continue
		}
		if !u.took(err) {
			return
		}
		u.answer(r, r.in[:n], r.oob[:oobn], client)
		if !u.idleAgain() {
			return
		}
	}
}

// took accounts for a read that returned err: false ends the reader.
// When the reader took the last idle place, another reader starts, so
// the socket stays read while this one is busy.
func (u *udpServer) took(err error) bool {
	if u.idle.Add(-1) == 0 && err == nil {
		u.spawn()
	}
	if err != nil {
		u.readFailed(err)
		return false
	}
	return true
}

// idleAgain makes a reader idle after its work; false ends it, when
// enough others are idle.
func (u *udpServer) idleAgain() bool {
	if u.idle.Add(1) > u.maxIdle {
		u.idle.Add(-1)
		return false
	}
	return true
}

func (u *udpServer) readFrom(r *udpReader) (n, oobn int, client netip.AddrPort, err error) {
	for {
		if u.pktinfo {
			n, oobn, _, client, err = u.conn.ReadMsgUDPAddrPort(r.in, r.oob)
		} else {
			n, client, err = u.conn.ReadFromUDPAddrPort(r.in)
		}
		if err != nil || n >= headerSize {
			return n, oobn, client, err
		}
		// Shorter than a header: dropped without a reply, as miekg/dns does.
	}
}

// retry says a read error leaves the socket usable (e.g. ENOBUFS, or an
// ICMP error reported on it), so the reader reads again, after a pause
// that keeps a lasting error from spinning.
func (u *udpServer) retry(err error) bool {
	if err == nil || u.stopping.Load() || !transient(err) {
		return false
	}
	time.Sleep(time.Millisecond)
	return true
}

// transient says err is a system call's error other than a broken socket.
func transient(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno) && errno != syscall.EBADF && errno != syscall.ENOTSOCK && errno != syscall.EINVAL
}

// readFailed ends serving on a read error that is not the shutdown's.
func (u *udpServer) readFailed(err error) {
	if u.stopping.Load() || errors.Is(err, net.ErrClosed) {
		return
	}
	u.mu.Lock()
	if u.err == nil {
		u.err = err
	}
	u.mu.Unlock()
	u.stopReading()
}

// stopReading makes every reader's next read return.
func (u *udpServer) stopReading() {
	u.stopping.Store(true)
	_ = u.conn.SetReadDeadline(time.Unix(1, 0))
}

// answer answers one query and writes the reply.
func (u *udpServer) answer(r *udpReader, pkt, oob []byte, client netip.AddrPort) {
	if wire, _ := u.reply(pkt, client, r.out, false); wire != nil {
		u.write(wire, oob, client)
	}
}

// reply returns the packed reply to pkt, nil for none: what miekg/dns's
// server does before its handler (drop responses, FORMERR or NOTIMP for
// what its default accept function rejects or what does not parse),
// then the handler. With quick set, done is false for a query that would
// wait.
func (u *udpServer) reply(pkt []byte, client netip.AddrPort, buf []byte, quick bool) (wire []byte, done bool) {
	h := mdns.Header{
		Id: binary.BigEndian.Uint16(pkt), Bits: binary.BigEndian.Uint16(pkt[2:]),
		Qdcount: binary.BigEndian.Uint16(pkt[4:]), Ancount: binary.BigEndian.Uint16(pkt[6:]),
		Nscount: binary.BigEndian.Uint16(pkt[8:]), Arcount: binary.BigEndian.Uint16(pkt[10:]),
	}
	switch action := mdns.DefaultMsgAcceptFunc(h); action {
	case mdns.MsgIgnore:
		return nil, true
	case mdns.MsgAccept:
		req := new(mdns.Msg)
		if err := req.Unpack(pkt); err != nil {
			return rejectWire(req, mdns.MsgReject, buf), true
		}
		return u.handle(req, client, buf, quick)
	default:
		return rejectWire(msgOfHeader(h), action, buf), true
	}
}

// deferQuery answers a query that may wait in a goroutine of its own,
// with copies of its bytes.
func (u *udpServer) deferQuery(pkt, oob []byte, client netip.AddrPort) {
	pkt, oob = slices.Clone(pkt), slices.Clone(oob)
	u.wg.Go(func() {
		if wire, _ := u.reply(pkt, client, nil, false); wire != nil {
			u.write(wire, oob, client)
		}
	})
}

// msgOfHeader returns a message with header h and no records.
func msgOfHeader(h mdns.Header) *mdns.Msg {
	m := new(mdns.Msg)
	m.Id = h.Id
	m.Response = h.Bits&bitQR != 0
	m.Opcode = int(h.Bits>>11) & 0xF
	m.Authoritative = h.Bits&bitAA != 0
	m.Truncated = h.Bits&bitTC != 0
	m.RecursionDesired = h.Bits&bitRD != 0
	m.RecursionAvailable = h.Bits&bitRA != 0
	m.Zero = h.Bits&bitZ != 0
	m.AuthenticatedData = h.Bits&bitAD != 0
	m.CheckingDisabled = h.Bits&bitCD != 0
	m.Rcode = int(h.Bits & 0xF)
	return m
}

// rejectWire packs miekg/dns's reply to a rejected or unparsable request
// req: the request itself as a reply, FORMERR (NOTIMP, with the opcode
// kept, for MsgRejectNotImplemented), without records but its question.
func rejectWire(req *mdns.Msg, action mdns.MsgAcceptAction, buf []byte) []byte {
	opcode := req.Opcode
	req.SetRcodeFormatError(req)
	req.Zero = false
	if action == mdns.MsgRejectNotImplemented {
		req.Opcode = opcode
		req.Rcode = mdns.RcodeNotImplemented
	}
	req.Ns, req.Answer, req.Extra = nil, nil, nil
	wire, err := req.PackBuffer(buf)
	if err != nil {
		return nil
	}
	return wire
}

// write sends a reply; write errors (a client gone) are not reported, as
// miekg/dns's server does not either.
func (u *udpServer) write(wire, oob []byte, client netip.AddrPort) {
	if u.pktinfo {
		_, _, _ = u.conn.WriteMsgUDPAddrPort(wire, replyPktinfo(oob), client)
		return
	}
	_, _ = u.conn.WriteToUDPAddrPort(wire, client)
}

// shutdown stops reading and waits until the queries in flight are
// answered or ctx ends.
func (u *udpServer) shutdown(ctx context.Context) {
	u.mu.Lock()
	u.stopReading()
	started := u.started
	u.mu.Unlock()
	if !started {
		return
	}
	select {
	case <-u.done:
	case <-ctx.Done():
	}
}

// close closes the socket, ending every read and write.
func (u *udpServer) close() { _ = u.conn.Close() }
