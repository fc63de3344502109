package stream

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/httpstream"
)

// pfConfig configures one port-forward connection.
type pfConfig struct {
	Pod types.UID
	// Dial connects to a port of the pod (runtime.Streamer.DialPort).
	Dial   func(ctx context.Context, uid types.UID, port uint16) (net.Conn, error)
	Logger *slog.Logger
	// PairTimeout is how long a stream waits for its partner (30s).
	PairTimeout time.Duration
}

// pfSession pairs the streams of one port-forward connection and
// forwards each pair.
type pfSession struct {
	cfg    pfConfig
	ctx    context.Context
	cancel context.CancelFunc
	// conn is set once the upgrade is done; started closes then.
	conn    httpstream.Connection
	started chan struct{}
	mu      sync.Mutex
	pairs   map[string]*pfPair
}

// pfPair is the error and data stream of one forwarded connection.
type pfPair struct {
	id        string
	port      uint16
	errStream httpstream.Stream
	data      httpstream.Stream
	replies   []<-chan struct{}
	timer     *time.Timer
}

func newPFSession(cfg pfConfig) *pfSession {
	if cfg.PairTimeout == 0 {
		cfg.PairTimeout = streamTimeout
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &pfSession{cfg: cfg, ctx: ctx, cancel: cancel, started: make(chan struct{}), pairs: map[string]*pfPair{}}
}

// run serves the upgraded connection until either side ends it.
func (s *pfSession) run(ctx context.Context, conn httpstream.Connection) {
	s.conn = conn
	close(s.started)
	select {
	case <-conn.CloseChan():
	case <-ctx.Done():
	}
	s.cancel()
	_ = conn.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, p := range s.pairs {
		p.timer.Stop()
		delete(s.pairs, id)
	}
}

// newStream is the SPDY stream handler: it checks the stream, files it
// under its request and starts forwarding once both streams are there.
// It runs on the connection's reader, so it never blocks.
func (s *pfSession) newStream(st httpstream.Stream, replySent <-chan struct{}) error {
	typ, port, err := pfHeaders(st)
	if err != nil {
		return err
	}
	id := pfRequestID(st, typ)
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pairs[id]
	if p == nil {
		p = &pfPair{id: id, port: port}
		p.timer = time.AfterFunc(s.cfg.PairTimeout, func() { s.expire(id) })
		s.pairs[id] = p
	}
	if typ == corev1.StreamTypeError {
		p.errStream = st
	} else {
		p.data = st
	}
	p.replies = append(p.replies, replySent)
	if p.errStream != nil && p.data != nil {
		p.timer.Stop()
		delete(s.pairs, id)
		go s.forward(p)
	}
	return nil
}

// expire gives up on a request whose partner stream never came.
func (s *pfSession) expire(id string) {
	s.mu.Lock()
	p := s.pairs[id]
	delete(s.pairs, id)
	s.mu.Unlock()
	if p == nil {
		return
	}
	if p.errStream != nil {
		fmt.Fprintf(p.errStream, "request %s: timed out after %s waiting for streams", id, s.cfg.PairTimeout)
	}
	for _, st := range []httpstream.Stream{p.errStream, p.data} {
		if st != nil {
			_ = st.Reset()
		}
	}
}

// forward connects a pair to the pod's port and copies both ways. A port
// that refuses is reported on the error stream in the kubelet's words
// (the sandbox ID, here the pod UID, and no uid, as with containerd).
func (s *pfSession) forward(p *pfPair) {
	<-s.started
	defer s.conn.RemoveStreams(p.errStream, p.data)
	defer p.errStream.Close()
	defer p.data.Close()
	for _, c := range p.replies {
		<-c
	}
	up, err := s.cfg.Dial(s.ctx, s.cfg.Pod, p.port)
	if err != nil {
		msg := fmt.Sprintf("error forwarding port %d to pod %s, uid %v: %v", p.port, s.cfg.Pod, "", err)
		s.cfg.Logger.Info("port-forward failed", "request", p.id, "err", msg)
		_, _ = io.WriteString(p.errStream, msg)
		return
	}
	defer up.Close()
	stop := context.AfterFunc(s.ctx, func() { _ = up.Close() })
	defer stop()
	go func() {
		_, _ = io.Copy(up, p.data)
		if tc, ok := up.(interface{ CloseWrite() error }); ok {
			_ = tc.CloseWrite()
		}
	}()
	_, _ = io.Copy(p.data, up)
}
