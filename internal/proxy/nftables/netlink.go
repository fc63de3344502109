package nftables

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// netlinkLoader sends the flushes and elements as one nfnetlink batch (one
// kernel transaction) from this process, in the network namespace of the
// calling thread. It writes the messages nft would send for `flush set`
// and `add element`, straight into one buffer per set: nothing is
// allocated per element. Elements are encoded as nft declares the maps'
// types: every field of a concatenation padded to 4 bytes, ports in
// network order, numgen slots in host order.
type netlinkLoader struct{ fam family }

// msgBudget bounds the elements of one message: their list is one
// attribute, whose length is 16 bits.
const msgBudget = 60 << 10

func (l netlinkLoader) replace(_ context.Context, sets []string, elements iter.Seq[element]) error {
	writers := make(map[string]*setWriter, len(sets))
	var msgs [][]byte
	for _, name := range sets {
		msgs = append(msgs, l.flushMessage(name))
		writers[name] = l.writer(name, unix.NFT_MSG_NEWSETELEM)
	}
	for e := range elements {
		w := writers[e.set]
		if w == nil {
			return fmt.Errorf("element of %s, which is not loaded through netlink", e.set)
		}
		if err := w.add(e); err != nil {
			return err
		}
	}
	for _, name := range sets {
		msgs = append(msgs, writers[name].finish()...)
	}
	return sendBatch(msgs)
}

// apply deletes, then adds, elements of bulk sets in one batch: a
// partial sync that only changes elements (an endpoint replaced).
func (l netlinkLoader) apply(_ context.Context, deletes, adds []element) error {
	var msgs [][]byte
	for _, step := range []struct {
		typ uint16
		els []element
	}{{unix.NFT_MSG_DELSETELEM, deletes}, {unix.NFT_MSG_NEWSETELEM, adds}} {
		writers := map[string]*setWriter{}
		var order []string
		for _, e := range step.els {
			w := writers[e.set]
			if w == nil {
				w = l.writer(e.set, step.typ)
				writers[e.set] = w
				order = append(order, e.set)
			}
			if err := w.add(e); err != nil {
				return err
			}
		}
		for _, name := range order {
			msgs = append(msgs, writers[name].finish()...)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return sendBatch(msgs)
}

func (l netlinkLoader) family() uint8 {
	if l.fam.nft == "ip6" {
		return unix.NFPROTO_IPV6
	}
	return unix.NFPROTO_IPV4
}

// writer writes elements of set in messages of type typ: NEWSETELEM
// (key and data) or DELSETELEM (key only).
func (l netlinkLoader) writer(set string, typ uint16) *setWriter {
	w := &setWriter{family: l.family(), set: set, typ: typ, flags: unix.NLM_F_CREATE}
	if typ == unix.NFT_MSG_DELSETELEM {
		w.flags, w.keyOnly = 0, true
	}
	return w
}

// flushMessage empties a set (DELSETELEM without elements).
func (l netlinkLoader) flushMessage(set string) []byte {
	var b nlBuf
	b.setHeader(l.family(), set, unix.NFT_MSG_DELSETELEM, 0)
	b.done()
	return b.buf
}

// setWriter writes the elements of one set in messages of at most
// msgBudget bytes (each its own buffer, so none is copied as the set
// grows).
type setWriter struct {
	family  uint8
	set     string
	typ     uint16
	flags   uint16
	keyOnly bool
	msgs    [][]byte
	b       nlBuf // the open message
	open    bool
	list    int // where its element list attribute starts
}

// setHeader starts a message about the elements of one set.
func (b *nlBuf) setHeader(family uint8, set string, typ, flags uint16) {
	b.message(unix.NFNL_SUBSYS_NFTABLES<<8|typ, unix.NLM_F_REQUEST|unix.NLM_F_ACK|flags, family, 0)
	b.attrString(unix.NFTA_SET_ELEM_LIST_TABLE, TableName)
	b.attrString(unix.NFTA_SET_ELEM_LIST_SET, set)
}

func (w *setWriter) closeMessage() {
	if w.open {
		w.b.endNest(w.list)
		w.b.done()
		w.msgs = append(w.msgs, w.b.buf)
		w.open = false
	}
}

// finish closes the open message and returns them all.
func (w *setWriter) finish() [][]byte {
	w.closeMessage()
	return w.msgs
}

// add writes one element, opening a new message when the open one is
// full. On error the element is left out.
func (w *setWriter) add(e element) error {
	if w.open && len(w.b.buf)-w.list > msgBudget {
		w.closeMessage()
	}
	if !w.open {
		w.b = nlBuf{buf: make([]byte, 0, msgBudget+4<<10)}
		w.b.setHeader(w.family, w.set, w.typ, w.flags)
		w.list = w.b.nest(unix.NFTA_SET_ELEM_LIST_ELEMENTS)
		w.open = true
	}
	mark := len(w.b.buf)
	if err := w.b.element(e, w.keyOnly); err != nil {
		w.b.buf = w.b.buf[:mark]
		return fmt.Errorf("%s: %w", e.set, err)
	}
	return nil
}

// element writes one NFTA_LIST_ELEM: its key, and its data or verdict
// unless keyOnly.
func (b *nlBuf) element(e element, keyOnly bool) error {
	keyKinds, valKinds, verdict := bulkFields(e.set)
	el := b.nest(unix.NFTA_LIST_ELEM)
	key := b.nest(unix.NFTA_SET_ELEM_KEY)
	if err := b.fields(unix.NFTA_DATA_VALUE, keyKinds, e.key); err != nil {
		return fmt.Errorf("key %v: %w", e.key, err)
	}
	b.endNest(key)
	switch {
	case keyOnly:
	case verdict:
		code, chain, err := parseVerdict(e.value)
		if err != nil {
			return err
		}
		data := b.nest(unix.NFTA_SET_ELEM_DATA)
		v := b.nest(unix.NFTA_DATA_VERDICT)
		b.attr(unix.NFTA_VERDICT_CODE, binary.BigEndian.AppendUint32(nil, uint32(code)))
		if chain != "" {
			b.attrString(unix.NFTA_VERDICT_CHAIN, chain)
		}
		b.endNest(v)
		b.endNest(data)
	case valKinds != nil:
		data := b.nest(unix.NFTA_SET_ELEM_DATA)
		if err := b.fields(unix.NFTA_DATA_VALUE, valKinds, e.value); err != nil {
			return fmt.Errorf("value %v: %w", e.value, err)
		}
		b.endNest(data)
	}
	b.endNest(el)
	return nil
}

// fieldKind is the type of one field of a set's key or a map's value.
type fieldKind int

const (
	fieldAddr  fieldKind = iota // ipv4_addr or ipv6_addr
	fieldProto                  // inet_proto, by name
	fieldPort                   // inet_service
	fieldSlot                   // the integer of numgen or jhash
)

// bulkFields are the key and value types of a bulk set; value nil is a
// verdict map when verdict is set, else a set.
func bulkFields(name string) (key, value []fieldKind, verdict bool) {
	switch {
	case name == setHairpin:
		return []fieldKind{fieldAddr, fieldAddr}, nil, false
	case strings.HasPrefix(name, mapEPCluster+"-"), strings.HasPrefix(name, mapEPLocal+"-"):
		return []fieldKind{fieldAddr, fieldPort, fieldSlot}, []fieldKind{fieldAddr, fieldPort}, false
	}
	return []fieldKind{fieldAddr, fieldProto, fieldPort}, nil, true
}

// fields writes a concatenation as one attribute: each field in a
// 4-byte multiple.
func (b *nlBuf) fields(typ uint16, kinds []fieldKind, vals []string) error {
	if len(kinds) != len(vals) {
		return fmt.Errorf("%d fields, want %d", len(vals), len(kinds))
	}
	start := b.open(typ)
	for i, k := range kinds {
		var reg [4]byte
		switch k {
		case fieldAddr:
			a, err := netip.ParseAddr(vals[i])
			if err != nil {
				return err
			}
			if a.Is4() {
				v := a.As4()
				b.buf = append(b.buf, v[:]...)
			} else {
				v := a.As16()
				b.buf = append(b.buf, v[:]...)
			}
			continue
		case fieldProto:
			p, ok := protoNumber(vals[i])
			if !ok {
				return fmt.Errorf("unknown protocol %q", vals[i])
			}
			reg[0] = p
		case fieldPort:
			n, err := strconv.ParseUint(vals[i], 10, 16)
			if err != nil {
				return err
			}
			binary.BigEndian.PutUint16(reg[:2], uint16(n))
		case fieldSlot:
			n, err := strconv.ParseUint(vals[i], 10, 32)
			if err != nil {
				return err
			}
			binary.NativeEndian.PutUint32(reg[:], uint32(n))
		}
		b.buf = append(b.buf, reg[:]...)
	}
	b.endNest(start)
	return nil
}

func protoNumber(name string) (byte, bool) {
	switch name {
	case "tcp":
		return unix.IPPROTO_TCP, true
	case "udp":
		return unix.IPPROTO_UDP, true
	case "sctp":
		return unix.IPPROTO_SCTP, true
	}
	return 0, false
}

// parseVerdict reads the verdicts the renderer writes: "goto <chain>",
// "drop".
func parseVerdict(v []string) (code int32, chain string, err error) {
	if len(v) == 1 {
		if chain, ok := strings.CutPrefix(v[0], "goto "); ok && chain != "" {
			return unix.NFT_GOTO, chain, nil
		}
		if v[0] == "drop" {
			return 0, "", nil // NF_DROP
		}
	}
	return 0, "", fmt.Errorf("unknown verdict %q", v)
}

// nlBuf builds netlink messages: a header, then attributes, some nested.
type nlBuf struct {
	buf []byte
	msg int // where the open message starts
}

// message starts a message with its nfgenmsg header.
func (b *nlBuf) message(typ, flags uint16, family uint8, resID uint16) {
	b.msg = len(b.buf)
	b.buf = binary.NativeEndian.AppendUint32(b.buf, 0) // length, set by done
	b.buf = binary.NativeEndian.AppendUint16(b.buf, typ)
	b.buf = binary.NativeEndian.AppendUint16(b.buf, flags)
	b.buf = append(b.buf, make([]byte, 8)...) // sequence, port id
	b.buf = append(b.buf, family, unix.NFNETLINK_V0)
	b.buf = binary.BigEndian.AppendUint16(b.buf, resID)
}

// done sets the open message's length.
func (b *nlBuf) done() {
	binary.NativeEndian.PutUint32(b.buf[b.msg:], uint32(len(b.buf)-b.msg))
}

// open starts an attribute whose length endNest sets.
func (b *nlBuf) open(typ uint16) int {
	start := len(b.buf)
	b.buf = binary.NativeEndian.AppendUint16(b.buf, 0)
	b.buf = binary.NativeEndian.AppendUint16(b.buf, typ)
	return start
}

func (b *nlBuf) nest(typ uint16) int { return b.open(typ | unix.NLA_F_NESTED) }

// endNest sets the length of the attribute at start and pads it.
func (b *nlBuf) endNest(start int) {
	binary.NativeEndian.PutUint16(b.buf[start:], uint16(len(b.buf)-start))
	for len(b.buf)%4 != 0 {
		b.buf = append(b.buf, 0)
	}
}

func (b *nlBuf) attr(typ uint16, data []byte) {
	start := b.open(typ)
	b.buf = append(b.buf, data...)
	b.endNest(start)
}

func (b *nlBuf) attrString(typ uint16, s string) {
	start := b.open(typ)
	b.buf = append(append(b.buf, s...), 0)
	b.endNest(start)
}

// sendBatch sends the messages as one batch in one sendmsg (nfnetlink
// reads a batch from one message) and reads the acknowledgements of its
// messages. The kernel runs the batch inside sendmsg, so every answer is
// queued when it returns.
func sendBatch(msgs [][]byte) error {
	var begin, end nlBuf
	begin.message(unix.NFNL_MSG_BATCH_BEGIN, unix.NLM_F_REQUEST, unix.AF_UNSPEC, unix.NFNL_SUBSYS_NFTABLES)
	begin.done()
	end.message(unix.NFNL_MSG_BATCH_END, unix.NLM_F_REQUEST, unix.AF_UNSPEC, unix.NFNL_SUBSYS_NFTABLES)
	end.done()
	messages := len(msgs)
	bufs := append(append([][]byte{begin.buf}, msgs...), end.buf)
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return fmt.Errorf("netlink socket: %w", err)
	}
	defer unix.Close(fd)
	size := 0
	for _, b := range bufs {
		size += len(b)
	}
	// One buffer: sendmsg takes at most IOV_MAX (1024) pieces.
	batch := make([]byte, 0, size)
	for _, b := range bufs {
		batch = append(batch, b...)
	}
	// Room for the whole batch, and for the acknowledgements (headers
	// only: NETLINK_CAP_ACK).
	for _, o := range [][2]int{{unix.SO_SNDBUFFORCE, size + 1<<16}, {unix.SO_RCVBUFFORCE, 1<<20 + messages*1024}} {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, o[0], o[1]); err != nil {
			return fmt.Errorf("netlink socket buffer: %w", err)
		}
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1); err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	if err := unix.Sendto(fd, batch, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink send (%d bytes): %w", size, err)
	}
	return readAcks(fd, messages)
}

// readAcks reads what the kernel queued: an acknowledgement per message,
// or errors. It never waits: the batch has run.
func readAcks(fd, messages int) error {
	buf := make([]byte, 1<<16)
	acks := 0
	var first error
	for {
		n, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EWOULDBLOCK) {
			break
		}
		if err != nil {
			return fmt.Errorf("netlink receive: %w", err)
		}
		msgs, err := parseMessages(buf[:n])
		if err != nil {
			return err
		}
		for _, errno := range msgs {
			if errno == 0 {
				acks++
			} else if first == nil {
				first = fmt.Errorf("netlink batch: %w", errno)
			}
		}
	}
	if first != nil {
		return first
	}
	if acks != messages {
		return fmt.Errorf("netlink batch: %d of %d messages acknowledged", acks, messages)
	}
	return nil
}

// parseMessages returns the error codes of the NLMSG_ERROR messages in b
// (0 for an acknowledgement).
func parseMessages(b []byte) ([]unix.Errno, error) {
	var out []unix.Errno
	for len(b) >= unix.NLMSG_HDRLEN {
		l := int(binary.NativeEndian.Uint32(b))
		typ := binary.NativeEndian.Uint16(b[4:])
		if l < unix.NLMSG_HDRLEN || l > len(b) {
			return nil, fmt.Errorf("netlink: bad message length %d", l)
		}
		if typ == unix.NLMSG_ERROR {
			if l < unix.NLMSG_HDRLEN+4 {
				return nil, errors.New("netlink: short error message")
			}
			code := int32(binary.NativeEndian.Uint32(b[unix.NLMSG_HDRLEN:]))
			out = append(out, unix.Errno(-code))
		}
		l = (l + 3) &^ 3
		if l > len(b) {
			break
		}
		b = b[l:]
	}
	return out, nil
}
