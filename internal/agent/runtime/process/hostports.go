package process

import (
	"context"
	"slices"

	"github.com/svcplane/svcplane/internal/agent/hostport"
)

// HostPorts maps pods' hostPorts on the node (a *hostport.Table), as the
// CNI portmap plugin does for a kubelet's runtime.
type HostPorts interface {
	// Sync makes the node's mappings those of every pod.
	Sync(ctx context.Context, ms []hostport.Mapping) error
}

// syncHostPorts writes the mappings of every pod held; a failure is
// logged and retried on the next EnsureSandbox.
func (r *Runtime) syncHostPorts(ctx context.Context) {
	if r.cfg.HostPorts == nil {
		return
	}
	r.hostPortsMu.Lock()
	defer r.hostPortsMu.Unlock()
	r.mu.Lock()
	var ms []hostport.Mapping
	for _, p := range r.pods {
		ms = append(ms, p.rec.HostPorts...)
	}
	r.mu.Unlock()
	slices.SortFunc(ms, func(a, b hostport.Mapping) int { return compareMappings(a, b) })
	err := r.cfg.HostPorts.Sync(ctx, ms)
	r.hostPortsStale = err != nil
	if err != nil {
		r.cfg.Logger.Error("hostPorts not mapped", "mappings", len(ms), "err", err)
		return
	}
	if len(ms) > 0 || len(r.hostPortsLast) > 0 {
		r.cfg.Logger.Info("hostPorts mapped", "mappings", ms)
	}
	r.hostPortsLast = ms
}

func compareMappings(a, b hostport.Mapping) int {
	if c := a.HostPort - b.HostPort; c != 0 {
		return int(c)
	}
	if c := a.PodIP.Compare(b.PodIP); c != 0 {
		return c
	}
	if a.Protocol != b.Protocol {
		if a.Protocol < b.Protocol {
			return -1
		}
		return 1
	}
	return a.HostIP.Compare(b.HostIP)
}

// hostPortsNeedSync says whether a pod with hostPorts should sync again
// (the last sync failed).
func (r *Runtime) hostPortsNeedSync(p *podEntry) bool {
	r.hostPortsMu.Lock()
	defer r.hostPortsMu.Unlock()
	return r.hostPortsStale && len(p.rec.HostPorts) > 0
}
