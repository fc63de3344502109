package cluster

// index_pods.go: Pods in the index, only when they are watched (pods
// verified, autopath): pod IP → namespace, for verified pod names and for
// finding the namespace of the pod asking.

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// setPod indexes Pod key, or drops it when it is done or has no IP. The
// caller holds the lock.
func (x *index) setPod(key nsName, p *corev1.Pod) {
	x.deletePod(key)
	rec, ok := toPod(p)
	if !ok {
		return
	}
	x.pods[key] = rec
	for _, ip := range rec.ips {
		addRef(x.podIPs, ip, key, rec.running)
	}
}

// deletePod drops Pod key; the caller holds the lock.
func (x *index) deletePod(key nsName) {
	old, ok := x.pods[key]
	if !ok {
		return
	}
	for _, ip := range old.ips {
		deleteRef(x.podIPs, ip, key)
	}
	delete(x.pods, key)
}

// podExists says a pod with address ip exists in namespace ns.
func (x *index) podExists(ip netip.Addr, ns string) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for key := range x.podIPs[ip] {
		if key.ns == ns {
			return true
		}
	}
	return false
}

// podNamespace returns the namespace of the running pods with address ip;
// ok is false when there are none, or when they are in several namespaces
// (host-network pods share their node's IP), where guessing could complete
// the wrong search path.
func (x *index) podNamespace(ip netip.Addr) (ns string, ok bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for key, running := range x.podIPs[ip] {
		switch {
		case !running:
		case ns == "":
			ns = key.ns
		case ns != key.ns:
			return "", false
		}
	}
	return ns, ns != ""
}
