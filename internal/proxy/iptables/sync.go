package iptables

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/svcplane/svcplane/internal/proxy"
)

// Sync renders st and applies it with one iptables-restore --noflush,
// streaming the bulk of the text to it as it is rendered. A
// partial sync (st.Full false, and the previous sync succeeded) rewrites
// only the chains of the service ports in st.Changed, and the shared
// dispatch chains; a full one also ensures the jumps from the built-in
// chains and the canaries and deletes every stale per-service chain, all
// read from one iptables-save, the missing jumps and canaries written at
// the head of the same restore.
func (b *Backend) Sync(ctx context.Context, st *proxy.State) error {
	full := st.Full || b.needFull
	var existing []string
	var ensure []byte
	if full {
		saved, err := b.save(ctx)
		if err != nil {
			b.needFull = true
			return fmt.Errorf("iptables %s sync: %w", b.cfg.Family, err)
		}
		existing, ensure = saved.natChains, ensureText(jumpsFor(st), saved)
	}
	updates, deleted := b.build(st, full, existing)
	n, err := b.restore(ctx, ensure)
	if err != nil {
		b.needFull = true
		b.logRestoreError(err, append(ensure, b.r.text()...))
		return fmt.Errorf("iptables %s sync: restore: %w", b.cfg.Family, err)
	}
	b.commit(full, updates)
	b.needFull = false
	b.log.Debug("synced iptables rules", "full", full, "bytes", n, "deletedChains", len(deleted))
	return nil
}

var restoreArgs = []string{"-w", "5", "--noflush", "--counters"}

// restore runs iptables-restore of head (the missing jumps and canaries
// of a full sync, or nothing) and the rendered rules: streamed to its
// standard input as they are rendered when the Exec can (StreamExec),
// else as one text. It returns the bytes written.
func (b *Backend) restore(ctx context.Context, head []byte) (int64, error) {
	if sx, ok := b.ex.(StreamExec); ok {
		var n int64
		_, err := sx.RunStream(ctx, b.tools.restore, restoreArgs, func(w io.Writer) error {
			if _, err := w.Write(head); err != nil {
				return err
			}
			var err error
			n, err = b.r.writeTo(w)
			return err
		})
		return int64(len(head)) + n, err
	}
	text := append(head, b.r.text()...)
	_, err := b.run(ctx, b.tools.restore, restoreArgs, text)
	return int64(len(text)), err
}

// build makes the first pass of the render of st (see renderer): the
// filter table and the nat chain lines. It returns the chains now written
// for each rewritten service port (nil for a removed one) and the chains
// deleted.
func (b *Backend) build(st *proxy.State, full bool, existing []string) (map[proxy.ServicePortName][]string, []string) {
	r := &b.r
	r.names = b.names
	r.randomFully, r.tcpLiberal = b.randomFully, b.cfg.ConntrackTCPLiberal
	r.setup(st)
	r.natRules.off = true
	r.head()
	updates := make(map[proxy.ServicePortName][]string, len(st.Changed))
	if full {
		updates = make(map[proxy.ServicePortName][]string, len(st.Services))
	}
	for _, s := range st.Services {
		p := r.plan(s)
		r.dispatch(&p)
		_, known := b.written[s.Name]
		write := full || !known || st.Changed[s.Name]
		r.writes = append(r.writes, write)
		if write {
			updates[s.Name] = r.chains(&p)
		}
	}
	var deleted []string
	if full {
		deleted = b.staleFull(updates, existing)
	} else {
		deleted = b.stalePartial(st, updates)
	}
	r.deleted = deleted
	r.deleteChains(deleted)
	r.tail()
	return updates, deleted
}

// staleFull lists the per-service chains in the kernel or written before
// that the new rules do not use.
func (b *Backend) staleFull(updates map[proxy.ServicePortName][]string, existing []string) []string {
	if len(b.written) == 0 && !slices.ContainsFunc(existing, isServiceChain) {
		return nil // a first sync into a node without per-service chains
	}
	active := make(map[string]bool, len(updates)*4)
	for _, cs := range updates {
		for _, c := range cs {
			active[c] = true
		}
	}
	seen := map[string]bool{}
	var out []string
	add := func(c string) {
		if !active[c] && !seen[c] && isServiceChain(c) {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, c := range existing {
		add(c)
	}
	for _, cs := range b.written {
		for _, c := range cs {
			add(c)
		}
	}
	return out
}

// stalePartial lists the chains the rewritten service ports no longer
// use, and marks removed ports.
func (b *Backend) stalePartial(st *proxy.State, updates map[proxy.ServicePortName][]string) []string {
	for name := range st.Changed {
		if _, ok := updates[name]; !ok && st.Service(name) == nil {
			updates[name] = nil
		}
	}
	var out []string
	for name, now := range updates {
		old := b.written[name]
		if len(old) == 0 {
			continue
		}
		keep := make(map[string]bool, len(now))
		for _, c := range now {
			keep[c] = true
		}
		for _, c := range old {
			if !keep[c] {
				out = append(out, c)
			}
		}
	}
	return out
}

// commit records the chains of a successful restore and prunes the name
// cache on full syncs.
func (b *Backend) commit(full bool, updates map[proxy.ServicePortName][]string) {
	if full {
		b.written = make(map[proxy.ServicePortName][]string, len(updates))
		for name := range b.names {
			if _, ok := updates[name]; !ok {
				delete(b.names, name)
			}
		}
	}
	for name, cs := range updates {
		if cs == nil {
			delete(b.written, name)
			delete(b.names, name)
			continue
		}
		b.written[name] = cs
		if n := b.names[name]; n != nil && len(n.seps) > 2*len(cs)+8 {
			n.seps = map[netip.AddrPort]*sepNames{}
		}
	}
}

var failedLineRE = regexp.MustCompile(`line (\d+) failed`)

// logRestoreError logs a failed restore with the lines around the one that
// failed, as kube-proxy does.
func (b *Backend) logRestoreError(err error, text []byte) {
	m := failedLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		b.log.Error("iptables-restore failed", "err", err)
		return
	}
	n, _ := strconv.Atoi(m[1])
	lines := strings.Split(string(text), "\n")
	lo, hi := max(n-4, 0), min(n+3, len(lines))
	b.log.Error("iptables-restore failed", "err", err, "line", n, "context", strings.Join(lines[lo:hi], "\n"))
}
