package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/svcplane/svcplane/internal/netns"
)

// packets is the first-packet latency of one mode at one size: the time
// of TCP connect() from the node namespace to a ClusterIP (SYN out
// through the rules, SYN-ACK back from the listener).
type packets struct {
	lat    []time.Duration
	failed int
}

const connectTimeout = 2 * time.Second

// firstPackets connects count times from the node namespace to the
// ClusterIP (ip(i)) of a random one of n Services (each connection new), after
// a few unmeasured ones (the neighbour entry of the gateway). The
// connections follow each other from one thread, so caches are warm and
// what the rules cost shows; spaced out by sleeps, each one costs some
// 60 µs more here, whatever the mode.
func firstPackets(ctx context.Context, ns string, n, count int, ip func(int) netip.Addr) (packets, error) {
	var p packets
	rng := rand.New(rand.NewPCG(uint64(n), 2))
	err := netns.Do(nsPath(ns), func() error {
		for k := -10; k < count; k++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			d, err := connect(ip(rng.IntN(n)).As4(), servicePort)
			switch {
			case k < 0:
			case err != nil:
				p.failed++
			default:
				p.lat = append(p.lat, d)
			}
		}
		return nil
	})
	return p, err
}

// connect times one non-blocking connect() until the handshake is done,
// on the calling thread (in the node namespace), and resets the
// connection so that no TIME_WAIT builds up.
func connect(addr [4]byte, port int) (time.Duration, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
		return 0, err
	}
	start := time.Now()
	err = unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: addr})
	if err != nil && !errors.Is(err, unix.EINPROGRESS) {
		return 0, err
	}
	if err := waitWritable(fd, start.Add(connectTimeout)); err != nil {
		return 0, err
	}
	d := time.Since(start)
	soErr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return 0, err
	}
	if soErr != 0 {
		return 0, fmt.Errorf("connect: %w", unix.Errno(soErr))
	}
	return d, nil
}

// waitWritable spins on poll() without sleeping until the handshake is
// done: a thread woken from sleep would add the scheduler's wake-up
// latency, which on a busy machine dwarfs the packet path.
func waitWritable(fd int, deadline time.Time) error {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	for {
		n, err := unix.Poll(fds, 0)
		switch {
		case errors.Is(err, unix.EINTR):
		case err != nil:
			return err
		case n > 0:
			return nil
		case time.Now().After(deadline):
			return errors.New("connect: timed out")
		}
	}
}
