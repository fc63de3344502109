package preflight

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// OS probes the machine this process runs on.
type OS struct{}

var _ Probes = OS{}

// Euid is os.Geteuid.
func (OS) Euid() int { return os.Geteuid() }

// ReadFile is os.ReadFile.
func (OS) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

// Exists stats path.
func (OS) Exists(path string) bool { _, err := os.Stat(path); return err == nil }

// LookPath is exec.LookPath.
func (OS) LookPath(name string) error { _, err := exec.LookPath(name); return err }

// Listen opens and closes a TCP listener.
func (OS) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return ln.Close()
}

// FreeBytes statfs's the nearest existing directory of path.
func (OS) FreeBytes(path string) (uint64, error) {
	dir, err := filepath.Abs(path)
	if err != nil {
		return 0, err
	}
	for {
		var st unix.Statfs_t
		err := unix.Statfs(dir, &st)
		if err == nil {
			return st.Bavail * uint64(st.Bsize), nil
		}
		if !errors.Is(err, unix.ENOENT) || dir == "/" {
			return 0, fmt.Errorf("statfs %s: %w", dir, err)
		}
		dir = filepath.Dir(dir)
	}
}

// NFTables asks the kernel for nf_tables' generation (NFT_MSG_GETGEN
// over netfilter netlink: read-only, answered in microseconds). A
// process without CAP_NET_ADMIN cannot ask; that is not reported here
// (the root check says it).
func (OS) NFTables() error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return fmt.Errorf("netfilter netlink: %w", err)
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(int64(200 * time.Millisecond))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return err
	}
	if err := unix.Sendto(fd, getGenRequest(), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netfilter netlink: %w", err)
	}
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return fmt.Errorf("netfilter netlink: %w", err)
	}
	return getGenAnswer(buf[:n])
}

const (
	nlmsgHeaderLen = 16
	nftGetGen      = unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETGEN
)

// getGenRequest is one netlink message: header, then nfgenmsg.
func getGenRequest() []byte {
	b := make([]byte, nlmsgHeaderLen+4)
	binary.NativeEndian.PutUint32(b[0:], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:], nftGetGen)
	binary.NativeEndian.PutUint16(b[6:], unix.NLM_F_REQUEST)
	binary.NativeEndian.PutUint32(b[8:], 1) // sequence
	b[16] = unix.AF_UNSPEC
	b[17] = unix.NFNETLINK_V0
	return b
}

// getGenAnswer reads the first answer: nf_tables' NEWGEN, or an error
// (EPERM without CAP_NET_ADMIN is no answer about the kernel).
func getGenAnswer(b []byte) error {
	if len(b) < nlmsgHeaderLen {
		return errors.New("netfilter netlink: short answer")
	}
	typ := binary.NativeEndian.Uint16(b[4:])
	if typ != unix.NLMSG_ERROR {
		return nil
	}
	if len(b) < nlmsgHeaderLen+4 {
		return errors.New("netfilter netlink: short error")
	}
	errno := unix.Errno(-int32(binary.NativeEndian.Uint32(b[nlmsgHeaderLen:])))
	if errno == 0 || errno == unix.EPERM {
		return nil
	}
	return errno
}
