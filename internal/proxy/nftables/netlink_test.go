package nftables

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// nla is one netlink attribute, padded.
func nla(typ uint16, payload ...[]byte) []byte {
	body := bytes.Join(payload, nil)
	out := binary.NativeEndian.AppendUint16(nil, uint16(4+len(body)))
	out = binary.NativeEndian.AppendUint16(out, typ)
	out = append(out, body...)
	for len(out)%4 != 0 {
		out = append(out, 0)
	}
	return out
}

func nested(typ uint16, payload ...[]byte) []byte { return nla(typ|unix.NLA_F_NESTED, payload...) }

func TestElementEncoding(t *testing.T) {
	slot := binary.NativeEndian.AppendUint32(nil, 2)
	key := func(k []byte) []byte { return nested(unix.NFTA_SET_ELEM_KEY, nla(unix.NFTA_DATA_VALUE, k)) }
	verdict := func(code int32, chain string) []byte {
		v := [][]byte{nla(unix.NFTA_VERDICT_CODE, binary.BigEndian.AppendUint32(nil, uint32(code)))}
		if chain != "" {
			v = append(v, nla(unix.NFTA_VERDICT_CHAIN, append([]byte(chain), 0)))
		}
		return nested(unix.NFTA_SET_ELEM_DATA, nested(unix.NFTA_DATA_VERDICT, v...))
	}
	for _, tt := range []struct {
		name string
		e    element
		want []byte
	}{
		{"service key to a chain", element{mapServiceIPs, []string{"10.96.0.1", "udp", "53"}, []string{"goto cluster-ip"}},
			nested(unix.NFTA_LIST_ELEM, key([]byte{10, 96, 0, 1, 17, 0, 0, 0, 0, 53, 0, 0}), verdict(unix.NFT_GOTO, "cluster-ip"))},
		{"no endpoints here", element{mapNoEndpoints, []string{"10.96.0.1", "sctp", "443"}, []string{"drop"}},
			nested(unix.NFTA_LIST_ELEM, key([]byte{10, 96, 0, 1, 132, 0, 0, 0, 1, 187, 0, 0}), verdict(0, ""))},
		{"endpoint slot", element{epMapName(mapEPCluster, "tcp"), []string{"10.96.0.1", "80", "2"}, []string{"10.244.0.7", "8080"}},
			nested(unix.NFTA_LIST_ELEM, key(append([]byte{10, 96, 0, 1, 0, 80, 0, 0}, slot...)),
				nested(unix.NFTA_SET_ELEM_DATA, nla(unix.NFTA_DATA_VALUE, []byte{10, 244, 0, 7, 0x1f, 0x90, 0, 0})))},
		{"hairpin pair", element{setHairpin, []string{"10.244.0.7", "10.244.0.7"}, nil},
			nested(unix.NFTA_LIST_ELEM, key([]byte{10, 244, 0, 7, 10, 244, 0, 7}))},
		{"IPv6", element{setHairpin, []string{"fd00::1", "fd00::1"}, nil},
			nested(unix.NFTA_LIST_ELEM, key(bytes.Repeat([]byte{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 2)))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b nlBuf
			if err := b.element(tt.e, false); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.buf, tt.want) {
				t.Errorf("got  %v\nwant %v", b.buf, tt.want)
			}
		})
	}
}

func TestElementEncodingBadInput(t *testing.T) {
	for _, e := range []element{
		{mapServiceIPs, []string{"10.96.0.1", "icmp", "53"}, []string{"goto x"}},
		{mapServiceIPs, []string{"10.96.0.1", "tcp", "70000"}, []string{"goto x"}},
		{mapServiceIPs, []string{"10.96.0.1", "tcp", "80"}, []string{"accept"}},
		{mapServiceIPs, []string{"not-an-ip", "tcp", "80"}, []string{"goto x"}},
		{setHairpin, []string{"10.0.0.1"}, nil},
	} {
		var b nlBuf
		if err := b.element(e, false); err == nil {
			t.Errorf("%v: no error", e)
		}
	}
}

// TestMessagesSplit: a set's elements go into messages whose element
// list stays under the 16-bit attribute length.
func TestMessagesSplit(t *testing.T) {
	w := netlinkLoader{fam: familyOf("IPv4")}.writer(setHairpin, unix.NFT_MSG_NEWSETELEM)
	for i := range 10000 {
		a := "10.0." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250)
		if err := w.add(element{setHairpin, []string{a, a}, nil}); err != nil {
			t.Fatal(err)
		}
	}
	msgs := w.finish()
	if len(msgs) < 3 {
		t.Errorf("%d messages for 10,000 elements of 28 bytes", len(msgs))
	}
	for _, m := range msgs {
		if errnos, err := parseMessages(m); err != nil || len(errnos) != 0 {
			t.Fatalf("parse: %v %v", errnos, err)
		}
		if l := int(binary.NativeEndian.Uint32(m)); l != len(m) || l > msgBudget+1024 {
			t.Errorf("message of %d bytes, header says %d", len(m), l)
		}
	}
}
