package images

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ncOptions are the options of netcat-openbsd (the nc of agnhost's
// image) that svcplane's nc implements.
type ncOptions struct {
	listen, udp, zero, verbose, numeric, keep, shutdownOnEOF bool
	// network is tcp, tcp4 or tcp6 (-4, -6).
	network string
	// timeout is -w: connect and idle timeout (0: none).
	timeout time.Duration
	// quit is -q: after EOF on stdin wait this long and quit; negative
	// waits for the network side (the default).
	quit             time.Duration
	srcPort, srcAddr string
	host             string
	ports            []string
}

// ncArgOptions take an argument; the rest of netcat-openbsd's letters
// are accepted and ignored when svcplane does not implement them.
const ncArgOptions = "eIiMmOPpqsTVWwXx"

const ncUsage = "usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n" +
	"\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]\n" +
	"\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]\n" +
	"\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]\n" +
	"\t  [destination] [port]\n"

// parseNetcat parses nc's command line as getopt does (clustered
// letters, "-w2" or "-w 2"); operands are host and ports.
func parseNetcat(args []string) (ncOptions, error) {
	o := ncOptions{network: "tcp", quit: -1}
	var operands []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			operands = append(operands, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			operands = append(operands, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			if !strings.ContainsRune(ncArgOptions, rune(c)) {
				if err := o.setFlag(c); err != nil {
					return o, err
				}
				continue
			}
			val := a[j+1:]
			if val == "" {
				if i+1 >= len(args) {
					return o, fmt.Errorf("option requires an argument -- %c", c)
				}
				i++
				val = args[i]
			}
			if err := o.setValue(c, val); err != nil {
				return o, err
			}
			break
		}
	}
	return o, o.setOperands(operands)
}

func (o *ncOptions) setFlag(c byte) error {
	switch c {
	case 'l':
		o.listen = true
	case 'u':
		o.udp = true
	case 'z':
		o.zero = true
	case 'v':
		o.verbose = true
	case 'n':
		o.numeric = true
	case 'k':
		o.keep = true
	case 'N':
		o.shutdownOnEOF = true
	case '4':
		o.network = "tcp4"
	case '6':
		o.network = "tcp6"
	case 't', 'C', 'D', 'd', 'F', 'b', 'r', 'S', 'U', 'Z', 'c':
		// telnet negotiation, CRLF, debug, ...: no effect here
	default:
		return fmt.Errorf("invalid option -- '%c'", c)
	}
	return nil
}

func (o *ncOptions) setValue(c byte, v string) error {
	switch c {
	case 'w', 'q':
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("timeout %s: invalid", v)
		}
		d := time.Duration(n) * time.Second
		if c == 'w' {
			o.timeout = d
		} else {
			o.quit = d
		}
	case 'p':
		o.srcPort = v
	case 's':
		o.srcAddr = v
	}
	return nil
}

func (o *ncOptions) setOperands(ops []string) error {
	switch {
	case o.listen && len(ops) == 1:
		o.ports = ops
	case o.listen && len(ops) == 0 && o.srcPort != "":
		o.ports = []string{o.srcPort}
	case o.listen && len(ops) == 2:
		o.host, o.ports = ops[0], ops[1:]
	case !o.listen && len(ops) >= 2:
		o.host = ops[0]
		for _, p := range ops[1:] {
			ports, err := expandPorts(p)
			if err != nil {
				return err
			}
			o.ports = append(o.ports, ports...)
		}
	case !o.listen && len(ops) == 1:
		return errors.New("missing port number")
	default:
		return errors.New(strings.TrimSuffix(ncUsage, "\n"))
	}
	return nil
}

// expandPorts turns "80" or "1-3" into a list of ports.
func expandPorts(p string) ([]string, error) {
	lo, hi, isRange := strings.Cut(p, "-")
	a, err1 := strconv.Atoi(lo)
	b := a
	var err2 error
	if isRange {
		b, err2 = strconv.Atoi(hi)
	}
	if err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b {
		return nil, fmt.Errorf("port range not valid")
	}
	var out []string
	for i := a; i <= b; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out, nil
}

func (o *ncOptions) proto() string {
	if o.udp {
		return "udp"
	}
	return "tcp"
}

func (o *ncOptions) netw() string {
	if o.udp {
		return strings.Replace(o.network, "tcp", "udp", 1)
	}
	return o.network
}

// runNetcat is nc as netcat-openbsd: connect (or listen, -l) over TCP or
// UDP (-u), copy stdin to the connection and the connection to stdout,
// or only report whether ports are open (-z).
func runNetcat(ctx context.Context, s stdio, args []string) error {
	o, err := parseNetcat(args)
	if err != nil {
		fmt.Fprintf(s.errOut, "nc: %v\n", err)
		if strings.HasPrefix(err.Error(), "usage:") || strings.HasPrefix(err.Error(), "invalid option") {
			fmt.Fprint(s.errOut, ncUsage)
		}
		return exitCode(1)
	}
	if o.listen {
		return ncListen(ctx, s, o)
	}
	failed := 0
	for _, port := range o.ports {
		if !ncConnect(ctx, s, o, port) {
			failed++
		}
	}
	if failed > 0 {
		return exitCode(1)
	}
	return nil
}

// ncConnect connects to one port and reports whether it succeeded.
func ncConnect(ctx context.Context, s stdio, o ncOptions, port string) bool {
	d := net.Dialer{Timeout: o.timeout}
	if o.srcAddr != "" || o.srcPort != "" {
		src := net.JoinHostPort(o.srcAddr, o.srcPort)
		var err error
		if o.udp {
			d.LocalAddr, err = net.ResolveUDPAddr(o.netw(), src)
		} else {
			d.LocalAddr, err = net.ResolveTCPAddr(o.netw(), src)
		}
		if err != nil {
			fmt.Fprintf(s.errOut, "nc: %v\n", err)
			return false
		}
	}
	conn, err := d.DialContext(ctx, o.netw(), net.JoinHostPort(o.host, port))
	if err != nil {
		ncConnectFailed(s, o, port, err)
		return false
	}
	defer conn.Close()
	if o.zero && o.udp && !udpProbe(conn) {
		return false
	}
	if o.verbose {
		fmt.Fprintf(s.errOut, "Connection to %s %s port [%s/%s] succeeded!\n", o.hostLabel(conn), port, o.proto(), serviceName(port, o.proto(), o.numeric))
	}
	if !o.zero {
		ncTransfer(ctx, s, o, conn)
	}
	return true
}

// hostLabel is the host as given, with the address in parentheses when
// a name was given (as Debian's netcat prints).
func (o *ncOptions) hostLabel(conn net.Conn) string {
	ip, _, _ := net.SplitHostPort(conn.RemoteAddr().String())
	if ip == o.host || o.numeric {
		return o.host
	}
	return fmt.Sprintf("%s (%s)", o.host, ip)
}

func ncConnectFailed(s stdio, o ncOptions, port string, err error) {
	if !o.verbose {
		return
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		fmt.Fprintf(s.errOut, "nc: connect to %s port %s (%s) timed out: Operation now in progress\n", o.host, port, o.proto())
		return
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		fmt.Fprintf(s.errOut, "nc: getaddrinfo for host \"%s\" port %s: Name or service not known\n", o.host, port)
		return
	}
	fmt.Fprintf(s.errOut, "nc: connect to %s port %s (%s) failed: %s\n", o.host, port, o.proto(), strerror(err))
}

// strerror is the C library's text for the errno inside err.
func strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		return strings.ToUpper(msg[:1]) + msg[1:]
	}
	return err.Error()
}

// udpProbe writes a few bytes and sees whether an ICMP error comes back,
// as netcat's -z -u does.
func udpProbe(conn net.Conn) bool {
	for range 3 {
		if _, err := conn.Write([]byte("X")); err != nil {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err := conn.Read(make([]byte, 1))
	var ne net.Error
	return err == nil || errors.As(err, &ne) && ne.Timeout()
}

// serviceName is /etc/services' name for port, "*" when it has none.
func serviceName(port, proto string, numeric bool) string {
	if numeric {
		return "*"
	}
	f, err := os.Open("/etc/services")
	if err != nil {
		return "*"
	}
	defer f.Close()
	want := port + "/" + proto
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[1] == want && !strings.HasPrefix(fields[0], "#") {
			return fields[0]
		}
	}
	return "*"
}

// ncTransfer copies stdin to conn and conn to stdout until the network
// side ends, the idle timeout (-w) passes, or -q seconds after stdin's
// EOF.
func ncTransfer(ctx context.Context, s stdio, o ncOptions, conn net.Conn) {
	done := make(chan struct{})
	var once sync.Once
	finish := func() { once.Do(func() { close(done) }) }
	activity := make(chan struct{}, 1)
	touch := func() {
		select {
		case activity <- struct{}{}:
		default:
		}
	}
	go func() {
		ncCopy(s.out, conn, touch)
		finish()
	}()
	go func() {
		ncCopy(conn, s.in, touch)
		ncStdinDone(o, conn, finish)
	}()
	ncWait(ctx, o.timeout, done, activity)
}

// ncStdinDone acts on EOF from stdin: -N shuts the connection's write
// side, -q N quits N seconds later.
func ncStdinDone(o ncOptions, conn net.Conn, finish func()) {
	if cw, ok := conn.(interface{ CloseWrite() error }); ok && o.shutdownOnEOF {
		_ = cw.CloseWrite()
	}
	if o.quit >= 0 {
		time.Sleep(o.quit)
		finish()
	}
}

// ncWait returns when done closes, ctx ends, or nothing moved for idle.
func ncWait(ctx context.Context, idle time.Duration, done <-chan struct{}, activity <-chan struct{}) {
	var timeout <-chan time.Time
	for {
		if idle > 0 {
			timeout = time.After(idle)
		}
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-timeout:
			return
		case <-activity:
		}
	}
}

// ncCopy copies until EOF or an error, calling touch on each chunk.
func ncCopy(dst io.Writer, src io.Reader, touch func()) {
	buf := make([]byte, 16<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			touch()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// ncListen is nc -l: accept one connection (every one with -k, in turn)
// or, over UDP, talk with the first sender.
func ncListen(ctx context.Context, s stdio, o ncOptions) error {
	addr := net.JoinHostPort(o.host, o.ports[0])
	if o.udp {
		return ncListenUDP(ctx, s, o, addr)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, o.netw(), addr)
	if err != nil {
		fmt.Fprintf(s.errOut, "nc: %s\n", strerror(err))
		return exitCode(1)
	}
	defer ln.Close()
	go func() { <-ctx.Done(); ln.Close() }()
	if o.verbose {
		host, port, _ := net.SplitHostPort(ln.Addr().String())
		fmt.Fprintf(s.errOut, "Listening on %s %s\n", host, port)
	}
	for {
		conn, err := ln.Accept()
		if err != nil {
			return nil
		}
		if o.verbose {
			host, port, _ := net.SplitHostPort(conn.RemoteAddr().String())
			fmt.Fprintf(s.errOut, "Connection received on %s %s\n", host, port)
		}
		ncTransfer(ctx, s, o, conn)
		conn.Close()
		if !o.keep {
			return nil
		}
	}
}

func ncListenUDP(ctx context.Context, s stdio, o ncOptions, addr string) error {
	pc, err := net.ListenPacket(o.netw(), addr)
	if err != nil {
		fmt.Fprintf(s.errOut, "nc: %s\n", strerror(err))
		return exitCode(1)
	}
	defer pc.Close()
	go func() { <-ctx.Done(); pc.Close() }()
	if o.verbose {
		host, port, _ := net.SplitHostPort(pc.LocalAddr().String())
		fmt.Fprintf(s.errOut, "Bound on %s %s\n", host, port)
	}
	buf := make([]byte, 64<<10)
	n, from, err := pc.ReadFrom(buf)
	if err != nil {
		return nil
	}
	if o.verbose {
		host, port, _ := net.SplitHostPort(from.String())
		fmt.Fprintf(s.errOut, "Connection received on %s %s\n", host, port)
	}
	_, _ = s.out.Write(buf[:n])
	ncTransfer(ctx, s, o, &packetPeer{PacketConn: pc, peer: from})
	return nil
}

// packetPeer is a listening UDP socket talking with one peer.
type packetPeer struct {
	net.PacketConn
	peer net.Addr
}

func (p *packetPeer) Read(b []byte) (int, error) {
	for {
		n, from, err := p.ReadFrom(b)
		if err != nil || from.String() == p.peer.String() {
			return n, err
		}
	}
}

func (p *packetPeer) Write(b []byte) (int, error) { return p.WriteTo(b, p.peer) }
func (p *packetPeer) RemoteAddr() net.Addr        { return p.peer }
