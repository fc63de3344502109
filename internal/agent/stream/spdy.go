package stream

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/httpstream/spdy"

	"github.com/svcplane/svcplane/internal/agent/runtime"
)

// The SPDY fallback: clients that do not speak websockets (client-go's
// SPDY executor) upgrade to SPDY/3.1 and open one stream per channel,
// named by the streamType header. Only v4.channel.k8s.io is offered.

// spdySession is the streams of one SPDY exec or attach.
type spdySession struct {
	conn                  httpstream.Connection
	stdin                 io.Reader
	stdout, stderr, errSt io.Writer
	resize                chan runtime.TermSize
}

const streamTimeout = 30 * time.Second

// upgradeSPDY accepts the upgrade and waits for the streams opts asks for.
func upgradeSPDY(w http.ResponseWriter, r *http.Request, opts streamOptions) (*spdySession, error) {
	if _, err := httpstream.Handshake(r, w, []string{protocolV4}); err != nil {
		return nil, err
	}
	streams := make(chan httpstream.Stream, 5)
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, func(s httpstream.Stream, _ <-chan struct{}) error {
		streams <- s
		return nil
	})
	if conn == nil {
		return nil, errors.New("spdy upgrade failed")
	}
	conn.SetIdleTimeout(4 * time.Hour)
	s := &spdySession{conn: conn, resize: make(chan runtime.TermSize, 4)}
	if err := s.collect(streams, expected(opts)); err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

func expected(o streamOptions) int {
	n := 1 // error
	for _, b := range []bool{o.stdin, o.stdout, o.stderr, o.tty} {
		if b {
			n++
		}
	}
	return n
}

// collect assigns the client's streams by their type.
func (s *spdySession) collect(streams <-chan httpstream.Stream, n int) error {
	timeout := time.After(streamTimeout)
	for i := 0; i < n; i++ {
		select {
		case st := <-streams:
			s.assign(st)
		case <-timeout:
			return errors.New("timed out waiting for the client's streams")
		}
	}
	return nil
}

func (s *spdySession) assign(st httpstream.Stream) {
	switch st.Headers().Get("streamType") {
	case "stdin":
		s.stdin = st
	case "stdout":
		s.stdout = st
	case "stderr":
		s.stderr = st
	case "error":
		s.errSt = st
	case "resize":
		go decodeSizes(st, s.resize)
	}
}

func decodeSizes(r io.Reader, out chan<- runtime.TermSize) {
	defer close(out)
	dec := json.NewDecoder(r)
	for {
		var size runtime.TermSize
		if dec.Decode(&size) != nil {
			return
		}
		out <- size
	}
}

// finish writes the status on the error stream and closes the session.
func (s *spdySession) finish(status []byte) {
	if s.errSt != nil {
		_, _ = s.errSt.Write(status)
	}
	time.Sleep(50 * time.Millisecond) // let the frames leave before the close
	s.conn.Close()
}
