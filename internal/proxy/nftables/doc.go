// Package nftables is svcplane's nftables proxy mode: a flat layout whose
// chain count does not grow with Services or endpoints. Packets are
// dispatched by verdict maps keyed by (address . protocol . port) to a
// handful of fixed chains, and endpoints are elements of maps keyed by
// (address . protocol . port . slot), so a full sync is one `nft -f` of
// elements and a partial sync adds and deletes a few of them. Everything
// goes through sigs.k8s.io/knftables; its Fake is the stateful fake the
// tests and the packet tracer use. See README.md for the layout.
package nftables
