// Package allocator hands out Service cluster IPs and node ports, with
// kube-apiserver's behaviour and error texts.
//
// IPRange allocates addresses of one service CIDR and PortRange allocates
// node ports of one port range. Both keep a bitmap in memory, split the range
// into a lower static band and an upper dynamic band (KEP-3070 for IPs,
// KEP-3668 for ports), and pick dynamic values from the upper band first.
// Both satisfy Allocator, the interface the REST layer uses; package claim
// wraps them with one storage key per value, so that several API servers
// sharing one etcd never hand out a value twice (README.md).
//
// Allocators groups the allocators of a cluster and turns a Service create,
// update or delete into allocations and releases (Txn), reporting failures as
// the Status errors kube-apiserver returns, e.g.
//
//	The Service "x" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated
//
// Repair rebuilds the allocations from the Services in storage at start-up.
// Everything here is pure: the caller (or package claim) does the IO.
package allocator
