// Package ipvs is the IPVS proxy mode, built as kube-proxy's IPVS mode
// builds it: every Service address is bound to the dummy interface
// kube-ipvs0, each address, protocol and port is an IPVS virtual service
// whose real servers are the endpoints (masquerading forwarding), and a
// constant handful of iptables rules match ipsets (KUBE-CLUSTER-IP,
// KUBE-LOOP-BACK, KUBE-NODE-PORT-TCP, ...) for masquerading, NodePorts and
// source ranges. The kernel is reached through small interfaces (Kernel)
// with a stateful Fake for tests and netlink for the real thing. See
// README.md.
package ipvs
