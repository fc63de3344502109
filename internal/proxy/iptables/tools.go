package iptables

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// Tools are the binaries of one iptables backend for one IP family, for
// other modes that write a few iptables rules (IPVS).
type Tools struct {
	IPTables, Save, Restore string
	// RandomFully says MASQUERADE --random-fully is supported.
	RandomFully bool
}

// ChooseTools picks the iptables backend as New does (the one asked for,
// or with auto the one holding rules, else legacy where it works) and
// returns its tools. It errors, wrapping proxy.ErrUnavailable, when none
// works.
func ChooseTools(ctx context.Context, ex Exec, family corev1.IPFamily, backend string) (Tools, Choice, error) {
	if ex == nil {
		ex = OSExec{}
	}
	c, err := choose(ctx, ex, family, backend)
	if err != nil {
		return Tools{}, Choice{}, fmt.Errorf("iptables %s: %w", family, err)
	}
	t := toolsFor(family, c.Backend)
	return Tools{IPTables: t.iptables, Save: t.save, Restore: t.restore, RandomFully: randomFully(ctx, ex, t)}, c, nil
}
