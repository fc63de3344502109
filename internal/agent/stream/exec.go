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

// session is one exec or attach over a websocket or SPDY.
type session struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	resize         <-chan runtime.TermSize
	done           <-chan struct{}
	finish         func(status []byte)
}

// serveStream runs an exec or attach session.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request) {
	pod, name, st, err := s.target(r)
	if err != nil {
		httpError(w, err)
		return
	}
	opts := parseOptions(r)
	exec := strings.HasPrefix(r.URL.Path, "/exec/")
	if exec && len(opts.command) == 0 {
		http.Error(w, "you must specify at least 1 command", http.StatusBadRequest)
		return
	}
	sess, err := s.accept(w, r, opts)
	if err != nil {
		s.cfg.Logger.Warn("stream upgrade failed", "err", err)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	if sess.done != nil {
		go func() { <-sess.done; cancel() }()
	}
	code := 0
	if exec {
		code, err = st.Exec(ctx, runtime.ExecRequest{UID: pod.UID, Container: name, Command: opts.command, TTY: opts.tty,
			Stdin: sess.stdin, Stdout: sess.stdout, Stderr: sess.stderr, Resize: sess.resize})
	} else {
		err = st.Attach(ctx, runtime.AttachRequest{UID: pod.UID, Container: name, Stdin: sess.stdin, Stdout: sess.stdout, Stderr: sess.stderr, Resize: sess.resize})
	}
	sess.finish(exitStatus(code, err))
}

// accept upgrades to a websocket, or else to SPDY.
func (s *Server) accept(w http.ResponseWriter, r *http.Request, opts streamOptions) (*session, error) {
	if !websocketRequest(r) {
		sp, err := upgradeSPDY(w, r, opts)
		if err != nil {
			return nil, err
		}
		return &session{stdin: sp.stdin, stdout: sp.stdout, stderr: sp.stderr, resize: sp.resize, finish: sp.finish}, nil
	}
	conn, err := upgrade(w, r)
	if err != nil {
		return nil, err
	}
	sess := &session{resize: conn.resize, done: conn.done, finish: conn.finish}
	if opts.stdin {
		sess.stdin = conn.stdin
	}
	if opts.stdout {
		sess.stdout = conn.writer(chanStdout)
	}
	if opts.stderr {
		sess.stderr = conn.writer(chanStderr)
	}
	return sess, nil
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
