package galeratest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Capture records what crosses one network interface (a cloud's bridge)
// and searches the TCP payloads for a marker, the way an eavesdropper on
// that network would: each direction of each TCP connection is searched as
// one stream, so a marker split over two segments is still found. Only
// counts are kept, never the payload. It needs root (an AF_PACKET socket);
// on a bridge it asks for promiscuous mode for its own socket only, so it
// sees the frames the bridge forwards between its ports, and the kernel
// drops that mode when the capture stops.
type Capture struct {
	fd     int
	marker []byte
	done   chan struct{}

	mu      sync.Mutex
	stopped bool
	err     error
	frames  int
	flows   map[flowKey]*flow
}

type flowKey struct {
	src, dst netip.AddrPort
}

type flow struct {
	bytes int64
	hits  int
	tail  []byte // the last len(marker)-1 payload bytes seen
	next  uint32 // the sequence number expected next (0 before the first segment)
}

// CaptureResult is what a capture saw.
type CaptureResult struct {
	Frames int
	// Hits is how many times the marker was seen, in all flows.
	Hits int
	// Found lists the flows whose payload holds the marker, as
	// "src -> dst: n times".
	Found []string
	// PortBytes is TCP payload bytes per server port (the lower of the two
	// ports of a flow, or the one below 10000): 3306 client, 4567 Galera,
	// 4568 IST, 4444 SST.
	PortBytes map[uint16]int64
}

// String summarises the result for a test log.
func (r CaptureResult) String() string {
	ports := make([]int, 0, len(r.PortBytes))
	for p := range r.PortBytes {
		ports = append(ports, int(p))
	}
	sort.Ints(ports)
	var b strings.Builder
	fmt.Fprintf(&b, "%d frames; payload bytes by port:", r.Frames)
	for _, p := range ports {
		fmt.Fprintf(&b, " %d=%d", p, r.PortBytes[uint16(p)])
	}
	if len(r.Found) == 0 {
		b.WriteString("; marker found nowhere")
	} else {
		b.WriteString("; marker found in: " + strings.Join(r.Found, ", "))
	}
	return b.String()
}

// InterfaceWithAddress names the local interface that holds addr (the
// machine's address on a cloud network is on that network's bridge).
func InterfaceWithAddress(addr string) (string, error) {
	want, err := netip.ParseAddr(addr)
	if err != nil {
		return "", fmt.Errorf("find the interface of %q: %w", addr, err)
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return "", fmt.Errorf("list interfaces: %w", err)
	}
	for _, ifc := range ifaces {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr() == want {
				return ifc.Name, nil
			}
		}
	}
	return "", fmt.Errorf("no interface holds %s", addr)
}

const (
	ethPAll            = 0x0003
	solPacket          = 263
	packetAddMember    = 1
	packetMRPromisc    = 1
	captureReadTimeout = 200 * time.Millisecond
)

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// StartCapture starts recording on the interface named iface and searching
// for marker until Stop.
func StartCapture(iface string, marker []byte) (*Capture, error) {
	if len(marker) == 0 {
		return nil, errors.New("capture: empty marker")
	}
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("capture on %s: %w", iface, err)
	}
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(ethPAll)))
	if err != nil {
		return nil, fmt.Errorf("capture on %s: packet socket (needs root): %w", iface, err)
	}
	fail := func(what string, err error) (*Capture, error) {
		syscall.Close(fd)
		return nil, fmt.Errorf("capture on %s: %s: %w", iface, what, err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: htons(ethPAll), Ifindex: ifc.Index}); err != nil {
		return fail("bind", err)
	}
	// struct packet_mreq { int mr_ifindex; unsigned short mr_type, mr_alen; unsigned char mr_address[8]; }
	var mreq [16]byte
	binary.NativeEndian.PutUint32(mreq[0:], uint32(ifc.Index))
	binary.NativeEndian.PutUint16(mreq[4:], packetMRPromisc)
	if err := syscall.SetsockoptString(fd, solPacket, packetAddMember, string(mreq[:])); err != nil {
		return fail("promiscuous membership", err)
	}
	tv := syscall.NsecToTimeval(captureReadTimeout.Nanoseconds())
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		return fail("read timeout", err)
	}
	// Replication and an SST come in bursts: a large receive buffer keeps
	// the kernel from dropping frames while the reader catches up.
	_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 64<<20)
	c := &Capture{fd: fd, marker: append([]byte(nil), marker...), done: make(chan struct{}), flows: map[flowKey]*flow{}}
	go c.read()
	return c, nil
}

func (c *Capture) read() {
	defer close(c.done)
	buf := make([]byte, 1<<18)
	for {
		c.mu.Lock()
		stopped := c.stopped
		c.mu.Unlock()
		if stopped {
			return
		}
		n, _, err := syscall.Recvfrom(c.fd, buf, 0)
		if err != nil {
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
				continue
			}
			c.mu.Lock()
			c.err = fmt.Errorf("capture: read: %w", err)
			c.mu.Unlock()
			return
		}
		c.frame(buf[:n])
	}
}

// frame takes one Ethernet frame; anything but IPv4 TCP with a payload is
// counted and skipped.
func (c *Capture) frame(f []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frames++
	if len(f) < 14 {
		return
	}
	etype := binary.BigEndian.Uint16(f[12:14])
	ip := f[14:]
	if etype == 0x8100 && len(f) >= 18 { // one VLAN tag
		etype, ip = binary.BigEndian.Uint16(f[16:18]), f[18:]
	}
	if etype != 0x0800 || len(ip) < 20 || ip[0]>>4 != 4 || ip[9] != 6 {
		return
	}
	ihl := int(ip[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(ip[2:4]))
	if total == 0 || total > len(ip) { // a segmentation offload frame may say 0
		total = len(ip)
	}
	if ihl < 20 || total < ihl+20 {
		return
	}
	tcp := ip[ihl:total]
	off := int(tcp[12]>>4) * 4
	if off < 20 || off > len(tcp) {
		return
	}
	payload := tcp[off:]
	if len(payload) == 0 {
		return
	}
	src := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[12:16])), binary.BigEndian.Uint16(tcp[0:2]))
	dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[16:20])), binary.BigEndian.Uint16(tcp[2:4]))
	seq := binary.BigEndian.Uint32(tcp[4:8])
	k := flowKey{src, dst}
	fl := c.flows[k]
	if fl == nil {
		fl = &flow{}
		c.flows[k] = fl
	}
	// A retransmission (or the same frame seen again) adds nothing new:
	// only bytes past what the flow already had are searched.
	if fl.next != 0 {
		ahead := int32(seq + uint32(len(payload)) - fl.next)
		if ahead <= 0 {
			return
		}
		if ahead < int32(len(payload)) {
			payload = payload[len(payload)-int(ahead):]
		}
	}
	fl.next = seq + uint32(len(payload))
	if fl.next == 0 {
		fl.next = 1
	}
	fl.bytes += int64(len(payload))
	joined := append(append([]byte(nil), fl.tail...), payload...)
	fl.hits += bytes.Count(joined, c.marker)
	keep := len(c.marker) - 1
	if len(joined) < keep {
		keep = len(joined)
	}
	fl.tail = append(fl.tail[:0], joined[len(joined)-keep:]...)
}

// Stop ends the capture and returns what it saw.
func (c *Capture) Stop() (CaptureResult, error) {
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	<-c.done
	syscall.Close(c.fd)
	c.mu.Lock()
	defer c.mu.Unlock()
	r := CaptureResult{Frames: c.frames, PortBytes: map[uint16]int64{}}
	for k, fl := range c.flows {
		r.PortBytes[serverPort(k.src.Port(), k.dst.Port())] += fl.bytes
		r.Hits += fl.hits
		if fl.hits > 0 {
			r.Found = append(r.Found, fmt.Sprintf("%s -> %s: %d times", k.src, k.dst, fl.hits))
		}
	}
	sort.Strings(r.Found)
	return r, c.err
}

// serverPort guesses which side of a connection is the server: the well
// known port below the ephemeral range, else the lower one.
func serverPort(a, b uint16) uint16 {
	switch {
	case a < 10000 && b >= 10000:
		return a
	case b < 10000 && a >= 10000:
		return b
	case a < b:
		return a
	default:
		return b
	}
}
