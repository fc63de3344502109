package apiserver

import (
	"encoding/base64"
	"io"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// Log streams over websocket, as kube-apiserver's streaming responses
// (k8s.io/apiserver's wsstream.Reader with its default protocols) send
// them: each chunk read is one message, binary under "binary.k8s.io" or
// no subprotocol, base64 text under "base64.binary.k8s.io"; the server
// closes the connection at the end of the stream.
const (
	logProtocolBinary = "binary.k8s.io"
	logProtocolBase64 = "base64.binary.k8s.io"
)

// serveLogsWebsocket upgrades a pods/log request and copies src to the
// client as websocket messages until src ends or the client goes.
func serveLogsWebsocket(w http.ResponseWriter, r *http.Request, src io.Reader) {
	up := websocket.Upgrader{
		Subprotocols: []string{logProtocolBinary, logProtocolBase64},
		// The request is authenticated and authorized already; browsers'
		// origins do not apply.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade answered the client
	}
	defer conn.Close()
	go discardIncoming(conn)
	base64Text := conn.Subprotocol() == logProtocolBase64
	buf := make([]byte, 32<<10)
	for {
		n, rerr := src.Read(buf)
		if n > 0 && writeLogMessage(conn, buf[:n], base64Text) != nil {
			return
		}
		if rerr != nil {
			break
		}
	}
	deadline := time.Now().Add(time.Second)
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), deadline)
}

func writeLogMessage(conn *websocket.Conn, b []byte, base64Text bool) error {
	if base64Text {
		return conn.WriteMessage(websocket.TextMessage, []byte(base64.StdEncoding.EncodeToString(b)))
	}
	return conn.WriteMessage(websocket.BinaryMessage, b)
}

// discardIncoming reads (and drops) what the client sends, so control
// frames (ping, close) are answered, until the connection ends.
func discardIncoming(conn *websocket.Conn) {
	for {
		if _, _, err := conn.NextReader(); err != nil {
			return
		}
	}
}
