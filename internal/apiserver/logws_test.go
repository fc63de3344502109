package apiserver

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// TestLogsWebsocket: a log stream reaches a websocket client as upstream's
// conformance spec reads it (messages until a normal close), in binary
// and base64 subprotocols.
func TestLogsWebsocket(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !websocket.IsWebSocketUpgrade(r) {
			t.Errorf("not an upgrade: %v", r.Header)
		}
		serveLogsWebsocket(w, r, strings.NewReader("container is alive\n"))
	}))
	defer srv.Close()
	for _, proto := range []string{logProtocolBinary, logProtocolBase64, ""} {
		d := websocket.Dialer{}
		if proto != "" {
			d.Subprotocols = []string{proto}
		}
		conn, resp, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			t.Fatalf("%q: dial: %v", proto, err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols || conn.Subprotocol() != proto {
			t.Errorf("%q: status %d, subprotocol %q", proto, resp.StatusCode, conn.Subprotocol())
		}
		var got strings.Builder
		for {
			typ, msg, err := conn.ReadMessage()
			if err != nil {
				if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
					t.Errorf("%q: read: %v", proto, err)
				}
				break
			}
			if proto == logProtocolBase64 {
				if typ != websocket.TextMessage {
					t.Errorf("base64 message of type %d", typ)
				}
				msg, _ = base64.StdEncoding.DecodeString(string(msg))
			}
			got.Write(msg)
		}
		conn.Close()
		if got.String() != "container is alive\n" {
			t.Errorf("%q: logs %q", proto, got.String())
		}
	}
}
