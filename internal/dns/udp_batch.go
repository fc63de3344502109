package dns

// udp_batch.go: reading and writing queries in batches with recvmmsg and
// sendmmsg, one system call for up to udpBatchSize datagrams each way
// when the socket has queued them (under load), one datagram per call
// otherwise. A batch is answered in the reader: the queries answered
// from memory (the cluster, the forwarder's cache) first, their replies
// sent together; a query that would wait for an upstream is handed to a
// goroutine of its own, so it never holds the batch back.

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// udpBatchSize is how many datagrams one recvmmsg reads at most.
const udpBatchSize = 16

// replyBufferSize is each batch slot's buffer for replies; bigger ones are
// allocated.
const replyBufferSize = 1232

// sockaddrSize fits a sockaddr_in6 (and a sockaddr_in).
const sockaddrSize = unix.SizeofSockaddrInet6

// udpBatch is one reader's batch state, reused for every batch.
type udpBatch struct {
	in    [][]byte
	oob   [][]byte
	names [][sockaddrSize]byte
	iov   []unix.Iovec
	hdrs  []unix.Mmsghdr
	out   [][]byte
	// the replies of a batch
	sendIov  []unix.Iovec
	sendHdrs []unix.Mmsghdr
	controls [][]byte // keeps the replies' control messages alive
}

func (u *udpServer) newBatch() *udpBatch {
	n := u.batch
	b := &udpBatch{
		in: make([][]byte, n), oob: make([][]byte, n), names: make([][sockaddrSize]byte, n),
		iov: make([]unix.Iovec, n), hdrs: make([]unix.Mmsghdr, n), out: make([][]byte, n),
		sendIov: make([]unix.Iovec, n), sendHdrs: make([]unix.Mmsghdr, n), controls: make([][]byte, n),
	}
	in := make([]byte, n*udpReadBuffer)
	out := make([]byte, n*replyBufferSize)
	for i := range n {
		b.in[i] = in[i*udpReadBuffer : (i+1)*udpReadBuffer : (i+1)*udpReadBuffer]
		b.out[i] = out[i*replyBufferSize : (i+1)*replyBufferSize : (i+1)*replyBufferSize]
		if u.pktinfo {
			b.oob[i] = make([]byte, pktinfoSize)
		}
		b.iov[i].Base = &b.in[i][0]
		b.iov[i].SetLen(udpReadBuffer)
	}
	return b
}

// readBatches is read for batches.
func (u *udpServer) readBatches() {
	b := u.newBatch()
	for {
		n, err := u.recvBatch(b)
		if u.retry(err) {
			continue
		}
		if !u.took(err) {
			return
		}
		u.answerBatch(b, n)
		if !u.idleAgain() {
			return
		}
	}
}

// recvBatch reads at least one datagram into b, waiting for the socket
// to be readable, and returns how many it read.
func (u *udpServer) recvBatch(b *udpBatch) (int, error) {
	for i := range b.hdrs {
		h := &b.hdrs[i].Hdr
		h.Name = &b.names[i][0]
		h.Namelen = sockaddrSize
		h.Iov = &b.iov[i]
		h.SetIovlen(1)
		h.Control, h.Controllen, h.Flags = nil, 0, 0
		if u.pktinfo {
			h.Control = &b.oob[i][0]
			h.SetControllen(len(b.oob[i]))
		}
		b.hdrs[i].Len = 0
	}
	raw, err := u.conn.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var errno syscall.Errno
	err = raw.Read(func(fd uintptr) bool {
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(len(b.hdrs)),
			unix.MSG_DONTWAIT, 0, 0)
		n, errno = int(r), e
		return errno != unix.EAGAIN && errno != unix.EINTR
	})
	if err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, errno
	}
	return n, nil
}

// answerBatch answers the n datagrams of b and sends the replies.
func (u *udpServer) answerBatch(b *udpBatch, n int) {
	k := 0
	for i := range n {
		h := &b.hdrs[i]
		pkt := b.in[i][:h.Len]
		client, ok := parseSockaddr(b.names[i][:h.Hdr.Namelen])
		if len(pkt) < headerSize || !ok {
			continue // dropped without a reply, as miekg/dns does
		}
		var oob []byte
		if u.pktinfo {
			oob = b.oob[i][:h.Hdr.Controllen]
		}
		wire, done := u.reply(pkt, client, b.out[i], true)
		if !done {
			u.deferQuery(pkt, oob, client)
			continue
		}
		if len(wire) == 0 {
			continue
		}
		s := &b.sendHdrs[k].Hdr
		s.Name, s.Namelen = h.Hdr.Name, h.Hdr.Namelen
		b.sendIov[k].Base = &wire[0]
		b.sendIov[k].SetLen(len(wire))
		s.Iov = &b.sendIov[k]
		s.SetIovlen(1)
		s.Control, s.Controllen, s.Flags = nil, 0, 0
		if u.pktinfo {
			if c := replyPktinfo(oob); len(c) > 0 {
				b.controls[k] = c
				s.Control = &c[0]
				s.SetControllen(len(c))
			}
		}
		k++
	}
	u.sendBatch(b, k)
	clear(b.controls)
}

// sendBatch sends the first n replies of b; a reply the kernel refuses
// is dropped, as a failed write is on the unbatched path.
func (u *udpServer) sendBatch(b *udpBatch, n int) {
	raw, err := u.conn.SyscallConn()
	if err != nil {
		return
	}
	for off := 0; off < n; {
		var sent int
		var errno syscall.Errno
		err := raw.Write(func(fd uintptr) bool {
			r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.sendHdrs[off])), uintptr(n-off),
				unix.MSG_DONTWAIT, 0, 0)
			sent, errno = int(r), e
			return errno != unix.EAGAIN && errno != unix.EINTR
		})
		switch {
		case err != nil:
			return // closed
		case errno != 0:
			off++ // the first one failed: skip it
		default:
			off += max(sent, 1)
		}
	}
}

// parseSockaddr returns the address of a sockaddr_in or sockaddr_in6.
func parseSockaddr(sa []byte) (netip.AddrPort, bool) {
	if len(sa) < 2 {
		return netip.AddrPort{}, false
	}
	port := func() uint16 { return binary.BigEndian.Uint16(sa[2:4]) }
	switch binary.NativeEndian.Uint16(sa) {
	case unix.AF_INET:
		if len(sa) < unix.SizeofSockaddrInet4 {
			return netip.AddrPort{}, false
		}
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(sa[4:8])), port()), true
	case unix.AF_INET6:
		if len(sa) < unix.SizeofSockaddrInet6 {
			return netip.AddrPort{}, false
		}
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(sa[8:24])), port()), true
	}
	return netip.AddrPort{}, false
}
