package nftables

import (
	"context"
	"fmt"
	"iter"
	"sort"

	"sigs.k8s.io/knftables"

	"github.com/svcplane/svcplane/internal/proxy"
)

// Sync programs st. A partial sync adds and deletes the elements (and
// pick chains) of the service ports in st.Changed only, in one
// transaction. A full sync is three steps, each atomic: the table,
// its sets, maps and chains (rules); every large map flushed and refilled
// in one batch (the bulkLoader); chains no longer used deleted.
func (b *Backend) Sync(ctx context.Context, st *proxy.State) error {
	full := st.Full || b.needFull
	r := &renderer{fam: b.fam, nodePortIPs: proxy.NodePortIPs(st, b.cfg.Family, b.cfg.LocalAddrs()), nodeIPs: st.Node.IPs}
	var err error
	if full {
		err = b.fullSync(ctx, st, r)
	} else {
		var ops int
		if ops, err = b.partialSync(ctx, st, r); err == nil {
			b.log.Debug("synced nftables rules", "full", false, "operations", ops)
		}
	}
	if err != nil {
		// What the kernel holds is unknown: start again from nothing.
		b.reset()
		b.needFull = true
		return fmt.Errorf("nftables %s sync: %w", b.cfg.Family, err)
	}
	b.needFull = false
	if full {
		b.noAffinity = !b.anyAffinity()
	}
	return nil
}

// fullSync rewrites everything but the dynamic affinity map, whose stale
// entries it deletes. Between its steps traffic sees the new rules with
// the old elements (which only refer to chains still there): the rules
// differ only when the options changed.
func (b *Backend) fullSync(ctx context.Context, st *proxy.State, r *renderer) error {
	existing, err := b.nft.List(ctx, "chain")
	if err != nil && !knftables.IsNotFound(err) {
		return fmt.Errorf("list chains: %w", err)
	}
	// The affinity map can hold entries only if the table was there and
	// some service had affinity, or nothing is known of it (a new
	// backend, or one after a failure): listing it reads the table.
	var affinity []*knftables.Element
	if len(existing) > 0 && !b.noAffinity {
		affinity = b.affinityEntries(ctx)
	}
	b.reset()
	b.acquireAll(st, r)
	tx, needed := b.structureTx(st)
	if err := b.nft.Run(ctx, tx); err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	if err := b.bulk.replace(ctx, bulkSets(), b.bulkElements()); err != nil {
		return fmt.Errorf("elements: %w", err)
	}
	cleanup := b.nft.NewTransaction()
	b.deleteStaleAffinity(cleanup, affinity)
	for _, name := range existing {
		if !needed[name] {
			cleanup.Delete(&knftables.Chain{Name: name})
		}
	}
	if cleanup.NumOperations() > 0 {
		if err := b.nft.Run(ctx, cleanup); err != nil {
			return fmt.Errorf("cleanup: %w", err)
		}
	}
	b.log.Debug("synced nftables rules", "full", true, "operations", tx.NumOperations()+cleanup.NumOperations(), "elements", len(b.claims))
	return nil
}

// acquireAll renders and claims every service port, into maps sized
// once (growing a map of 100,000 claims rehashes it again and again).
func (b *Backend) acquireAll(st *proxy.State, r *renderer) {
	outs := make([]rendered, len(st.Services))
	n := 0
	for i, s := range st.Services {
		outs[i] = r.render(s)
		n += len(outs[i].elements)
	}
	b.claims = make(map[string]*claim, n)
	b.held = make(map[proxy.ServicePortName]rendered, len(st.Services))
	for i, s := range st.Services {
		b.acquire(s.Name, outs[i])
	}
}

// structureTx declares the table, its sets, maps and chains, rewrites
// every chain and refills the small sets; needed are the chains it
// writes.
func (b *Backend) structureTx(st *proxy.State) (*knftables.Transaction, map[string]bool) {
	bulk := map[string]bool{}
	for _, name := range bulkSets() {
		bulk[name] = true
	}
	tx := b.nft.NewTransaction()
	tx.Add(&knftables.Table{})
	for _, obj := range b.fam.sets() {
		tx.Add(obj)
		if name := setName(obj); name != mapAffinity && !bulk[name] {
			tx.Flush(obj)
		}
	}
	needed := map[string]bool{}
	var rules []*knftables.Rule
	writeChain := func(c *knftables.Chain, body []string) {
		needed[c.Name] = true
		tx.Add(c)
		tx.Flush(c)
		for _, rule := range body {
			rules = append(rules, &knftables.Rule{Chain: c.Name, Rule: rule})
		}
	}
	fixed := b.fam.fixedChains(st.Options)
	for _, name := range sortedKeys(fixed) {
		writeChain(&knftables.Chain{Name: name}, fixed[name])
	}
	for _, name := range sortedKeys(b.chainRefs) {
		writeChain(&knftables.Chain{Name: name}, b.chainRules(name))
	}
	for _, bc := range baseChains() {
		writeChain(&knftables.Chain{Name: bc.name, Type: &bc.typ, Hook: &bc.hook, Priority: &bc.priority}, bc.rules)
	}
	for _, r := range rules {
		tx.Add(r)
	}
	for _, p := range st.Options.ClusterCIDRs {
		tx.Add(&knftables.Element{Set: setClusterCIDRs, Key: []string{p.Masked().String()}})
	}
	var small []string
	for id, c := range b.claims {
		if !bulk[c.set] {
			small = append(small, id)
		}
	}
	sort.Strings(small)
	for _, id := range small {
		tx.Add(b.claims[id].object())
	}
	return tx, needed
}

// bulkElements are the claimed elements of the bulk sets.
func (b *Backend) bulkElements() iter.Seq[element] {
	bulk := map[string]bool{}
	for _, name := range bulkSets() {
		bulk[name] = true
	}
	return func(yield func(element) bool) {
		for _, c := range b.claims {
			if bulk[c.set] && !yield(c.element) {
				return
			}
		}
	}
}

// setName is the name of a set or map of the layout.
func setName(obj knftables.Object) string {
	switch o := obj.(type) {
	case *knftables.Set:
		return o.Name
	case *knftables.Map:
		return o.Name
	}
	return ""
}

// partialSync writes the changes of the service ports in st.Changed:
// through the bulk loader when they are only elements of the large maps
// (an endpoint replaced: no nft process, no cache for nft to read), else
// as one knftables transaction.
func (b *Backend) partialSync(ctx context.Context, st *proxy.State, r *renderer) (int, error) {
	p := b.partialPlan(st, r)
	if p.elementsOnly() {
		return len(p.deletes) + len(p.adds), b.bulk.apply(ctx, p.deletes, p.adds)
	}
	tx := b.partialTx(ctx, p)
	return tx.NumOperations(), b.nft.Run(ctx, tx)
}

// partialPlan is what a partial sync changes, in the order it is
// written.
type partialPlan struct {
	newChains     []string // pick chains that become used
	deletes, adds []element
	affinity      bool     // some changed service port has or had affinity
	unusedChains  []string // pick chains no longer used
}

// elementsOnly says the plan is elements of bulk sets only.
func (p partialPlan) elementsOnly() bool {
	if p.affinity || len(p.newChains) > 0 || len(p.unusedChains) > 0 {
		return false
	}
	for _, els := range [][]element{p.deletes, p.adds} {
		for _, e := range els {
			if !isBulk(e.set) {
				return false
			}
		}
	}
	return true
}

// partialPlan moves the claims of the service ports in st.Changed to
// what they render now and returns the difference.
func (b *Backend) partialPlan(st *proxy.State, r *renderer) partialPlan {
	names := make([]proxy.ServicePortName, 0, len(st.Changed))
	for n := range st.Changed {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		return names[i].String()+string(names[i].Protocol) < names[j].String()+string(names[j].Protocol)
	})
	before := map[string]element{}
	chainsBefore := map[string]int{}
	var p partialPlan
	for _, n := range names {
		old := b.held[n]
		p.affinity = p.affinity || hasAffinity(old)
		b.noteBefore(old, before, chainsBefore)
		b.release(n)
	}
	for _, n := range names {
		if s := st.Service(n); s != nil {
			out := r.render(s)
			p.affinity = p.affinity || hasAffinity(out)
			b.noteBefore(out, before, chainsBefore)
			b.acquire(n, out)
		}
	}
	for _, id := range sortedKeys(before) {
		was, now := before[id], b.claims[id]
		switch {
		case was.set == "" && now != nil:
			p.adds = append(p.adds, now.element)
		case was.set != "" && now == nil:
			p.deletes = append(p.deletes, was)
		case was.set != "" && now != nil && !equal(was.value, now.value):
			p.deletes = append(p.deletes, was)
			p.adds = append(p.adds, now.element)
		}
	}
	for _, name := range sortedKeys(chainsBefore) {
		switch {
		case chainsBefore[name] == 0 && b.chainRefs[name] > 0:
			p.newChains = append(p.newChains, name)
		case chainsBefore[name] > 0 && b.chainRefs[name] == 0:
			p.unusedChains = append(p.unusedChains, name)
			delete(b.chainRefs, name)
			delete(b.chainDefs, name)
		}
	}
	return p
}

// partialTx writes a plan: pick chains that become used, elements that
// go or change, elements that come, stale affinity entries, chains no
// longer used, in that order.
func (b *Backend) partialTx(ctx context.Context, p partialPlan) *knftables.Transaction {
	tx := b.nft.NewTransaction()
	for _, name := range p.newChains {
		tx.Add(&knftables.Chain{Name: name})
		tx.Flush(&knftables.Chain{Name: name})
		for _, rule := range b.chainRules(name) {
			tx.Add(&knftables.Rule{Chain: name, Rule: rule})
		}
	}
	for _, e := range p.deletes {
		tx.Delete(e.object())
	}
	for _, e := range p.adds {
		tx.Add(e.object())
	}
	if p.affinity {
		b.noAffinity = false
		b.deleteStaleAffinity(tx, b.affinityEntries(ctx))
	}
	for _, name := range p.unusedChains {
		tx.Delete(&knftables.Chain{Name: name})
	}
	return tx
}

// noteBefore records, for every element id and chain out touches, what
// the kernel held before this sync (the first time it is seen).
func (b *Backend) noteBefore(out rendered, before map[string]element, chains map[string]int) {
	for _, e := range out.elements {
		id := e.id()
		if _, ok := before[id]; ok {
			continue
		}
		if c := b.claims[id]; c != nil {
			before[id] = c.element
		} else {
			before[id] = element{}
		}
	}
	for _, c := range out.chains {
		if _, ok := chains[c.name]; !ok {
			chains[c.name] = b.chainRefs[c.name]
		}
	}
}

// acquire makes out held by n: each element is claimed unless another
// service port holds its key with another value (two Services claiming
// one external address and port: the first keeps it).
func (b *Backend) acquire(n proxy.ServicePortName, out rendered) {
	if _, ok := schedulerOf(out.scheduler); !ok {
		b.log.Warn("unknown "+proxy.SchedulerAnnotation+" value; using random", "servicePort", n.String(), "scheduler", out.scheduler)
	}
	held := rendered{chains: out.chains, scheduler: out.scheduler, elements: make([]element, 0, len(out.elements))}
	for _, e := range out.elements {
		id := e.id()
		c := b.claims[id]
		switch {
		case c == nil:
			b.claims[id] = &claim{element: e, holders: 1}
		case equal(c.value, e.value):
			c.holders++
		default:
			b.log.Warn("two service ports claim one key; the first keeps it", "key", id, "servicePort", n.String())
			continue
		}
		held.elements = append(held.elements, e)
	}
	for _, c := range out.chains {
		b.chainRefs[c.name]++
		b.chainDefs[c.name] = c.rules
	}
	b.held[n] = held
}

// release gives up what n holds.
func (b *Backend) release(n proxy.ServicePortName) {
	old, ok := b.held[n]
	if !ok {
		return
	}
	for _, e := range old.elements {
		id := e.id()
		if c := b.claims[id]; c != nil {
			if c.holders--; c.holders <= 0 {
				delete(b.claims, id)
			}
		}
	}
	for _, c := range old.chains {
		b.chainRefs[c.name]--
	}
	delete(b.held, n)
}

// chainRules are the rules of a service chain (pick or affinity).
func (b *Backend) chainRules(name string) []string { return b.chainDefs[name] }

// anyAffinity says whether some service key has ClientIP affinity.
func (b *Backend) anyAffinity() bool {
	for _, c := range b.claims {
		if c.set == mapAffinitySvcs {
			return true
		}
	}
	return false
}

func hasAffinity(r rendered) bool {
	for _, e := range r.elements {
		if e.set == mapAffinitySvcs {
			return true
		}
	}
	return false
}

// object is the element as knftables writes it.
func (e element) object() *knftables.Element {
	obj := &knftables.Element{Key: e.key, Value: e.value}
	if isSet(e.set) {
		obj.Set = e.set
	} else {
		obj.Map = e.set
	}
	return obj
}

// isSet says whether the layout's set of that name is a set, not a map.
func isSet(name string) bool {
	switch name {
	case setClusterCIDRs, setFirewallIPs, setFirewallAllow, setHairpin:
		return true
	}
	return false
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
