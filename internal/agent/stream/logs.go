package stream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/svcplane/svcplane/internal/agent/runtime"
)

// serveLogs answers /containerLogs/{ns}/{pod}/{container}?follow=&
// previous=&tailLines=&limitBytes=.
func (s *Server) serveLogs(w http.ResponseWriter, r *http.Request) {
	pod, name, st, err := s.target(r)
	if err != nil {
		httpError(w, err)
		return
	}
	path, err := st.LogPath(pod.UID, name, boolParam(r, "previous"))
	if err != nil {
		httpError(w, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	offset, err := tailOffset(path, r.URL.Query().Get("tailLines"))
	if err != nil {
		httpError(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	out := io.Writer(flushWriter{w})
	if n, err := strconv.ParseInt(r.URL.Query().Get("limitBytes"), 10, 64); err == nil && n > 0 {
		out = &limitWriter{w: out, n: n}
	}
	if !boolParam(r, "follow") {
		f, err := os.Open(path)
		if err != nil {
			httpError(w, err)
			return
		}
		defer f.Close()
		_, _ = f.Seek(offset, io.SeekStart)
		_, _ = io.Copy(out, f)
		return
	}
	done := st.Exited(pod.UID, name)
	if boolParam(r, "previous") {
		done = closed()
	}
	_ = runtime.FollowFile(r.Context(), path, offset, out, done)
}

func closed() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// tailOffset is where the last n lines of the file start (0 for all).
func tailOffset(path, tail string) (int64, error) {
	n, err := strconv.Atoi(tail)
	if tail == "" || err != nil || n < 0 {
		return 0, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	end := len(data)
	if end > 0 && data[end-1] == '\n' {
		end--
	}
	for i := 0; i < n; i++ {
		j := bytes.LastIndexByte(data[:end], '\n')
		if j < 0 {
			return 0, nil
		}
		end = j
	}
	return int64(end + 1), nil
}

// flushWriter flushes after every write, for followed logs.
type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
	return n, err
}

// limitWriter stops after n bytes.
type limitWriter struct {
	w io.Writer
	n int64
}

var errLimit = errors.New("limit reached")

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errLimit
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.w.Write(p)
	l.n -= int64(n)
	return n, err
}
