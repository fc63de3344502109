package dns

// pktinfo.go: replies from the address a query was sent to, for a socket
// bound to a wildcard address (0.0.0.0, ::), where the kernel would
// otherwise pick the source by route: the readers ask for IP_PKTINFO and
// IPV6_PKTINFO and write the reply with the query's destination as its
// source, as miekg/dns's server does.

import (
	"errors"
	"net"

	"golang.org/x/sys/unix"
)

// pktinfoSize fits one IPv4 or IPv6 packet-info control message.
var pktinfoSize = max(unix.CmsgSpace(unix.SizeofInet4Pktinfo), unix.CmsgSpace(unix.SizeofInet6Pktinfo))

// enablePktinfo asks the kernel for the destination of every datagram on
// conn, for IPv4 and IPv6; it fails only when neither can be had.
func enablePktinfo(conn *net.UDPConn) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var err4, err6 error
	if err := raw.Control(func(fd uintptr) {
		err4 = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
		err6 = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
	}); err != nil {
		return err
	}
	if err4 != nil && err6 != nil {
		return errors.Join(err4, err6)
	}
	return nil
}

// replyPktinfo returns the control message that sends a reply from the
// destination recorded in oob, nil when oob records none.
func replyPktinfo(oob []byte) []byte {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_PKTINFO && len(m.Data) >= unix.SizeofInet4Pktinfo:
			var info unix.Inet4Pktinfo // {ifindex, spec_dst, addr}: addr is the header's destination
			copy(info.Spec_dst[:], m.Data[8:12])
			return unix.PktInfo4(&info)
		case m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_PKTINFO && len(m.Data) >= unix.SizeofInet6Pktinfo:
			var info unix.Inet6Pktinfo // {addr, ifindex}
			copy(info.Addr[:], m.Data[:16])
			return unix.PktInfo6(&info)
		}
	}
	return nil
}
