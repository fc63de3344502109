package claim

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
)

// Prefix is where claims are kept: one key per claimed value.
const Prefix = "/registry/serviceallocations/"

const portPrefix = Prefix + "nodeports/"

// IPKey is the key of a claimed cluster IP,
// Prefix + "ips/<family>/<ip>" with the family "ipv4" or "ipv6".
func IPKey(ip netip.Addr) string {
	ip = ip.Unmap()
	return ipPrefix(familyOf(ip)) + ip.String()
}

// NodePortKey is the key of a claimed node port, Prefix + "nodeports/<port>".
func NodePortKey(port int) string {
	return portPrefix + strconv.Itoa(port)
}

// Holder names what holds a Service's values: "services/<namespace>/<name>".
func Holder(namespace, name string) string {
	return "services/" + namespace + "/" + name
}

func ipPrefix(family v1.IPFamily) string {
	return Prefix + "ips/" + strings.ToLower(string(family)) + "/"
}

func familyOf(ip netip.Addr) v1.IPFamily {
	if ip.Unmap().Is4() {
		return v1.IPv4Protocol
	}
	return v1.IPv6Protocol
}

// Record is the value of a claim key.
type Record struct {
	// Holder is what holds the value, see Holder.
	Holder string `json:"holder"`
	// Server is the API server that wrote the claim.
	Server string `json:"server,omitempty"`
	// Time is when the claim was written, by that server's clock; for
	// people only (the sweep uses its own observations).
	Time time.Time `json:"time"`
}

func decodeRecord(data []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, fmt.Errorf("decode claim: %w", err)
	}
	return r, nil
}

// codec turns the values of one range into keys and back; name is the
// key without the prefix.
type codec[T comparable] struct {
	prefix string
	format func(T) string
	parse  func(name string) (T, error)
}

func (c codec[T]) key(v T) string { return c.prefix + c.format(v) }

func ipCodec(family v1.IPFamily) codec[netip.Addr] {
	return codec[netip.Addr]{
		prefix: ipPrefix(family),
		format: netip.Addr.String,
		parse:  netip.ParseAddr,
	}
}

func portCodec() codec[int] {
	return codec[int]{prefix: portPrefix, format: strconv.Itoa, parse: strconv.Atoi}
}
