package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// componentLogs is a slog handler that also writes each control-plane
// component's records to its own file, which `kubectl logs` of the
// component's mirror pod reads (the static pod's log, as the kubelet
// keeps it).
type componentLogs struct {
	base  slog.Handler
	files map[string]slog.Handler // by static pod component
	attrs []slog.Attr
}

// componentLogDir is where up keeps its components' logs.
func componentLogDir(cfg UpConfig) string {
	return filepath.Join(orString(cfg.APIServer.DataDir, "/var/lib/svcplane"), "logs")
}

// newComponentLogs opens (appending) a log file per static pod under dir.
func newComponentLogs(base slog.Handler, dir string, components []string) (*componentLogs, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	h := &componentLogs{base: base, files: map[string]slog.Handler{}}
	for _, c := range components {
		f, err := os.OpenFile(filepath.Join(dir, c+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, err
		}
		h.files[c] = slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo})
	}
	return h, nil
}

func (h *componentLogs) Enabled(ctx context.Context, l slog.Level) bool {
	return h.base.Enabled(ctx, l)
}

func (h *componentLogs) Handle(ctx context.Context, r slog.Record) error {
	attrs := h.attrs
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	if f, ok := h.files[staticComponent(attrs)]; ok && f.Enabled(ctx, r.Level) {
		_ = f.Handle(ctx, r.Clone())
	}
	return h.base.Handle(ctx, r)
}

func (h *componentLogs) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := &componentLogs{base: h.base.WithAttrs(attrs), files: map[string]slog.Handler{},
		attrs: append(append([]slog.Attr(nil), h.attrs...), attrs...)}
	for k, f := range h.files {
		n.files[k] = f.WithAttrs(attrs)
	}
	return n
}

func (h *componentLogs) WithGroup(name string) slog.Handler {
	n := &componentLogs{base: h.base.WithGroup(name), files: map[string]slog.Handler{}, attrs: h.attrs}
	for k, f := range h.files {
		n.files[k] = f.WithGroup(name)
	}
	return n
}

// staticComponent is the static pod a record belongs to, from its
// component (and controller) attributes; "" for none.
func staticComponent(attrs []slog.Attr) string {
	var comp, ctrl string
	for _, a := range attrs {
		switch a.Key {
		case "component":
			comp = a.Value.String()
		case "controller":
			ctrl = a.Value.String()
		}
	}
	switch comp {
	case "etcd":
		return "etcd"
	case "apiserver", "servicealloc", "pki", "compactor", "diskguard":
		return "kube-apiserver"
	case "controllers":
		if strings.Contains(ctrl, "scheduler") {
			return "kube-scheduler"
		}
		return "kube-controller-manager"
	}
	return ""
}
