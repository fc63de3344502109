// Package diskguard keeps a storage.Store from filling its disk: it refuses
// writes with storage.ErrNoSpace while the data directory's filesystem has
// less than a reserve of free space, and lets them through again once space
// returns, without a restart.
//
// Embedded etcd cannot survive a full disk: a failed commit of its bolt
// database or of its WAL is fatal and ends the process. So the guard acts
// before the filesystem is full. MinFree covers what etcd may still write
// on its own (the next 64 MiB WAL segment it preallocates, bolt's growth);
// a ballast file of Reserve bytes, made at start, is deleted when free
// space drops under MinFree, so that writes racing the check and etcd's own
// bookkeeping still find room. Writes resume, and the ballast is made
// again, once MinFree+Reserve bytes are free.
//
// The checks cannot see a disk filled to its last byte between them (up to
// Interval) or while a write that passed its check is being committed. For
// that window the guard keeps the blocks of the files etcd writes in place,
// its bolt database (Preallocate), allocated Headroom bytes past their end
// (fallocate without a size change): bolt grows its file as a sparse one,
// and a commit into a hole of a full filesystem fails, which ends etcd;
// with the blocks already the file's, the commit needs no free space. (The
// WAL preallocates its segments itself.)
package diskguard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/svcplane/svcplane/internal/storage"
)

// Defaults of Config.
const (
	DefaultMinFree  = 96 << 20
	DefaultReserve  = 32 << 20
	DefaultInterval = time.Second
	DefaultHeadroom = 32 << 20
	// BallastName is the ballast file's name in Dir.
	BallastName = "space-reserve"
)

// Config configures a Guard.
type Config struct {
	// Store is the guarded store. Required.
	Store storage.Store
	// Dir is a directory on the filesystem the store writes to. Required.
	Dir string
	// MinFree is the free space under which writes are refused.
	MinFree int64
	// Reserve is the size of the ballast file released when space runs low.
	Reserve int64
	// Interval spaces the background checks; writes also check.
	Interval time.Duration
	// OnRecover runs when writes resume, e.g. to disarm etcd's NOSPACE
	// alarm.
	OnRecover func(context.Context)
	// Preallocate are files (etcd's bolt database) whose blocks are kept
	// allocated Headroom bytes past their end while space is not low. A
	// file that does not exist yet is skipped until it does.
	Preallocate []string
	// Headroom is how far past their end the Preallocate files' blocks
	// are allocated (default 32 MiB).
	Headroom int64
	// FreeBytes reports the free space of Dir; default statfs. Tests set it.
	FreeBytes func(dir string) (int64, error)
	Logger    *slog.Logger
}

// Guard is a storage.Store that refuses writes while space is low.
type Guard struct {
	storage.Store
	cfg Config
	mu  sync.Mutex
	low bool
}

var (
	_ storage.Store             = (*Guard)(nil)
	_ storage.ProgressRequester = (*Guard)(nil)
)

// New returns a guard over cfg.Store and makes the ballast file.
func New(cfg Config) (*Guard, error) {
	if cfg.Store == nil || cfg.Dir == "" {
		return nil, errors.New("diskguard: a store and a directory are required")
	}
	cfg = cfg.withDefaults()
	g := &Guard{Store: cfg.Store, cfg: cfg}
	if _, err := g.cfg.FreeBytes(cfg.Dir); err != nil {
		return nil, fmt.Errorf("diskguard: %w", err)
	}
	if err := g.makeBallast(); err != nil {
		cfg.Logger.Warn("no space for the ballast file", "dir", cfg.Dir, "err", err)
	}
	_ = g.check()
	return g, nil
}

func (cfg Config) withDefaults() Config {
	if cfg.MinFree <= 0 {
		cfg.MinFree = DefaultMinFree
	}
	if cfg.Reserve < 0 {
		cfg.Reserve = 0
	} else if cfg.Reserve == 0 {
		cfg.Reserve = DefaultReserve
	}
	if cfg.Headroom <= 0 {
		cfg.Headroom = DefaultHeadroom
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.FreeBytes == nil {
		cfg.FreeBytes = FreeBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg
}

// Run checks the free space every Interval until ctx ends, so that the
// ballast is released, and writes resume, without waiting for a write.
func (g *Guard) Run(ctx context.Context) {
	t := time.NewTicker(g.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = g.check()
		}
	}
}

// Low says writes are being refused.
func (g *Guard) Low() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.low
}

// check moves between the normal and the low state and says whether a
// write may go through.
func (g *Guard) check() error {
	free, err := g.cfg.FreeBytes(g.cfg.Dir)
	if err != nil {
		return nil // cannot tell: let storage answer
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case !g.low && free < g.cfg.MinFree:
		g.low = true
		g.releaseBallast()
		g.cfg.Logger.Error("disk nearly full: writes are refused until space returns",
			"dir", g.cfg.Dir, "free", free, "minFree", g.cfg.MinFree)
	case g.low && free >= g.cfg.MinFree+g.cfg.Reserve:
		if err := g.makeBallast(); err != nil {
			g.cfg.Logger.Warn("space returned but the ballast file cannot be made", "err", err)
			break
		}
		g.low = false
		g.cfg.Logger.Info("disk space returned: writes resume", "dir", g.cfg.Dir, "free", free)
		if g.cfg.OnRecover != nil {
			go g.cfg.OnRecover(context.Background())
		}
	}
	if !g.low {
		g.preallocate()
	}
	if g.low {
		return fmt.Errorf("%w: %d bytes free in %s, under the %d bytes kept in reserve; writes are refused until space returns",
			storage.ErrNoSpace, free, g.cfg.Dir, g.cfg.MinFree)
	}
	return nil
}

// preallocate allocates the blocks of the Preallocate files Headroom past
// their end once fewer than half of those are allocated. g.mu must be held.
func (g *Guard) preallocate() {
	for _, path := range g.cfg.Preallocate {
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err != nil {
			continue
		}
		if st.Blocks*512 >= st.Size+g.cfg.Headroom/2 {
			continue
		}
		if err := Preallocate(path, st.Size+g.cfg.Headroom); err != nil && !errors.Is(err, unix.EOPNOTSUPP) {
			g.cfg.Logger.Warn("keep the database's blocks allocated ahead", "file", path, "err", err)
		}
	}
}

// Preallocate allocates every block of the file at path up to end (holes
// included) without changing its size, so that writes there need no free
// space.
func Preallocate(path string, end int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, end); err != nil {
		return fmt.Errorf("allocate %s up to %d bytes: %w", path, end, err)
	}
	return nil
}

func (g *Guard) ballastPath() string { return filepath.Join(g.cfg.Dir, BallastName) }

// makeBallast allocates the ballast file (fallocate: the blocks are taken,
// not merely a sparse size).
func (g *Guard) makeBallast() error {
	if g.cfg.Reserve == 0 {
		return nil
	}
	f, err := os.OpenFile(g.ballastPath(), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Fallocate(int(f.Fd()), 0, 0, g.cfg.Reserve); err != nil {
		_ = f.Truncate(0)
		return fmt.Errorf("allocate %d bytes for %s: %w", g.cfg.Reserve, g.ballastPath(), err)
	}
	return nil
}

func (g *Guard) releaseBallast() {
	if err := os.Remove(g.ballastPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		g.cfg.Logger.Warn("release the ballast file", "err", err)
	}
}

// FreeBytes is the space an unprivileged writer may still use on dir's
// filesystem.
func FreeBytes(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// RequestProgress passes a watch cache's progress request on to the
// guarded store (reads and watches are not guarded).
func (g *Guard) RequestProgress(ctx context.Context) error {
	if p, ok := g.Store.(storage.ProgressRequester); ok {
		return p.RequestProgress(ctx)
	}
	return nil
}

// Create checks the space, then creates.
func (g *Guard) Create(ctx context.Context, key string, value []byte) (int64, error) {
	if err := g.check(); err != nil {
		return 0, fmt.Errorf("create %s: %w", key, err)
	}
	return g.Store.Create(ctx, key, value)
}

// Update checks the space, then updates.
func (g *Guard) Update(ctx context.Context, key string, value []byte, expectedRev int64) (int64, error) {
	if err := g.check(); err != nil {
		return 0, fmt.Errorf("update %s: %w", key, err)
	}
	return g.Store.Update(ctx, key, value, expectedRev)
}

// Delete checks the space, then deletes: a delete writes too (a new
// revision and a tombstone).
func (g *Guard) Delete(ctx context.Context, key string, expectedRev int64) (int64, error) {
	if err := g.check(); err != nil {
		return 0, fmt.Errorf("delete %s: %w", key, err)
	}
	return g.Store.Delete(ctx, key, expectedRev)
}

// Compact checks the space, then compacts.
func (g *Guard) Compact(ctx context.Context, rev int64) error {
	if err := g.check(); err != nil {
		return fmt.Errorf("compact to %d: %w", rev, err)
	}
	return g.Store.Compact(ctx, rev)
}
