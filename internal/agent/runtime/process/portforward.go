package process

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/netns"
)

// dialTimeout bounds one connect to a pod's port.
const dialTimeout = 10 * time.Second

// DialPort connects to localhost:port in the pod's network namespace:
// the socket is made on a thread switched into the namespace, so it lives
// there however the connection is used afterwards. IPv4 is tried first,
// then IPv6, as containerd does.
func (r *Runtime) DialPort(ctx context.Context, uid types.UID, port uint16) (net.Conn, error) {
	r.mu.Lock()
	p, ok := r.pods[uid]
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("pod sandbox %s not found", uid)
	}
	path := p.rec.NetnsPath
	if path == "" {
		return dialLocalhost(ctx, string(uid), port)
	}
	var conn net.Conn
	err := netns.Do(path, func() error {
		c, err := dialLocalhost(ctx, string(uid), port)
		conn = c
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("failed to execute portforward in network namespace %q: %w", path, err)
	}
	return conn, nil
}

// dialLocalhost dials 127.0.0.1, then [::1], in the calling thread's
// network namespace; the error names both attempts as containerd's does
// (its trailing space included).
func dialLocalhost(ctx context.Context, sandbox string, port uint16) (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	p := strconv.Itoa(int(port))
	c, err4 := d.DialContext(ctx, "tcp4", net.JoinHostPort("127.0.0.1", p))
	if err4 == nil {
		return c, nil
	}
	c, err6 := d.DialContext(ctx, "tcp6", net.JoinHostPort("::1", p))
	if err6 == nil {
		return c, nil
	}
	return nil, fmt.Errorf("failed to connect to localhost:%d inside namespace %q, IPv4: %v IPv6 %v ", port, sandbox, err4, err6)
}
