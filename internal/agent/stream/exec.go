package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/agent/runtime"
)

// streamOptions are the streams a client asked for.
type streamOptions struct {
	command                    []string
	stdin, stdout, stderr, tty bool
}

func parseOptions(r *http.Request) streamOptions {
	o := streamOptions{
		command: r.URL.Query()["command"],
		stdin:   boolParam(r, "stdin", "input"),
		stdout:  boolParam(r, "stdout", "output"),
		stderr:  boolParam(r, "stderr", "error"),
		tty:     boolParam(r, "tty"),
	}
	if o.tty {
		o.stderr = false
	}
	return o
}

// serveStream runs an exec or attach session over a websocket.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request) {
	pod, name, st, err := s.target(r)
	if err != nil {
		httpError(w, err)
		return
	}
	if !websocketRequest(r) {
		http.Error(w, "upgrade to a websocket ("+protocolV5+") is required", http.StatusBadRequest)
		return
	}
	opts := parseOptions(r)
	exec := strings.HasPrefix(r.URL.Path, "/exec/")
	if exec && len(opts.command) == 0 {
		http.Error(w, "you must specify at least 1 command", http.StatusBadRequest)
		return
	}
	conn, err := upgrade(w, r)
	if err != nil {
		s.cfg.Logger.Warn("websocket upgrade failed", "err", err)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() { <-conn.done; cancel() }()
	var stdin io.Reader
	var stdout, stderr io.Writer
	if opts.stdin {
		stdin = conn.stdin
	}
	if opts.stdout {
		stdout = conn.writer(chanStdout)
	}
	if opts.stderr {
		stderr = conn.writer(chanStderr)
	}
	code := 0
	if exec {
		code, err = st.Exec(ctx, runtime.ExecRequest{UID: pod.UID, Container: name, Command: opts.command, TTY: opts.tty,
			Stdin: stdin, Stdout: stdout, Stderr: stderr, Resize: conn.resize})
	} else {
		err = st.Attach(ctx, runtime.AttachRequest{UID: pod.UID, Container: name, Stdin: stdin, Stdout: stdout, Stderr: stderr, Resize: conn.resize})
	}
	conn.finish(exitStatus(code, err))
}

func websocketRequest(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// exitStatus is the metav1.Status the error channel carries: Success, a
// NonZeroExitCode failure with the code, or the error.
func exitStatus(code int, err error) []byte {
	st := metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess}
	switch {
	case err != nil:
		st.Status, st.Message, st.Reason = metav1.StatusFailure, err.Error(), metav1.StatusReasonInternalError
		st.Code = http.StatusInternalServerError
	case code != 0:
		st.Status, st.Reason = metav1.StatusFailure, "NonZeroExitCode"
		st.Message = fmt.Sprintf("command terminated with non-zero exit code: exit status %d", code)
		st.Details = &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: "ExitCode", Message: fmt.Sprint(code)}}}
	}
	b, _ := json.Marshal(st)
	return b
}
