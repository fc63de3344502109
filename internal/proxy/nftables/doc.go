// Package nftables is svcplane's nftables proxy mode: a flat layout whose
// chain count does not grow with Services or endpoints. Packets are
// dispatched by verdict maps keyed by (address . protocol . port) to a
// handful of fixed chains, and endpoints are elements of maps keyed by
// (address . protocol . port . slot), so a full sync is mostly elements
// and a partial sync adds and deletes a few of them. Rules go through
// sigs.k8s.io/knftables, whose Fake is the stateful fake the tests and the
// packet tracer use; the elements of the large maps go to the kernel as
// one netlink batch the backend writes itself (netlink.go), because nft
// takes 10 µs per element. See README.md for the layout and the syncs.
package nftables
