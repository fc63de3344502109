package etcd

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// slogCore is a zapcore.Core that hands etcd's zap records to a slog.Logger,
// so etcd logs through the same handler as the rest of svcplane. Records
// below min are dropped before they are encoded. Records etcd logs on every
// start or stop, and every record once quiet is set, go out at Debug: they
// are not news to an operator.
type slogCore struct {
	logger *slog.Logger
	min    zapcore.Level
	attrs  []slog.Attr
	quiet  *atomic.Bool
}

// newZapLogger returns a zap.Logger writing records at min or above to
// logger, and the switch that demotes all of them to Debug. A nil logger
// gives a no-op zap.Logger.
func newZapLogger(logger *slog.Logger, min zapcore.Level) (*zap.Logger, *atomic.Bool) {
	quiet := new(atomic.Bool)
	if logger == nil {
		return zap.NewNop(), quiet
	}
	return zap.New(&slogCore{logger: logger, min: min, quiet: quiet}), quiet
}

func (c *slogCore) Enabled(l zapcore.Level) bool { return l >= c.min }

func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	clone := *c
	clone.attrs = append(append([]slog.Attr(nil), c.attrs...), fieldAttrs(fields)...)
	return &clone
}

func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	attrs := append(append([]slog.Attr(nil), c.attrs...), fieldAttrs(fields)...)
	if e.LoggerName != "" {
		attrs = append(attrs, slog.String("logger", e.LoggerName))
	}
	level := slogLevel(e.Level)
	if c.quiet.Load() || routine(e.Message) {
		level = slog.LevelDebug
	}
	c.logger.LogAttrs(context.Background(), level, e.Message, attrs...)
	return nil
}

// routine says etcd logs msg at Warn on every start of a member configured
// as ours is, with nothing for the operator to do about it.
func routine(msg string) bool {
	switch msg {
	case "Running http and grpc server on single port. This is not recommended for production.",
		"simple token is not cryptographically signed":
		return true
	}
	return false
}

func (c *slogCore) Sync() error { return nil }

// fieldAttrs turns zap fields into slog attributes through zap's map
// encoder, which knows every field type.
func fieldAttrs(fields []zapcore.Field) []slog.Attr {
	if len(fields) == 0 {
		return nil
	}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	attrs := make([]slog.Attr, 0, len(enc.Fields))
	for _, k := range slices.Sorted(maps.Keys(enc.Fields)) {
		attrs = append(attrs, slog.Any(k, enc.Fields[k]))
	}
	return attrs
}

func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l >= zapcore.ErrorLevel:
		return slog.LevelError
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	case l == zapcore.InfoLevel:
		return slog.LevelInfo
	default:
		return slog.LevelDebug
	}
}
