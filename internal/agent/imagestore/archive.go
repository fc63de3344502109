package imagestore

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// archive is an image archive opened for random access: the offset and
// size of each regular file, found by one pass over the tar headers.
type archive struct {
	f     *os.File
	files map[string]section
}

type section struct{ off, size int64 }

// offsetReader is the archive file as tar reads it, noting where it is:
// tar reads headers exactly and seeks over data, so after Next the offset
// is where the entry's data starts.
type offsetReader struct {
	f   *os.File
	off int64
}

func (r *offsetReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	r.off += int64(n)
	return n, err
}

func (r *offsetReader) Seek(off int64, whence int) (int64, error) {
	n, err := r.f.Seek(off, whence)
	if err == nil {
		r.off = n
	}
	return n, err
}

// openArchive opens the archive at p and indexes its files.
func openArchive(p string) (*archive, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	a := &archive{f: f, files: map[string]section{}}
	if err := a.index(); err != nil {
		f.Close()
		return nil, fmt.Errorf("read archive %s: %w", p, err)
	}
	return a, nil
}

func (a *archive) index() error {
	st, err := a.f.Stat()
	if err != nil {
		return err
	}
	r := &offsetReader{f: a.f}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("corrupt archive: %w", err)
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeRegA {
			continue
		}
		if r.off+hdr.Size > st.Size() {
			return fmt.Errorf("truncated archive: entry %q ends past the end of the file", hdr.Name)
		}
		a.files[archiveName(hdr.Name)] = section{off: r.off, size: hdr.Size}
	}
	if len(a.files) == 0 {
		return errors.New("not an image archive: no files (is it a tar file?)")
	}
	return nil
}

// archiveName is how a name in the archive is looked up: cleaned, without
// a leading "./" or "/".
func archiveName(n string) string {
	return strings.TrimPrefix(path.Clean("/"+n), "/")
}

func (a *archive) has(name string) bool {
	_, ok := a.files[archiveName(name)]
	return ok
}

// open returns the content of the archive's file name.
func (a *archive) open(name string) (*io.SectionReader, error) {
	s, ok := a.files[archiveName(name)]
	if !ok {
		return nil, fmt.Errorf("archive has no file %q", name)
	}
	return io.NewSectionReader(a.f, s.off, s.size), nil
}

// readSmall reads one of the archive's small files (a manifest, a config).
func (a *archive) readSmall(name string) ([]byte, error) {
	r, err := a.open(name)
	if err != nil {
		return nil, err
	}
	if r.Size() > 16<<20 {
		return nil, fmt.Errorf("archive file %q is too large (%d bytes) for a manifest or config", name, r.Size())
	}
	data := make([]byte, r.Size())
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("read archive file %q: %w", name, err)
	}
	return data, nil
}

func (a *archive) close() error { return a.f.Close() }
