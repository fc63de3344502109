package proxy

import (
	"context"
	"errors"
)

// Mode names a proxy mode, as kube-proxy's configuration spells it.
type Mode string

// The modes.
const (
	ModeIPTables  Mode = "iptables"
	ModeNFTables  Mode = "nftables"
	ModeIPVS      Mode = "ipvs"
	ModeUserspace Mode = "userspace"
)

// Backend programs desired states into the node for one IP family. Sync
// applies a State as one atomic transaction (a partial one when the State
// is not Full); a failed Sync leaves the previous rules in place, and the
// next Sync is full. Implementations are not safe for concurrent use: the
// sync runner calls them from one goroutine.
type Backend interface {
	// Mode is the mode the backend runs.
	Mode() Mode
	// Sync programs st.
	Sync(ctx context.Context, st *State) error
	// NeedsFullSync says whether something outside the proxy changed the
	// rules (kube-proxy's canary), so that the next sync must be full.
	NeedsFullSync(ctx context.Context) bool
	// Rules prints the programmed rules in the mode's native view
	// (iptables-save, nft list table, ipvsadm -ln).
	Rules(ctx context.Context) (string, error)
	// Cleanup removes every rule, chain, table and address the backend
	// programmed.
	Cleanup(ctx context.Context) error
}

// ErrUnavailable is returned (wrapped) by a backend constructor when the
// node lacks what the mode needs (a kernel module, a tool).
var ErrUnavailable = errors.New("proxy mode unavailable")

// A Handover backend shares rule names with another mode (ipvs and
// iptables share kube-proxy's KUBE-* chains), so its Cleanup would remove
// rules the other mode's running proxy owns. Handover removes only what
// next does not reuse; it runs after next has programmed its rules.
type Handover interface {
	Handover(ctx context.Context, next Mode) error
}

// SharesRules says whether modes a and b write rules of the same names,
// so that one cannot be cleaned up while the other runs.
func SharesRules(a, b Mode) bool {
	kube := func(m Mode) bool { return m == ModeIPTables || m == ModeIPVS }
	return a == b || (kube(a) && kube(b))
}
