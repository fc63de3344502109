package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
)

// respondMain runs the trivial responder: one UDP socket read and
// written in a loop, every query answered with one fixed A record without
// parsing more than the question. It is the limit (what a Go UDP server
// costs on this kernel with no DNS work) and the upstream for forwarded
// names.
func respondMain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("respond", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "UDP address (loopback only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ap, err := netip.ParseAddrPort(*listen)
	if err != nil || !ap.Addr().IsLoopback() {
		return fmt.Errorf("-listen %q: want a loopback ip:port", *listen)
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); conn.Close() }()
	return serveFixed(conn)
}

// fixedAnswer is the answer appended to every question: a pointer to the
// question's name, type A, class IN, TTL 300, 192.0.2.1 (TEST-NET-1).
var fixedAnswer = []byte{0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 192, 0, 2, 1}

func serveFixed(conn *net.UDPConn) error {
	in, out := make([]byte, 4096), make([]byte, 0, 4096+len(fixedAnswer))
	for {
		n, from, err := conn.ReadFromUDPAddrPort(in)
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			return err
		}
		if reply, ok := fixedReply(out[:0], in[:n]); ok {
			_, _ = conn.WriteToUDPAddrPort(reply, from)
		}
	}
}

// fixedReply appends to out the reply to query q: its header and
// question (without any OPT record) and fixedAnswer.
func fixedReply(out, q []byte) ([]byte, bool) {
	end, ok := questionEnd(q)
	if !ok || q[2]&0x80 != 0 {
		return nil, false
	}
	out = append(out, q[:end]...)
	out[2] |= 0x84 // QR, AA; opcode and RD kept
	out[3] = 0x80  // RA, NOERROR
	binary.BigEndian.PutUint16(out[4:], 1)
	binary.BigEndian.PutUint16(out[6:], 1)
	binary.BigEndian.PutUint32(out[8:], 0)
	return append(out, fixedAnswer...), true
}

// questionEnd is the offset just past the first question of q.
func questionEnd(q []byte) (int, bool) {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) == 0 {
		return 0, false
	}
	i := 12
	for i < len(q) && q[i] != 0 {
		if q[i]&0xc0 != 0 {
			return 0, false
		}
		i += int(q[i]) + 1
	}
	i += 1 + 4 // the root label, type and class
	return i, i <= len(q)
}
