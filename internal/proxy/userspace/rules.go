package userspace

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// rulesSocket is the abstract unix socket (private to the network
// namespace) on which a running backend tells `svcplane proxy rules`
// what it serves.
func (b *Backend) rulesSocket() string {
	return "@svcplane-userspace-" + strings.ToLower(string(b.cfg.Family))
}

// Rules prints the interface's addresses and a table of the listeners
// with their service port, scheduler, affinity and endpoints (active
// connections in parentheses, local ones marked *). A backend that has
// not synced (`svcplane proxy rules` in another process) asks the
// running proxy of this network namespace, if any.
func (b *Backend) Rules(ctx context.Context) (string, error) {
	b.mu.Lock()
	synced := b.synced
	b.mu.Unlock()
	if synced {
		return b.render(), nil
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", b.rulesSocket())
	if err != nil {
		return "", nil // no userspace proxy runs here
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	out, err := io.ReadAll(c)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", b.rulesSocket(), err)
	}
	return string(out), nil
}

// serveRules starts answering on the rules socket once (another backend
// of the namespace may hold it; then this one stays silent).
func (b *Backend) serveRules() {
	if b.rules != nil {
		return
	}
	ln, err := net.Listen("unix", b.rulesSocket())
	if err != nil {
		b.log.Debug("rules socket", "err", err)
		return
	}
	b.rules = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, b.render())
			c.Close()
		}
	}()
}

// render is the Rules text of this backend.
func (b *Backend) render() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var sb strings.Builder
	vips := make([]netip.Addr, 0, len(b.vipRefs))
	for a := range b.vipRefs {
		vips = append(vips, a)
	}
	slices.SortFunc(vips, netip.Addr.Compare)
	fmt.Fprintf(&sb, "interface %s: %d addresses", b.cfg.Interface, len(vips))
	for _, a := range vips {
		sb.WriteString(" " + a.String())
	}
	fmt.Fprintf(&sb, "\nopen connections and UDP sessions: %d\n", b.conns.len())
	tw := tabwriter.NewWriter(&sb, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LISTEN\tPROTO\tSERVICE\tENTRY\tSCHED\tAFFINITY\tENDPOINTS")
	for _, k := range b.listenKeys() {
		svc, kd := b.listeners[k].owner()
		p := svc.pool.Load()
		aff := "-"
		if p.sp.AffinitySeconds > 0 {
			aff = "ClientIP " + strconv.Itoa(int(p.sp.AffinitySeconds)) + "s"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.addr, strings.ToUpper(k.proto), svc.name, kd, p.sched, aff, p.describe(kd))
	}
	tw.Flush()
	return sb.String()
}

func (b *Backend) listenKeys() []listenKey {
	keys := make([]listenKey, 0, len(b.listeners))
	for k := range b.listeners {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y listenKey) int {
		return cmp.Or(x.addr.Compare(y.addr), strings.Compare(x.proto, y.proto))
	})
	return keys
}

// describe lists the endpoints an entry of kind k uses.
func (p *pool) describe(k kind) string {
	eps := p.cluster
	switch {
	case k == kindClusterIP && p.sp.InternalPolicyLocal:
		eps = p.local
	case k != kindClusterIP && p.sp.ExternalPolicyLocal:
		eps = p.local
	}
	if len(eps) == 0 {
		return "none (drop)"
	}
	parts := make([]string, len(eps))
	for i, e := range eps {
		mark := ""
		if e.local {
			mark = "*"
		}
		parts[i] = fmt.Sprintf("%s%s(%d)", e.addr, mark, e.active.Load())
	}
	return strings.Join(parts, " ")
}
