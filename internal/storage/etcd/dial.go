package etcd

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Client settings for an external cluster, kube-apiserver's: dialTimeout
// also bounds the first read; keepalives find a dead connection.
const (
	dialTimeout      = 20 * time.Second
	keepAliveTime    = 30 * time.Second
	keepAliveTimeout = 10 * time.Second
)

// Dial connects to the etcd cluster at endpoints (the --etcd-servers URLs),
// with tlsConfig when not nil, and reads once so that an unreachable cluster
// fails here, clearly, rather than at the first request.
func Dial(ctx context.Context, endpoints []string, tlsConfig *tls.Config) (*clientv3.Client, error) {
	client, err := clientv3.New(clientv3.Config{
		Endpoints:            endpoints,
		TLS:                  tlsConfig,
		DialTimeout:          dialTimeout,
		DialKeepAliveTime:    keepAliveTime,
		DialKeepAliveTimeout: keepAliveTimeout,
		Logger:               zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("dial etcd %v: %w", endpoints, err)
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	if _, err := client.Get(ctx, revisionKey, clientv3.WithCountOnly()); err != nil {
		client.Close()
		return nil, fmt.Errorf("dial etcd %v: %w", endpoints, classify(err))
	}
	return client, nil
}
