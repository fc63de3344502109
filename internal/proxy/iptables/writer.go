package iptables

import (
	"io"
	"strconv"
)

// flushAt is how much a buffer with a sink holds before it writes it out.
const flushAt = 64 << 10

// buffer accumulates iptables-restore lines without allocating per word.
// A buffer that is off ignores what is written to it (the render makes
// two passes, each writing some of the buffers); one with a sink writes
// its whole lines there once it holds flushAt bytes.
type buffer struct {
	b    []byte
	off  bool
	sink io.Writer
	err  error
}

// words writes space-separated words, starting a new word if the line has
// text already.
func (w *buffer) words(ws ...string) {
	for _, s := range ws {
		w.word(s)
	}
}

// word writes one word.
func (w *buffer) word(s string) {
	if w.off {
		return
	}
	if n := len(w.b); n > 0 && w.b[n-1] != '\n' {
		w.b = append(w.b, ' ')
	}
	w.b = append(w.b, s...)
}

// quoted writes one word made of parts in double quotes, as kube-proxy
// writes comments with spaces.
func (w *buffer) quoted(parts ...string) {
	if w.off {
		return
	}
	w.word(`"`)
	for _, p := range parts {
		w.b = append(w.b, p...)
	}
	w.b = append(w.b, '"')
}

// num writes a number as a word.
func (w *buffer) num(n int32) {
	if w.off {
		return
	}
	w.word("")
	w.b = strconv.AppendInt(w.b, int64(n), 10)
}

// end ends the line.
func (w *buffer) end() {
	if w.off {
		return
	}
	w.b = append(w.b, '\n')
	if w.sink != nil && len(w.b) >= flushAt {
		w.flush()
	}
}

// line writes one whole line.
func (w *buffer) line(ws ...string) {
	w.words(ws...)
	w.end()
}

// flush writes what the buffer holds to its sink. After a failed write
// the buffer is off and keeps the error.
func (w *buffer) flush() {
	if w.sink == nil || w.off {
		return
	}
	if _, err := w.sink.Write(w.b); err != nil {
		w.err, w.off = err, true
	}
	w.b = w.b[:0]
}

// reset empties the buffer and turns it on, without a sink.
func (w *buffer) reset() {
	w.b, w.off, w.sink, w.err = w.b[:0], false, nil, nil
}

func (w *buffer) len() int { return len(w.b) }
