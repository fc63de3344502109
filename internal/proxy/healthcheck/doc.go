// Package healthcheck serves the node proxy's health as kube-proxy serves
// it (pkg/proxy/healthcheck):
//
//   - ProxyHealth answers /healthz and /livez at healthzBindAddress. The
//     proxy is healthy unless, for some IP family, an update has been
//     queued (QueuedUpdate) and not applied (Updated) for longer than the
//     timeout (kube-proxy uses 2 x syncPeriod). /healthz also requires the
//     node to be eligible: not being deleted and not tainted
//     ToBeDeletedByClusterAutoscaler.
//   - ServiceHealth opens one HTTP server per Service with
//     externalTrafficPolicy: Local and a healthCheckNodePort, on the node's
//     addresses, answering with the number of local endpoints so that
//     load balancers send traffic only to nodes that have some.
package healthcheck
