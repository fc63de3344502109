// Package allocator hands out Service cluster IPs and node ports, with
// kube-apiserver's behaviour and error texts.
//
// IPRange allocates addresses of one service CIDR and PortRange allocates
// node ports of one port range. Both keep a bitmap in memory, split the range
// into a lower static band and an upper dynamic band (KEP-3070 for IPs,
// KEP-3668 for ports), and pick dynamic values from the upper band first.
// Both satisfy Allocator, the interface the REST layer uses, so another
// implementation (one etcd key per value, for several API servers) can take
// their place; see README.md.
//
// Allocators groups the allocators of a cluster and turns a Service create,
// update or delete into allocations and releases (Txn), reporting failures as
// the Status errors kube-apiserver returns, e.g.
//
//	The Service "x" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated
//
// Repair rebuilds the allocations from the Services in storage at start-up.
// Everything here is pure: the caller does the IO.
package allocator
