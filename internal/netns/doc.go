// Package netns is the network plumbing of a node: named network
// namespaces (files bind-mounted in a directory, as `ip netns` keeps them
// in /run/netns), the node's bridge, one veth pair per pod with its address
// and default route, and the IPAM of pod IPs from the node's pod CIDR,
// persisted so that a restarted agent adopts the addresses it gave.
//
// Everything it creates is named with a per-cluster prefix (see Names), so
// that several clusters on one machine never collide and Sweep can find
// and remove all of a cluster's namespaces and the processes inside.
//
// The kernel is reached through two narrow interfaces, Namespaces and
// Network; Fake implements both in memory for unit tests.
package netns
