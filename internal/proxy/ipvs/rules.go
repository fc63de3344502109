package ipvs

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/svcplane/svcplane/internal/proxy"
)

// applyRules writes the iptables rules with one iptables-restore
// --noflush when they changed (always on a full sync, which also inserts
// missing jumps from the built-in chains).
func (b *Backend) applyRules(ctx context.Context, st *proxy.State, full bool) error {
	lines := make([]string, 0, len(b.outFilter))
	for l := range b.outFilter {
		lines = append(lines, l)
	}
	sort.Strings(lines)
	nat, filter := rulesText(ruleInput{
		fam: b.cfg.Family, opts: st.Options, outFilter: lines, randomFully: b.k.Tools.RandomFully,
		nonEmpty: func(set string) bool { return len(b.entries[setName(set, b.cfg.Family)]) > 0 },
		comment:  setComment,
	})
	body := restoreText(nat, filter, nil)
	if !full && body == b.lastRules {
		return nil
	}
	var missing []jump
	if full {
		var err error
		if missing, err = b.missingJumps(ctx); err != nil {
			return err
		}
	}
	if _, err := b.k.IPTables.Run(ctx, b.k.Tools.Restore, []string{"-w", "5", "--noflush"}, []byte(restoreText(nat, filter, missing))); err != nil {
		b.lastRules = ""
		return fmt.Errorf("iptables-restore: %w", err)
	}
	b.lastRules = body
	return nil
}

func setComment(set string) string {
	for _, s := range setInfo {
		if s.Name == set {
			return s.Comment
		}
	}
	return ""
}

// missingJumps are the jumps iptables-save does not show.
func (b *Backend) missingJumps(ctx context.Context) ([]jump, error) {
	saved := map[string]string{}
	for _, t := range []string{tableNAT, tableFilter} {
		out, err := b.k.IPTables.Run(ctx, b.k.Tools.Save, []string{"-t", t}, nil)
		if err != nil {
			return nil, fmt.Errorf("iptables-save -t %s: %w", t, err)
		}
		saved[t] = string(out)
	}
	var missing []jump
	for _, j := range jumps {
		if !strings.Contains(saved[j.table], j.saveLine()+"\n") {
			missing = append(missing, j)
		}
	}
	return missing, nil
}

// Rules prints the mode's state: the virtual services in `ipvsadm -ln`
// style, the addresses of kube-ipvs0, the ipsets in `ipset save` style and
// the mode's iptables chains and jumps in iptables-save style. It is
// empty when the mode has nothing in the kernel.
func (b *Backend) Rules(ctx context.Context) (string, error) {
	svcs, err := b.familyServices()
	if err != nil {
		return "", err
	}
	if len(svcs) == 0 && !b.k.Links.Exists(DummyDevice) {
		return "", nil
	}
	var sb strings.Builder
	if err := b.writeIPVS(&sb, svcs); err != nil {
		return "", err
	}
	addrs, err := b.k.Links.Addrs(DummyDevice)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&sb, "\n# %s\n", DummyDevice)
	for _, a := range addrs {
		if familyOf(a) == b.cfg.Family {
			fmt.Fprintf(&sb, "inet %s\n", netip.PrefixFrom(a, a.BitLen()))
		}
	}
	if err := b.writeSets(&sb); err != nil {
		return "", err
	}
	return sb.String() + b.savedRules(ctx), nil
}

func (b *Backend) familyServices() ([]Service, error) {
	all, err := b.k.IPVS.Services()
	if err != nil {
		return nil, fmt.Errorf("list virtual services: %w", err)
	}
	var out []Service
	for _, s := range all {
		if familyOf(s.Address) == b.cfg.Family {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return lessService(out[i], out[j]) })
	return out, nil
}

func lessService(a, b Service) bool {
	if a.Protocol != b.Protocol {
		return a.Protocol < b.Protocol
	}
	if a.Address != b.Address {
		return a.Address.Less(b.Address)
	}
	return a.Port < b.Port
}

// writeIPVS prints services as `ipvsadm -ln` does.
func (b *Backend) writeIPVS(sb *strings.Builder, svcs []Service) error {
	sb.WriteString(b.k.IPVS.Version() + "\n")
	sb.WriteString("Prot LocalAddress:Port Scheduler Flags\n")
	sb.WriteString("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n")
	for _, s := range svcs {
		fmt.Fprintf(sb, "%-4s %s %s%s\n", s.Protocol, netip.AddrPortFrom(s.Address, s.Port), s.Scheduler, serviceFlags(s))
		ds, err := b.k.IPVS.Destinations(s)
		if err != nil {
			return fmt.Errorf("list real servers of %s: %w", s.Key(), err)
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i].Key() < ds[j].Key() })
		for _, d := range ds {
			fmt.Fprintf(sb, "  -> %-28s %-7s %-6d %-10d %d\n", d.Key(), "Masq", d.Weight, d.ActiveConn, d.InactConn)
		}
	}
	return nil
}

// serviceFlags are ipvsadm's words for a service's flags.
func serviceFlags(s Service) string {
	var out string
	if s.Flags&FlagPersistent != 0 {
		out += fmt.Sprintf(" persistent %d", s.Timeout)
	}
	if s.Flags&FlagSchedMHPort != 0 {
		out += " (mh-port)"
	}
	return out
}

// writeSets prints the mode's sets in `ipset save` style.
func (b *Backend) writeSets(sb *strings.Builder) error {
	sb.WriteString("\n# ipsets\n")
	names, err := b.k.Sets.Sets()
	if err != nil {
		return fmt.Errorf("list ipsets: %w", err)
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, s := range setsFor(b.cfg.Family) {
		if !have[s.Name] {
			continue
		}
		es, err := b.k.Sets.Entries(s.Name)
		if err != nil {
			return fmt.Errorf("list ipset %s: %w", s.Name, err)
		}
		if s.Type == "bitmap:port" {
			fmt.Fprintf(sb, "create %s %s range 0-65535\n", s.Name, s.Type)
		} else {
			fmt.Fprintf(sb, "create %s %s family %s\n", s.Name, s.Type, familyWord(s))
		}
		sort.Strings(es)
		for _, e := range es {
			fmt.Fprintf(sb, "add %s %s\n", s.Name, e)
		}
	}
	return nil
}

func familyWord(s SetSpec) string {
	if s.IPv6 {
		return "inet6"
	}
	return "inet"
}

// savedRules prints the mode's chains and jumps from iptables-save.
func (b *Backend) savedRules(ctx context.Context) string {
	var sb strings.Builder
	sb.WriteString("\n# iptables\n")
	for _, t := range []string{tableNAT, tableFilter} {
		out, err := b.k.IPTables.Run(ctx, b.k.Tools.Save, []string{"-t", t}, nil)
		if err != nil {
			fmt.Fprintf(&sb, "# iptables-save -t %s: %v\n", t, err)
			continue
		}
		sb.WriteString("*" + t + "\n")
		for _, l := range strings.Split(string(out), "\n") {
			if ownLine(t, l) {
				sb.WriteString(l + "\n")
			}
		}
		sb.WriteString("COMMIT\n")
	}
	return sb.String()
}

// ownLine says whether an iptables-save line of table is the mode's: its
// chain declarations, its chains' rules and its jumps.
func ownLine(table, l string) bool {
	for _, c := range chains {
		if c.table == table && (strings.HasPrefix(l, ":"+c.chain+" ") || strings.HasPrefix(l, "-A "+c.chain+" ")) {
			return true
		}
	}
	for _, j := range jumps {
		if j.table == table && l == j.saveLine() {
			return true
		}
	}
	return false
}

// Cleanup removes what the mode made: its iptables chains and jumps, its
// virtual services (those on kube-ipvs0's addresses and its NodePort
// services), kube-ipvs0, then its ipsets (which the rules referenced).
func (b *Backend) Cleanup(ctx context.Context) error {
	var errs []error
	if err := b.cleanupRules(ctx); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, b.cleanupKernel()...)
	b.reset()
	return errors.Join(errs...)
}

// cleanupKernel deletes the mode's virtual services, kube-ipvs0 and its
// ipsets (after the rules that reference them).
func (b *Backend) cleanupKernel() []error {
	var errs []error
	b.nodeAddrs = map[netip.Addr]bool{}
	if local, err := b.k.Links.LocalAddrs(DummyDevice); err == nil {
		for _, a := range local {
			b.nodeAddrs[a] = true
		}
	}
	if err := b.readKernel(); err == nil {
		for key, kv := range b.kvs {
			if err := b.k.IPVS.DeleteService(kv.svc); err != nil {
				errs = append(errs, fmt.Errorf("delete virtual service %s: %w", key, err))
			}
		}
	}
	if err := b.k.Links.DeleteLink(DummyDevice); err != nil {
		errs = append(errs, fmt.Errorf("delete %s: %w", DummyDevice, err))
	}
	for _, s := range setsFor(b.cfg.Family) {
		if err := b.k.Sets.DestroySet(s.Name); err != nil {
			errs = append(errs, fmt.Errorf("destroy ipset %s: %w", s.Name, err))
		}
	}
	return errs
}

// cleanupRules deletes the jumps, then flushes and deletes the chains,
// with one restore.
func (b *Backend) cleanupRules(ctx context.Context) error {
	var in strings.Builder
	for _, t := range []string{tableNAT, tableFilter} {
		out, err := b.k.IPTables.Run(ctx, b.k.Tools.Save, []string{"-t", t}, nil)
		if err != nil {
			continue
		}
		in.WriteString(cleanupTableExcept(t, string(out), nil))
	}
	if in.Len() == 0 {
		return nil
	}
	if _, err := b.k.IPTables.Run(ctx, b.k.Tools.Restore, []string{"-w", "5", "--noflush"}, []byte(in.String())); err != nil {
		return fmt.Errorf("iptables cleanup: %w", err)
	}
	return nil
}

// cleanupTableExcept is the restore input that deletes the mode's jumps
// and chains of one table, but those in keep.
func cleanupTableExcept(table, saved string, keep map[string]bool) string {
	var dels, present []string
	for _, l := range strings.Split(saved, "\n") {
		for _, j := range jumps {
			if j.table == table && l == j.saveLine() && !keep[j.to] {
				dels = append(dels, "-D "+l[3:])
			}
		}
		for _, c := range chains {
			if c.table == table && strings.HasPrefix(l, ":"+c.chain+" ") && !keep[c.chain] {
				present = append(present, c.chain)
			}
		}
	}
	if len(dels) == 0 && len(present) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.WriteString("*" + table + "\n")
	for _, c := range present {
		sb.WriteString(":" + c + " - [0:0]\n")
	}
	for _, d := range dels {
		sb.WriteString(d + "\n")
	}
	for _, c := range present {
		sb.WriteString("-X " + c + "\n")
	}
	sb.WriteString("COMMIT\n")
	return sb.String()
}
