package userspace

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	ebpflink "github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// sockmap hands established relays to the kernel: a BPF sk_skb verdict
// program redirects what one socket of a relay receives to the other
// socket's transmit path, so the payload is never copied through the
// proxy (no splice, no pipe, no wakeup per chunk). The Go proxy keeps
// accepting, balancing, retrying and passing half-closes on.
//
// Two socket hashes keyed by socket cookie: peers maps each socket's
// cookie to the other socket of its relay (a redirect target only);
// verdict maps it to the socket itself and carries the program, which
// starts to run on a socket when it is added there. Both sockets are in
// peers before either is in verdict, so the program never finds a
// relay's other end missing.
type sockmap struct {
	peers, verdict *ebpf.Map
	prog           *ebpf.Program
}

// sockmapSize bounds the relays handed to the kernel at once (two
// sockets each); beyond it relays splice.
const sockmapSize = 1 << 16

func newSockmap() (*sockmap, error) {
	spec := func(name string) *ebpf.MapSpec {
		return &ebpf.MapSpec{Name: name, Type: ebpf.SockHash, KeySize: 8, ValueSize: 4, MaxEntries: sockmapSize}
	}
	peers, err := ebpf.NewMap(spec("svcplane_peers"))
	if err != nil {
		return nil, fmt.Errorf("sockhash: %w", err)
	}
	verdict, err := ebpf.NewMap(spec("svcplane_verdict"))
	if err != nil {
		peers.Close()
		return nil, fmt.Errorf("sockhash: %w", err)
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "svcplane_relay", Type: ebpf.SkSKB, License: "Apache-2.0",
		Instructions: asm.Instructions{
			// An skb without payload (the FIN's) is not passed on: the
			// proxy passes the FIN on once the payload before it is out.
			asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), // skb->len
			asm.JNE.Imm(asm.R2, 0, "redirect"),
			asm.Mov.Imm(asm.R0, 0), // SK_DROP
			asm.Return(),
			// key = bpf_get_socket_cookie(skb)
			asm.Mov.Reg(asm.R6, asm.R1).WithSymbol("redirect"),
			asm.FnGetSocketCookie.Call(),
			asm.StoreMem(asm.RFP, -8, asm.R0, asm.DWord),
			// return bpf_sk_redirect_hash(skb, peers, &key, 0)
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.LoadMapPtr(asm.R2, peers.FD()),
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, -8),
			asm.Mov.Imm(asm.R4, 0),
			asm.FnSkRedirectHash.Call(),
			asm.Return(),
		},
	})
	if err == nil {
		err = ebpflink.RawAttachProgram(ebpflink.RawAttachProgramOptions{Target: verdict.FD(), Program: prog, Attach: ebpf.AttachSkSKBStreamVerdict})
	}
	if err != nil {
		if prog != nil {
			prog.Close()
		}
		peers.Close()
		verdict.Close()
		return nil, fmt.Errorf("sk_skb verdict program: %w", err)
	}
	return &sockmap{peers: peers, verdict: verdict, prog: prog}, nil
}

func (m *sockmap) close() {
	m.prog.Close()
	m.verdict.Close()
	m.peers.Close()
}

// sockEnd is one socket of a relay handed to the kernel.
type sockEnd struct {
	c      *net.TCPConn
	fd     int
	cookie uint64
	// sent0 is what the socket had sent before the hand-over.
	sent0 uint64
}

// errNotHanded says the relay was not handed to the kernel and is
// untouched: the caller relays it itself.
var errNotHanded = errors.New("not handed to the kernel")

// relay hands client and backend to the kernel and waits until both
// directions are done, passing each end's FIN on once everything before
// it went out. It returns errNotHanded (nothing changed) when the kernel
// would not take them.
func (m *sockmap) relay(client, backend *net.TCPConn) error {
	a, err := openEnd(client)
	if err != nil {
		return errNotHanded
	}
	b, err := openEnd(backend)
	if err != nil {
		return errNotHanded
	}
	if err := m.peers.Update(a.cookie, uint32(b.fd), ebpf.UpdateNoExist); err != nil {
		return errNotHanded
	}
	if err := m.peers.Update(b.cookie, uint32(a.fd), ebpf.UpdateNoExist); err != nil {
		m.peers.Delete(a.cookie)
		return errNotHanded
	}
	defer m.peers.Delete(a.cookie)
	defer m.peers.Delete(b.cookie)
	// From here the sockets' receive paths belong to the program: a
	// failure can only reset the relay.
	for _, e := range []*sockEnd{a, b} {
		if err := m.verdict.Update(e.cookie, uint32(e.fd), ebpf.UpdateNoExist); err != nil {
			return fmt.Errorf("sockhash: %w", err)
		}
		defer m.verdict.Delete(e.cookie)
		// What arrived before the hand-over waits in the receive queue;
		// setting SO_RCVLOWAT signals it to the program.
		if err := control(e.c, func(fd int) error { return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVLOWAT, 1) }); err != nil {
			return err
		}
	}
	done := make(chan error, 1)
	go func() { done <- forward(a, b) }()
	err = forward(b, a)
	if err2 := <-done; err == nil {
		err = err2
	}
	return err
}

func openEnd(c *net.TCPConn) (*sockEnd, error) {
	e := &sockEnd{c: c}
	err := control(c, func(fd int) error {
		e.fd = fd
		cookie, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_COOKIE)
		if err != nil {
			return err
		}
		e.cookie = cookie
		e.sent0, err = sent(fd)
		return err
	})
	return e, err
}

func control(c *net.TCPConn, fn func(fd int) error) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// sent is what a socket has written so far: acknowledged plus queued.
func sent(fd int) (uint64, error) {
	ti, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return 0, err
	}
	outq, err := unix.IoctlGetInt(fd, unix.TIOCOUTQ)
	if err != nil {
		return 0, err
	}
	return ti.Bytes_acked + uint64(outq), nil
}

// forward waits for src's FIN, then for everything src received before
// it to have left through dst (the program's redirects are sent by a
// kernel worker), and half-closes dst. An error or reset on src fails.
func forward(src, dst *sockEnd) error {
	if err := waitFIN(src); err != nil {
		return err
	}
	var received uint64
	if err := control(src.c, func(fd int) error {
		ti, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		received = ti.Bytes_received - 1 // the FIN counts one
		return err
	}); err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var out uint64
		if err := control(dst.c, func(fd int) (err error) { out, err = sent(fd); return err }); err != nil {
			return err
		}
		if out-dst.sent0 >= received {
			return dst.c.CloseWrite()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d bytes passed on", out-dst.sent0, received)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitFIN blocks until src has received its peer's FIN (POLLRDHUP,
// which data arriving does not signal), an error or a reset; closing
// the connection ends it within half a second.
func waitFIN(src *sockEnd) error {
	for {
		var rev int16
		if err := control(src.c, func(fd int) error {
			p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
			_, err := unix.Poll(p, 500)
			rev = p[0].Revents
			if errors.Is(err, unix.EINTR) {
				return nil
			}
			return err
		}); err != nil {
			return err
		}
		switch {
		case rev&(unix.POLLERR|unix.POLLNVAL) != 0:
			var soerr error
			control(src.c, func(fd int) error {
				n, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
				soerr = errors.Join(err, unix.Errno(n))
				return nil
			})
			return fmt.Errorf("socket error: %w", soerr)
		case rev&unix.POLLRDHUP != 0:
			return nil
		case rev&unix.POLLHUP != 0:
			return errors.New("connection reset")
		}
	}
}
