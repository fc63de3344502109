// Package proxy is the common core of svcplane's node proxy: it turns
// Services and EndpointSlices into a desired state that one backend
// (iptables, nftables, ipvs, userspace) programs into the node.
//
// Watching, deciding and writing are kept apart, as in kube-proxy's
// pkg/proxy: change trackers keep {previous, current} per object; Build is
// a pure function from the service and endpoint maps to a State; a Backend
// renders a State as one transaction and applies it atomically. The State
// says which service ports changed since the last successful sync, so a
// backend can rewrite only those (a partial sync).
package proxy
