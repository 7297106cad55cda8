package galeratest

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// The capture finds a marker sent over TCP on loopback even when two
// writes split it, counts a frame seen twice (lo shows each one sent and
// received) once, and does not find what was never sent.
func TestCaptureFindsMarkerAcrossSegments(t *testing.T) {
	if testing.Short() {
		t.Skip("real hosts: not with -short (make unit)")
	}
	if os.Geteuid() != 0 {
		t.Skip("a packet capture needs root")
	}
	if name, err := InterfaceWithAddress("127.0.0.1"); err != nil || name != "lo" {
		t.Fatalf("InterfaceWithAddress(127.0.0.1) = %q, %v", name, err)
	}
	marker := []byte("MARKER-7f3a9c-capture")
	c, err := StartCapture("lo", marker)
	if err != nil {
		t.Fatal(err)
	}
	absent, err := StartCapture("lo", []byte("never-sent-7f3a9c"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer conn.Close()
		var b strings.Builder
		buf := make([]byte, 256)
		for {
			n, err := conn.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				got <- b.String()
				return
			}
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn.(*net.TCPConn).SetNoDelay(true)
	clientPort := conn.LocalAddr().(*net.TCPAddr).Port
	if _, err := conn.Write(append([]byte("row: "), marker[:9]...)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // two segments
	if _, err := conn.Write(marker[9:]); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if s := <-got; !strings.Contains(s, string(marker)) {
		t.Fatalf("the server read %q", s)
	}
	time.Sleep(300 * time.Millisecond)
	r, err := c.Stop()
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
	if r.Hits != 1 || len(r.Found) != 1 {
		t.Errorf("marker split over two segments: %d hits in %v, want 1", r.Hits, r.Found)
	}
	// Both ports are ephemeral here, so the flow is counted under either.
	port, client := uint16(ln.Addr().(*net.TCPAddr).Port), uint16(clientPort)
	if got := max(r.PortBytes[port], r.PortBytes[client]); got != int64(5+len(marker)) {
		t.Errorf("payload bytes between ports %d and %d = %d, want %d (each byte once)", port, client, got, 5+len(marker))
	}
	ra, err := absent.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if ra.Hits != 0 || max(ra.PortBytes[port], ra.PortBytes[client]) == 0 {
		t.Errorf("a marker never sent: %s", ra)
	}
}
