// Package userspace is svcplane's userspace proxy mode: a Go L4 proxy for
// TCP and UDP that needs neither iptables nor nftables. Every Service
// address is bound to a dummy interface the backend owns (svcplane-us0);
// the backend listens on each address and Service port, and on the
// NodePorts of the node's addresses, and relays each connection (or UDP
// session) to an endpoint it picks with rr, lc or sh, with ClientIP
// affinity, trying another endpoint when a connect fails. Because the
// proxy opens the connection to the endpoint, the endpoint always sees
// the node's address (source NAT is inherent). See README.md.
package userspace
