package nftables

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os/exec"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/knftables"

	"github.com/svcplane/svcplane/internal/proxy"
)

// Config configures a Backend.
type Config struct {
	// Family is the IP family the backend programs (table ip or ip6).
	Family corev1.IPFamily
	// NFT reaches nftables; nil means knftables.New for the family's
	// table. Tests pass knftables.NewFake(family, TableName).
	NFT knftables.Interface
	// LocalAddrs lists the node's addresses, for NodePorts on every local
	// address (nodePortAddresses 0.0.0.0/0); nil lists the interfaces of
	// the network namespace the process runs in.
	LocalAddrs func() []netip.Addr
	// Logger logs; nil means slog.Default().
	Logger *slog.Logger
	// Bulk is how a full sync writes the elements of the large maps:
	// BulkNetlink (one netlink batch from this process, in the network
	// namespace of the calling thread) or BulkNFT (knftables commands
	// through NFT). "" means BulkNetlink when NFT is nil and BulkNFT
	// when it is given (knftables' Fake is not reached by netlink).
	Bulk string
}

// The values of Config.Bulk.
const (
	BulkNetlink = "netlink"
	BulkNFT     = "nft"
)

// Backend is the nftables mode for one IP family.
type Backend struct {
	cfg  Config
	fam  family
	nft  knftables.Interface
	bulk bulkLoader
	log  *slog.Logger

	// What the kernel holds as of the last successful sync.
	claims    map[string]*claim
	held      map[proxy.ServicePortName]rendered
	chainRefs map[string]int
	chainDefs map[string][]string
	needFull  bool
	// noAffinity says the kernel's affinity map is known to be empty: no
	// service had affinity at the last successful sync.
	noAffinity bool
	// lastCheck is when NeedsFullSync last looked at the kernel, at most
	// every checkEvery.
	lastCheck  time.Time
	checkEvery time.Duration
}

// claim is an element in the kernel and how many service ports hold it.
type claim struct {
	element
	holders int
}

var _ proxy.Backend = (*Backend)(nil)

// New returns the nftables backend of cfg.Family. It errors, wrapping
// proxy.ErrUnavailable, when nft or the kernel's nftables is missing.
func New(cfg Config) (*Backend, error) {
	if cfg.Family == "" {
		cfg.Family = corev1.IPv4Protocol
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.LocalAddrs == nil {
		cfg.LocalAddrs = interfaceAddrs
	}
	if cfg.Bulk == "" {
		cfg.Bulk = BulkNFT
		if cfg.NFT == nil {
			cfg.Bulk = BulkNetlink
		}
	}
	fam := familyOf(cfg.Family)
	nft := cfg.NFT
	if nft == nil {
		var err error
		if nft, err = Open(cfg.Family); err != nil {
			return nil, err
		}
	}
	b := &Backend{cfg: cfg, fam: fam, nft: nft, log: cfg.Logger.With("family", string(cfg.Family)), needFull: true, checkEvery: 10 * time.Second}
	switch cfg.Bulk {
	case BulkNetlink:
		b.bulk = netlinkLoader{fam: fam}
	case BulkNFT:
		b.bulk = txLoader{nft: nft}
	default:
		return nil, fmt.Errorf("nftables: unknown Bulk %q (want %q or %q)", cfg.Bulk, BulkNetlink, BulkNFT)
	}
	b.reset()
	return b, nil
}

// Open returns the knftables interface of the family's table, as New
// uses it: listings go through netlink (`nft list` of a large table takes
// seconds, as it reads every element; a netlink dump of its chains takes
// milliseconds). It errors, wrapping proxy.ErrUnavailable, without nft.
func Open(family corev1.IPFamily) (knftables.Interface, error) {
	fam := familyOf(family)
	nft, err := knftables.New(fam.nft, TableName, knftables.UseNetlink)
	if err != nil {
		if nft, err = knftables.New(fam.nft, TableName); err != nil {
			return nil, fmt.Errorf("nftables %s: %w: %v", family, proxy.ErrUnavailable, err)
		}
	}
	return nft, nil
}

func (b *Backend) reset() {
	b.claims = map[string]*claim{}
	b.held = map[proxy.ServicePortName]rendered{}
	b.chainRefs = map[string]int{}
	b.chainDefs = map[string][]string{}
	b.noAffinity = false
}

// Mode is proxy.ModeNFTables.
func (b *Backend) Mode() proxy.Mode { return proxy.ModeNFTables }

// NeedsFullSync says whether the table went missing (someone deleted it),
// looking at most every 10 seconds.
func (b *Backend) NeedsFullSync(ctx context.Context) bool {
	if b.needFull || time.Since(b.lastCheck) < b.checkEvery {
		return false
	}
	b.lastCheck = time.Now()
	exists, err := b.tableExists(ctx)
	return err == nil && !exists
}

// tableExists says whether the table is in the kernel (it always has
// chains). A missing table is "not found" to nft, an empty list to the
// netlink listing.
func (b *Backend) tableExists(ctx context.Context) (bool, error) {
	chains, err := b.nft.List(ctx, "chain")
	switch {
	case knftables.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return len(chains) > 0, nil
}

// Rules is `nft list table` of the backend's table.
func (b *Backend) Rules(ctx context.Context) (string, error) {
	if f, ok := b.nft.(*knftables.Fake); ok {
		return f.Dump(), nil
	}
	if exists, err := b.tableExists(ctx); err == nil && !exists {
		return "", nil
	}
	out, err := exec.CommandContext(ctx, "nft", "list", "table", string(b.fam.nft), TableName).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("nft list table: %w: %s", err, out)
	}
	return string(out), nil
}

// Cleanup deletes the table, if it exists.
func (b *Backend) Cleanup(ctx context.Context) error {
	if exists, err := b.tableExists(ctx); err == nil && !exists {
		return nil
	}
	tx := b.nft.NewTransaction()
	tx.Delete(&knftables.Table{})
	if err := b.nft.Run(ctx, tx); err != nil && !knftables.IsNotFound(err) {
		return fmt.Errorf("nftables %s cleanup: %w", b.cfg.Family, err)
	}
	b.reset()
	b.needFull = true
	return nil
}

// interfaceAddrs lists the addresses of this network namespace.
func interfaceAddrs() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out
}
