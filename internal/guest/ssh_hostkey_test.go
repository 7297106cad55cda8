package guest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func newTestKey(t *testing.T) (ssh.PublicKey, []byte) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return key, pemEncode(block)
}

func TestHostKeyFingerprintPinning(t *testing.T) {
	hostKey, _ := newTestKey(t)
	_, clientKey := newTestKey(t)
	addr := &net.TCPAddr{IP: net.IPv4(10, 200, 0, 10), Port: 22}

	var told ssh.PublicKey
	target := SSHTarget{
		Addr: "10.200.0.10", PrivateKey: clientKey,
		HostKeyFingerprints: []string{"SHA256:someoneelse", ssh.FingerprintSHA256(hostKey)},
		OnHostKey:           func(k ssh.PublicKey) { told = k },
	}
	cfg, err := target.clientConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.HostKeyCallback("10.200.0.10:22", addr, hostKey); err != nil {
		t.Fatalf("pinned fingerprint refused: %v", err)
	}
	if told == nil || ssh.FingerprintSHA256(told) != ssh.FingerprintSHA256(hostKey) {
		t.Fatalf("OnHostKey not told the verified key")
	}

	other, _ := newTestKey(t)
	told = nil
	err = cfg.HostKeyCallback("10.200.0.10:22", addr, other)
	if err == nil || !strings.Contains(err.Error(), "not among the pinned fingerprints") {
		t.Fatalf("unpinned key accepted or unclear error: %v", err)
	}
	if told != nil {
		t.Fatalf("OnHostKey told about a refused key")
	}
}

func pemEncode(b *pem.Block) []byte { return pem.EncodeToMemory(b) }
