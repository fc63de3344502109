package runtime

import (
	"context"
	"io"
	"os"
	"time"
)

// FollowFile copies path to w from offset on, as `tail -f` does, until ctx
// ends or done closes; after done it copies what is left and returns.
func FollowFile(ctx context.Context, path string, offset int64, w io.Writer, done <-chan struct{}) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return err
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if _, err := io.Copy(w, f); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-done:
			_, err := io.Copy(w, f)
			return err
		case <-t.C:
		}
	}
}

// Size returns the size of the file at path (0 if it is missing).
func Size(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
