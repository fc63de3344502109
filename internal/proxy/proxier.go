package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// FamilyConfig is one IP family the proxier programs.
type FamilyConfig struct {
	Family  corev1.IPFamily
	Backend Backend
	Options Options
	// NodeIPs are the node's addresses of the family.
	NodeIPs []netip.Addr
}

// SyncInfo tells hooks what one sync of one family did.
type SyncInfo struct {
	Family   corev1.IPFamily
	Mode     Mode
	Full     bool
	Duration time.Duration
	Err      error
	// Changes are the applied service and endpoint changes.
	Changes Changes
	// State is the state that was (or failed to be) programmed.
	State *State
}

// Hooks are called by the sync loop; any may be nil.
type Hooks struct {
	// Queued is called when a change asks for a sync.
	Queued func()
	// Synced is called after each family's sync.
	Synced func(SyncInfo)
}

// ProxierConfig configures a Proxier.
type ProxierConfig struct {
	NodeName string
	Families []FamilyConfig
	// MinSyncPeriod and SyncPeriod space syncs (kube-proxy's minSyncPeriod
	// and syncPeriod; defaults 1s and 30s).
	MinSyncPeriod, SyncPeriod time.Duration
	// Conntrack clears stale UDP flows after syncs; nil clears nothing.
	Conntrack Conntrack
	Hooks     Hooks
	Logger    *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Proxier runs the sync loop: trackers feed per-family maps, each sync
// builds the desired state and hands it to the family's backend.
type Proxier struct {
	cfg      ProxierConfig
	families []*family
	runner   *runner
	log      *slog.Logger

	now func() time.Time

	mu     sync.Mutex
	node   Node // labels; IPs are per family
	synced bool // informers have synced: until then nothing is programmed
	full   bool // the next sync must be full
}

type family struct {
	FamilyConfig
	tracker   *Tracker
	services  map[ServicePortName]*ServicePort
	endpoints EndpointsMap
	last      *State // the last state programmed
	full      bool   // the next sync of this family must be full
	lastFull  time.Time
}

// FullSyncPeriod is how often a sync is full even when nothing asks for
// it, so rules changed behind the proxier's back are rewritten
// (kube-proxy's proxyutil.FullSyncPeriod).
const FullSyncPeriod = time.Hour

// NewProxier returns a proxier; trackers are created for each family.
func NewProxier(cfg ProxierConfig, triggerTime TriggerTimeFunc) *Proxier {
	if cfg.MinSyncPeriod <= 0 {
		cfg.MinSyncPeriod = time.Second
	}
	if cfg.SyncPeriod <= 0 {
		cfg.SyncPeriod = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Proxier{cfg: cfg, log: cfg.Logger, node: Node{Name: cfg.NodeName}, full: true, now: cfg.Now}
	for _, fc := range cfg.Families {
		p.families = append(p.families, &family{
			FamilyConfig: fc,
			tracker:      NewTracker(fc.Family, cfg.NodeName, triggerTime),
			services:     map[ServicePortName]*ServicePort{},
			endpoints:    EndpointsMap{},
			full:         true,
		})
	}
	p.runner = newRunner(p.sync, cfg.MinSyncPeriod, cfg.SyncPeriod)
	return p
}

// Run syncs until ctx ends.
func (p *Proxier) Run(ctx context.Context) { p.runner.Run(ctx) }

// Trackers returns the change trackers, one per family, for the informer
// handlers.
func (p *Proxier) Trackers() []*Tracker {
	out := make([]*Tracker, len(p.families))
	for i, f := range p.families {
		out[i] = f.tracker
	}
	return out
}

// Changed asks for a sync after tracker updates.
func (p *Proxier) Changed() {
	if h := p.cfg.Hooks.Queued; h != nil {
		h()
	}
	p.runner.Kick()
}

// SetSynced says the informers have synced; syncs program rules from now.
func (p *Proxier) SetSynced() {
	p.mu.Lock()
	p.synced = true
	p.mu.Unlock()
	p.Changed()
}

// SetNodeLabels records the node's labels; a change of its topology labels
// forces a full sync, as in kube-proxy.
func (p *Proxier) SetNodeLabels(labels map[string]string) {
	p.mu.Lock()
	changed := p.node.Zone() != labels[corev1.LabelTopologyZone]
	p.node.Labels = labels
	if changed {
		p.full = true
	}
	p.mu.Unlock()
	if changed {
		p.Changed()
	}
}

func (p *Proxier) sync(ctx context.Context) error {
	p.mu.Lock()
	synced, node, full := p.synced, p.node, p.full
	p.full = false
	p.mu.Unlock()
	if !synced {
		return nil
	}
	var errs []error
	for _, f := range p.families {
		if err := p.syncFamily(ctx, f, node, full); err != nil {
			errs = append(errs, fmt.Errorf("sync %s %s: %w", f.Backend.Mode(), f.Family, err))
		}
	}
	if len(errs) > 0 {
		for _, err := range errs {
			p.log.Error("proxy rules sync failed; retrying with a full sync", "err", err)
		}
		return errs[0]
	}
	return nil
}

func (p *Proxier) syncFamily(ctx context.Context, f *family, node Node, full bool) error {
	start := p.now()
	changes := f.tracker.Apply(f.services, f.endpoints)
	full = full || f.full || start.Sub(f.lastFull) > FullSyncPeriod || f.Backend.NeedsFullSync(ctx)
	node.IPs = f.NodeIPs
	st := Build(Input{
		Family: f.Family, Node: node, Options: f.Options,
		Services: f.services, Endpoints: f.endpoints,
		Full: full, Changed: changes.Ports, Previous: f.last,
	})
	err := f.Backend.Sync(ctx, st)
	f.full = err != nil
	if err == nil {
		if full {
			f.lastFull = start
		}
		if p.cfg.Conntrack != nil {
			clearStale(ctx, p.cfg.Conntrack, f.last, st, p.log)
		}
		f.last = st
	}
	if h := p.cfg.Hooks.Synced; h != nil {
		h(SyncInfo{Family: f.Family, Mode: f.Backend.Mode(), Full: full, Duration: p.now().Sub(start), Err: err, Changes: changes, State: st})
	}
	return err
}
