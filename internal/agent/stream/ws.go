package stream

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/agent/runtime"
)

// The websocket channel protocols: every binary message starts with the
// channel it belongs to. v5 adds a close signal (255, channel) for
// half-closing stdin; before v4 (channel.k8s.io, or no subprotocol) the
// error channel carries only a failure's message, not a Status.
const (
	protocolV5 = "v5.channel.k8s.io"
	protocolV4 = "v4.channel.k8s.io"
	protocolV1 = "channel.k8s.io"

	chanStdin  = 0
	chanStdout = 1
	chanStderr = 2
	chanError  = 3
	chanResize = 4
	chanClose  = 255
)

// channelConn is one exec or attach session over a websocket.
type channelConn struct {
	ws     *websocket.Conn
	wmu    sync.Mutex
	stdin  *io.PipeReader
	stdinW *io.PipeWriter
	resize chan runtime.TermSize
	done   chan struct{}
	// preV4 is set under channel.k8s.io or no subprotocol.
	preV4 bool
}

var upgrader = websocket.Upgrader{
	Subprotocols:    []string{protocolV5, protocolV4, protocolV1},
	CheckOrigin:     func(*http.Request) bool { return true },
	ReadBufferSize:  32 << 10,
	WriteBufferSize: 32 << 10,
}

// upgrade accepts the websocket and starts reading the client's channels.
func upgrade(w http.ResponseWriter, r *http.Request) (*channelConn, error) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	c := &channelConn{ws: ws, stdin: pr, stdinW: pw, resize: make(chan runtime.TermSize, 4), done: make(chan struct{}),
		preV4: ws.Subprotocol() != protocolV5 && ws.Subprotocol() != protocolV4}
	go c.readLoop()
	return c, nil
}

// readLoop passes stdin and resize messages on, until the client goes.
func (c *channelConn) readLoop() {
	defer close(c.done)
	defer close(c.resize)
	defer c.stdinW.Close()
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil || len(data) == 0 {
			if err != nil {
				return
			}
			continue
		}
		switch data[0] {
		case chanStdin:
			if _, err := c.stdinW.Write(data[1:]); err != nil {
				continue
			}
		case chanResize:
			var s runtime.TermSize
			if json.Unmarshal(data[1:], &s) == nil {
				select {
				case c.resize <- s:
				default:
				}
			}
		case chanClose:
			if len(data) > 1 && data[1] == chanStdin {
				c.stdinW.Close()
			}
		}
	}
}

// writer returns the writer of an output channel.
func (c *channelConn) writer(ch byte) io.Writer { return chanWriter{c: c, ch: ch} }

type chanWriter struct {
	c  *channelConn
	ch byte
}

func (w chanWriter) Write(p []byte) (int, error) {
	w.c.wmu.Lock()
	defer w.c.wmu.Unlock()
	msg := make([]byte, len(p)+1)
	msg[0] = w.ch
	copy(msg[1:], p)
	if err := w.c.ws.WriteMessage(websocket.BinaryMessage, msg); err != nil {
		return 0, err
	}
	return len(p), nil
}

// finish sends the status on the error channel (before v4: a failure's
// message only, as the kubelet does) and closes the session.
func (c *channelConn) finish(status []byte) {
	if msg, send := c.errorMessage(status); send {
		_, _ = c.writer(chanError).Write(msg)
	}
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.wmu.Unlock()
	select {
	case <-c.done:
	case <-time.After(2 * time.Second):
	}
	_ = c.ws.Close()
}

// errorMessage is what the error channel carries for status, and whether
// anything is sent.
func (c *channelConn) errorMessage(status []byte) ([]byte, bool) {
	if !c.preV4 {
		return status, true
	}
	var st metav1.Status
	if json.Unmarshal(status, &st) != nil {
		return status, true
	}
	if st.Status == metav1.StatusSuccess {
		return nil, false
	}
	return []byte(st.Message), true
}
