package etcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
	"go.uber.org/zap/zapcore"
)

// Defaults of EmbeddedConfig.
const (
	DefaultQuotaBackendBytes      = 8 << 30
	DefaultStartTimeout           = 60 * time.Second
	DefaultProgressNotifyInterval = 5 * time.Second
	// memberName and peerURL name the single member. They are recorded in
	// the data directory, so they must never change. Nothing listens on
	// peerURL: a single member has no peers to talk to.
	memberName = "svcplane"
	peerURL    = "http://127.0.0.1:2380"
	// maxSocketPath is what sockaddr_un holds, less the terminating NUL.
	maxSocketPath = 107
)

// EmbeddedConfig configures a single-member etcd running in this process.
type EmbeddedConfig struct {
	// DataDir holds etcd's WAL and database. Required. Starting again on the
	// same directory finds the same data.
	DataDir string
	// SocketPath is the unix socket etcd serves clients on, for etcdctl and
	// other processes; default DataDir/etcd.sock. The in-process Client
	// does not use it. No TCP port is opened.
	SocketPath string
	// Logger receives etcd's own warnings and errors; nil discards them.
	Logger *slog.Logger
	// LogLevel is the lowest etcd level passed to Logger; nil means Warn.
	LogLevel slog.Leveler
	// QuotaBackendBytes caps the database size; default 8 GiB.
	QuotaBackendBytes int64
	// ProgressNotifyInterval spaces the progress notices sent to idle
	// watches; default 5s.
	ProgressNotifyInterval time.Duration
	// StartTimeout bounds the wait for the member to be ready; default 60s.
	StartTimeout time.Duration
	// UnsafeNoFsync skips fsync. Only for tests: a crash loses data.
	UnsafeNoFsync bool
}

// Embedded is a running single-member etcd and an in-process client of it.
type Embedded struct {
	closeOnce sync.Once
	closeErr  error
	etcd      *embed.Etcd
	lock      *os.File     // held while the member runs
	quiet     *atomic.Bool // set on Close: stop errors are expected then
	client    *clientv3.Client
	endpoint  string
}

// StartEmbedded starts etcd on cfg.DataDir and waits until it serves. ctx
// bounds the start only; the member runs until Close.
func StartEmbedded(ctx context.Context, cfg EmbeddedConfig) (*Embedded, error) {
	ecfg, endpoint, err := embedConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd: %w", err)
	}
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd: %w", err)
	}
	zl, quiet := newZapLogger(cfg.Logger, zapLevel(cfg.LogLevel))
	ecfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zl)
	e, err := startMember(ctx, ecfg, durationOr(cfg.StartTimeout, DefaultStartTimeout), quiet)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("start embedded etcd in %s: %w", cfg.DataDir, err)
	}
	return &Embedded{etcd: e, lock: lock, quiet: quiet, client: v3client.New(e.Server), endpoint: endpoint}, nil
}

// startMember starts etcd and waits for it to be ready, or stops it.
func startMember(ctx context.Context, ecfg *embed.Config, timeout time.Duration, quiet *atomic.Bool) (*embed.Etcd, error) {
	e, err := embed.StartEtcd(ecfg)
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, e, timeout); err != nil {
		quiet.Store(true)
		e.Close()
		return nil, err
	}
	return e, nil
}

// Client returns a client that calls the member in process, without a socket.
// It belongs to the Embedded: do not close it.
func (e *Embedded) Client() *clientv3.Client { return e.client }

// Endpoint returns the unix:// URL etcd serves other processes on.
func (e *Embedded) Endpoint() string { return e.endpoint }

// Close closes the client and stops the member. Later calls do nothing.
func (e *Embedded) Close() error {
	e.closeOnce.Do(func() {
		e.quiet.Store(true)
		err := e.client.Close()
		e.etcd.Close()
		e.lock.Close()
		if err != nil && !errors.Is(err, context.Canceled) {
			e.closeErr = fmt.Errorf("close embedded etcd client: %w", err)
		}
	})
	return e.closeErr
}

// embedConfig turns cfg into etcd's configuration and the client endpoint.
func embedConfig(cfg EmbeddedConfig) (*embed.Config, string, error) {
	if cfg.DataDir == "" {
		return nil, "", errors.New("no data directory")
	}
	client, err := socketURL(cfg)
	if err != nil {
		return nil, "", err
	}
	peer, _ := url.Parse(peerURL)
	e := embed.NewConfig()
	e.Name = memberName
	e.Dir = cfg.DataDir
	e.ListenPeerUrls = nil
	e.AdvertisePeerUrls = []url.URL{*peer}
	e.InitialCluster = memberName + "=" + peerURL
	e.InitialClusterToken = memberName
	e.ListenClientUrls = []url.URL{*client}
	e.AdvertiseClientUrls = []url.URL{*client}
	e.AutoCompactionRetention = "0"
	e.QuotaBackendBytes = int64Or(cfg.QuotaBackendBytes, DefaultQuotaBackendBytes)
	e.WatchProgressNotifyInterval = durationOr(cfg.ProgressNotifyInterval, DefaultProgressNotifyInterval)
	e.UnsafeNoFsync = cfg.UnsafeNoFsync
	e.EnableGRPCGateway = false
	return e, client.String(), nil
}

// socketURL is the unix:// URL of the client socket.
func socketURL(cfg EmbeddedConfig) (*url.URL, error) {
	path := cfg.SocketPath
	if path == "" {
		path = filepath.Join(cfg.DataDir, "etcd.sock")
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("client socket: %w", err)
	}
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("client socket path %s is longer than %d bytes; set a shorter SocketPath", path, maxSocketPath)
	}
	return &url.URL{Scheme: "unix", Path: path}, nil
}

// waitReady waits for the member to be ready to serve, to fail, or for the
// timeout or ctx to end.
func waitReady(ctx context.Context, e *embed.Etcd, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-e.Server.ReadyNotify():
		return nil
	case err := <-e.Err():
		return fmt.Errorf("stopped before ready: %w", err)
	case <-timer.C:
		return fmt.Errorf("not ready after %s", timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func zapLevel(leveler slog.Leveler) zapcore.Level {
	if leveler == nil {
		return zapcore.WarnLevel
	}
	switch l := leveler.Level(); {
	case l >= slog.LevelError:
		return zapcore.ErrorLevel
	case l >= slog.LevelWarn:
		return zapcore.WarnLevel
	case l >= slog.LevelInfo:
		return zapcore.InfoLevel
	default:
		return zapcore.DebugLevel
	}
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func int64Or(n, def int64) int64 {
	if n > 0 {
		return n
	}
	return def
}

// DatabasePath is the bolt database file of an embedded member whose data
// directory is dataDir.
func DatabasePath(dataDir string) string {
	return filepath.Join(dataDir, "member", "snap", "db")
}
