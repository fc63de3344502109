package stream

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/httpstream/spdy"
	pfconst "k8s.io/apimachinery/pkg/util/portforward"
	"k8s.io/client-go/tools/portforward"
)

// Port-forward (/portForward/{ns}/{pod}) is SPDY: the client opens an
// error and a data stream per forwarded connection, paired by their
// requestID header, and the agent connects each pair to the port on
// localhost inside the pod's network namespace. SPDY comes either as a
// plain SPDY/3.1 upgrade (X-Stream-Protocol-Version portforward.k8s.io)
// or tunnelled in the binary messages of a websocket whose subprotocol is
// SPDY/3.1+portforward.k8s.io, as kubectl 1.32 tries first. Upstream the
// API server ends the websocket and speaks SPDY to the kubelet; here the
// API server passes the upgrade through and the agent ends both.
const (
	protocolPortForward = pfconst.PortForwardV1Name
	protocolPFTunnel    = pfconst.WebsocketsSPDYTunnelingPortForwardV1

	// pfIdleTimeout closes a port-forward connection without streams,
	// the kubelet's streaming idle timeout.
	pfIdleTimeout = 4 * time.Hour
)

var tunnelUpgrader = websocket.Upgrader{
	Subprotocols:    []string{protocolPFTunnel},
	CheckOrigin:     func(*http.Request) bool { return true },
	ReadBufferSize:  32 << 10,
	WriteBufferSize: 32 << 10,
}

// servePortForward upgrades the request and forwards the client's
// connections until it goes away.
func (s *Server) servePortForward(w http.ResponseWriter, r *http.Request) {
	pod, ok := s.cfg.Pods.LookupPod(r.PathValue("ns"), r.PathValue("pod"))
	if !ok || (r.PathValue("uid") != "" && types.UID(r.PathValue("uid")) != pod.UID) {
		httpError(w, fmt.Errorf("%w: pod %s/%s is not on this node", errNotFound, r.PathValue("ns"), r.PathValue("pod")))
		return
	}
	st, ok := s.cfg.Pods.Streamer()
	if !ok {
		httpError(w, fmt.Errorf("%w: the node's runtime has no processes (simulated)", errBadRequest))
		return
	}
	sess := newPFSession(pfConfig{Pod: pod.UID, Dial: st.DialPort, Logger: s.cfg.Logger})
	conn, err := acceptPortForward(w, r, sess.newStream)
	if err != nil {
		s.cfg.Logger.Warn("port-forward upgrade failed", "pod", pod.Namespace+"/"+pod.Name, "err", err)
		return
	}
	conn.SetIdleTimeout(pfIdleTimeout)
	sess.run(r.Context(), conn)
}

// acceptPortForward upgrades to a websocket tunnel or to plain SPDY; on
// failure it has answered with an HTTP error.
func acceptPortForward(w http.ResponseWriter, r *http.Request, onStream httpstream.NewStreamHandler) (httpstream.Connection, error) {
	if !websocketRequest(r) {
		if _, err := httpstream.Handshake(r, w, []string{protocolPortForward}); err != nil {
			return nil, err
		}
		conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, onStream)
		if conn == nil {
			return nil, errors.New("spdy upgrade failed")
		}
		return conn, nil
	}
	if !slices.Contains(websocket.Subprotocols(r), protocolPFTunnel) {
		msg := fmt.Sprintf("unable to upgrade: websocket port-forward needs subprotocol %s, client offered %q",
			protocolPFTunnel, strings.Join(websocket.Subprotocols(r), ","))
		http.Error(w, msg, http.StatusBadRequest)
		return nil, errors.New(msg)
	}
	ws, err := tunnelUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil, err
	}
	conn, err := spdy.NewServerConnection(portforward.NewTunnelingConnection("agent", ws), onStream)
	if err != nil {
		_ = ws.Close()
		return nil, fmt.Errorf("spdy in websocket: %w", err)
	}
	return conn, nil
}

// pfHeaders checks a stream's headers as the kubelet does: a known
// stream type and a port in 1..65535.
func pfHeaders(st httpstream.Stream) (string, uint16, error) {
	typ := st.Headers().Get(corev1.StreamType)
	if typ != corev1.StreamTypeError && typ != corev1.StreamTypeData {
		return "", 0, fmt.Errorf("invalid stream type %q", typ)
	}
	port, err := strconv.ParseUint(st.Headers().Get(corev1.PortHeader), 10, 16)
	if err != nil || port == 0 {
		return "", 0, fmt.Errorf("invalid port header %q", st.Headers().Get(corev1.PortHeader))
	}
	return typ, uint16(port), nil
}

// pfRequestID is the id that pairs a stream with its partner: the
// requestID header, else (older clients) derived from the stream id, data
// streams following their error stream by 2.
func pfRequestID(st httpstream.Stream, typ string) string {
	if id := st.Headers().Get(corev1.PortForwardRequestIDHeader); id != "" {
		return id
	}
	id := st.Identifier()
	if typ == corev1.StreamTypeData {
		id -= 2
	}
	return fmt.Sprint(id)
}
