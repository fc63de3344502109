package iptables

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// Exec runs the iptables tools; it is the seam between the backend and the
// kernel. Run starts name with args, feeds it stdin and returns its
// standard output. A failure that the tool reports through its exit status
// is an error that has an ExitCode() int method (as *exec.ExitError has).
type Exec interface {
	Run(ctx context.Context, name string, args []string, stdin []byte) ([]byte, error)
}

// StreamExec is an Exec that can also feed a tool's standard input as it
// is written: RunStream starts name with args, calls write with the
// tool's standard input, closes it and waits. A sync streams its restore
// input this way, so it is never held whole in memory.
type StreamExec interface {
	Exec
	RunStream(ctx context.Context, name string, args []string, write func(io.Writer) error) ([]byte, error)
}

// OSExec runs the tools found in PATH.
type OSExec struct{}

var _ StreamExec = OSExec{}

// Run runs name and wraps a failure with its standard error.
func (OSExec) Run(ctx context.Context, name string, args []string, stdin []byte) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), &runError{name: name, err: err, stderr: strings.TrimSpace(stderr.String())}
	}
	return stdout.Bytes(), nil
}

// RunStream runs name, feeding its standard input through write. A
// failure of the tool (which stops reading) is reported with its
// standard error rather than as the write's broken pipe.
func (OSExec) RunStream(ctx context.Context, name string, args []string, write func(io.Writer) error) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, &runError{name: name, err: err}
	}
	if err := cmd.Start(); err != nil {
		return nil, &runError{name: name, err: err}
	}
	werr := write(stdin)
	if err := stdin.Close(); werr == nil {
		werr = err
	}
	if err := cmd.Wait(); err != nil {
		return stdout.Bytes(), &runError{name: name, err: err, stderr: strings.TrimSpace(stderr.String())}
	}
	if werr != nil {
		return stdout.Bytes(), &runError{name: name, err: fmt.Errorf("write standard input: %w", werr)}
	}
	return stdout.Bytes(), nil
}

// runError keeps the tool's exit status and standard error.
type runError struct {
	name   string
	err    error
	stderr string
}

func (e *runError) Error() string {
	if e.stderr == "" {
		return fmt.Sprintf("%s: %v", e.name, e.err)
	}
	return fmt.Sprintf("%s: %v: %s", e.name, e.err, e.stderr)
}

func (e *runError) Unwrap() error { return e.err }

// ExitCode is the tool's exit status, or -1.
func (e *runError) ExitCode() int {
	var ee *exec.ExitError
	if errors.As(e.err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// exitCode returns the exit status carried by err, or -1.
func exitCode(err error) int {
	var c interface{ ExitCode() int }
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return -1
}
