package iptables

import "strconv"

// buffer accumulates iptables-restore lines without allocating per word.
type buffer struct {
	b []byte
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
	if n := len(w.b); n > 0 && w.b[n-1] != '\n' {
		w.b = append(w.b, ' ')
	}
	w.b = append(w.b, s...)
}

// quoted writes one word made of parts in double quotes, as kube-proxy
// writes comments with spaces.
func (w *buffer) quoted(parts ...string) {
	w.word(`"`)
	for _, p := range parts {
		w.b = append(w.b, p...)
	}
	w.b = append(w.b, '"')
}

// num writes a number as a word.
func (w *buffer) num(n int32) {
	w.word("")
	w.b = strconv.AppendInt(w.b, int64(n), 10)
}

// end ends the line.
func (w *buffer) end() { w.b = append(w.b, '\n') }

// line writes one whole line.
func (w *buffer) line(ws ...string) {
	w.words(ws...)
	w.end()
}

func (w *buffer) reset() { w.b = w.b[:0] }

func (w *buffer) len() int { return len(w.b) }
