package ipvs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/svcplane/svcplane/internal/proxy"
)

var _ proxy.Handover = (*Backend)(nil)

// sharedChains are the chains the iptables mode writes too (kube-proxy's
// names): a handover leaves them to the next mode.
var sharedChains = map[string]bool{
	chainServices: true, chainPostrouting: true, chainMarkMasq: true, chainForward: true, chainProxyFirewall: true,
}

// Handover removes what only the IPVS mode uses, once next (the iptables
// mode, which rewrites KUBE-SERVICES, KUBE-POSTROUTING, KUBE-MARK-MASQ,
// KUBE-FORWARD and KUBE-PROXY-FIREWALL) runs: the IPVS-only chains and
// their jumps, the virtual services, kube-ipvs0 and the ipsets. For a mode
// sharing nothing it is Cleanup.
func (b *Backend) Handover(ctx context.Context, next proxy.Mode) error {
	if next == proxy.ModeIPVS {
		return nil
	}
	if !proxy.SharesRules(proxy.ModeIPVS, next) {
		return b.Cleanup(ctx)
	}
	var errs []error
	var in strings.Builder
	for _, t := range []string{tableNAT, tableFilter} {
		out, err := b.k.IPTables.Run(ctx, b.k.Tools.Save, []string{"-t", t}, nil)
		if err == nil {
			in.WriteString(cleanupTableExcept(t, string(out), sharedChains))
		}
	}
	if in.Len() > 0 {
		if _, err := b.k.IPTables.Run(ctx, b.k.Tools.Restore, []string{"-w", "5", "--noflush"}, []byte(in.String())); err != nil {
			errs = append(errs, fmt.Errorf("iptables handover: %w", err))
		}
	}
	errs = append(errs, b.cleanupKernel()...)
	b.reset()
	return errors.Join(errs...)
}
