// Package forward resolves names outside the cluster through upstream
// servers, as CoreDNS's forward plugin does: upstreams from the
// configuration or /etc/resolv.conf, tried in random (or sequential)
// order, UDP first and TCP when the answer is truncated; an upstream that
// fails is marked down, tried last, and probed in the background every
// 0.5 s until it answers again. Stub domains (kube-dns's stubDomains) send
// their zones to their own servers. Answers go through an optional
// cache.Cache. Upstreams and stub domains can be replaced while serving.
package forward
