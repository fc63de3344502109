package etcd

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/svcplane/svcplane/internal/storage"
)

func TestClassify(t *testing.T) {
	other := errors.New("etcdserver: request timed out")
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"compacted", rpctypes.ErrCompacted, storage.ErrCompacted},
		{"compacted, text only", errors.New("mvcc: required revision has been compacted"), storage.ErrCompacted},
		{"future", rpctypes.ErrFutureRev, storage.ErrFutureRevision},
		{"nospace", rpctypes.ErrNoSpace, storage.ErrNoSpace},
		{"future, wrapped", fmt.Errorf("range: %w", rpctypes.ErrFutureRev), storage.ErrFutureRevision},
		{"other", other, other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify(tt.err)
			if !errors.Is(got, tt.want) || !errors.Is(got, tt.err) {
				t.Errorf("classify(%v) = %v, want %v wrapping the original", tt.err, got, tt.want)
			}
		})
	}
}

func TestZapLogger(t *testing.T) {
	tests := []struct {
		name  string
		log   func(*zap.Logger)
		quiet bool
		want  string
	}{
		{"warn passes", func(l *zap.Logger) { l.Warn("slow apply", zap.Int("ms", 150)) }, false,
			`level=WARN msg="slow apply" ms=150`},
		{"fields of With come first", func(l *zap.Logger) { l.With(zap.String("member", "m")).Error("boom", zap.Error(errors.New("x"))) }, false,
			`level=ERROR msg=boom member=m error=x`},
		{"info dropped", func(l *zap.Logger) { l.Info("started") }, false, ``},
		{"routine warning demoted", func(l *zap.Logger) { l.Warn("simple token is not cryptographically signed") }, false,
			`level=DEBUG msg="simple token is not cryptographically signed"`},
		{"quiet demotes errors", func(l *zap.Logger) { l.Error("server closed") }, true, `level=DEBUG msg="server closed"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := slog.NewTextHandler(&buf, &slog.HandlerOptions{
				Level:       slog.LevelDebug,
				ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { return dropTime(a) },
			})
			l, quiet := newZapLogger(slog.New(h), zapcore.WarnLevel)
			quiet.Store(tt.quiet)
			tt.log(l)
			if got := strings.TrimSpace(buf.String()); got != tt.want {
				t.Errorf("logged %q, want %q", got, tt.want)
			}
		})
	}
}

func dropTime(a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
