package nftables

import (
	"context"
	"iter"
	"sort"

	"sigs.k8s.io/knftables"
)

// bulkLoader replaces the elements of the large maps in one atomic step:
// every map of sets is flushed and refilled with elements (each of one
// of sets).
// A full sync of 10,000 Services writes over 100,000 elements; nft 1.0.6
// spends about 10 µs of its own time per element (mostly malloc), so the
// real kernel gets them through netlink (netlinkLoader), and knftables'
// Fake through a transaction (txLoader).
type bulkLoader interface {
	replace(ctx context.Context, sets []string, elements iter.Seq[element]) error
	// apply deletes, then adds, elements of the bulk sets in one step.
	apply(ctx context.Context, deletes, adds []element) error
}

// txLoader loads through knftables: one transaction of flushes and
// `add element` commands, in sorted order (the Fake keeps the order).
type txLoader struct{ nft knftables.Interface }

func (l txLoader) replace(ctx context.Context, sets []string, elements iter.Seq[element]) error {
	tx := l.nft.NewTransaction()
	for _, name := range sets {
		tx.Flush(element{set: name}.container())
	}
	var els []element
	for e := range elements {
		els = append(els, e)
	}
	sort.Slice(els, func(i, j int) bool { return els[i].id() < els[j].id() })
	for _, e := range els {
		tx.Add(e.object())
	}
	return l.nft.Run(ctx, tx)
}

func (l txLoader) apply(ctx context.Context, deletes, adds []element) error {
	tx := l.nft.NewTransaction()
	for _, e := range deletes {
		tx.Delete(e.object())
	}
	for _, e := range adds {
		tx.Add(e.object())
	}
	return l.nft.Run(ctx, tx)
}

// container is the set or map the element belongs to, as knftables names
// it for a flush.
func (e element) container() knftables.Object {
	if isSet(e.set) {
		return &knftables.Set{Name: e.set}
	}
	return &knftables.Map{Name: e.set}
}
