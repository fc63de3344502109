// Package iptables is svcplane's iptables proxy mode: it renders a
// proxy.State into one `iptables-restore --noflush` transaction, rule for
// rule as kube-proxy 1.32 writes it (chains KUBE-SERVICES, KUBE-SVC-*,
// KUBE-SEP-*, ...), applies it, and rewrites only the chains of changed
// service ports on partial syncs (KEP-3453). Everything that touches the
// kernel goes through the Exec seam; package iptablestest has a stateful
// fake of it. See README.md for the design and the knobs.
package iptables
