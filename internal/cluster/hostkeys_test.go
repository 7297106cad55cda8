package cluster

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestConsoleFingerprintsTakesLastBlock(t *testing.T) {
	console := `[    0.000000] Linux version 6.1
ci-info: no authorized SSH keys fingerprints found for user debian.
-----BEGIN SSH HOST KEY FINGERPRINTS-----
256 SHA256:oldoldold root@db-1 (ECDSA)
-----END SSH HOST KEY FINGERPRINTS-----
reboot
<14>Nov 22 20:00:01 cloud-init: #############################################################
<14>Nov 22 20:00:01 cloud-init: -----BEGIN SSH HOST KEY FINGERPRINTS-----
<14>Nov 22 20:00:01 cloud-init: 256 SHA256:AbC+def/123 root@db-1 (ED25519)
<14>Nov 22 20:00:01 cloud-init: 3072 SHA256:rsaRSArsa root@db-1 (RSA)
<14>Nov 22 20:00:01 cloud-init: -----END SSH HOST KEY FINGERPRINTS-----
`
	got, err := consoleFingerprints(console)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "SHA256:AbC+def/123,SHA256:rsaRSArsa" {
		t.Fatalf("fingerprints = %v", got)
	}
}

func TestConsoleFingerprintsMissingOrUnterminated(t *testing.T) {
	for _, console := range []string{
		"",
		"booting...\n",
		"-----BEGIN SSH HOST KEY FINGERPRINTS-----\n256 SHA256:abc root@x (ED25519)\n", // still being written
	} {
		if _, err := consoleFingerprints(console); err != errNoFingerprints {
			t.Errorf("consoleFingerprints(%q) err = %v, want errNoFingerprints", console, err)
		}
	}
}

func TestFingerprintCallback(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	addr := &net.TCPAddr{IP: net.IPv4(10, 200, 0, 10), Port: 22}
	if err := fingerprintCallback([]string{"SHA256:other", ssh.FingerprintSHA256(key)})("db-1:22", addr, key); err != nil {
		t.Fatalf("pinned key refused: %v", err)
	}
	err = fingerprintCallback([]string{"SHA256:other"})("db-1:22", addr, key)
	if err == nil || !strings.Contains(err.Error(), "not among the fingerprints") {
		t.Fatalf("unpinned key accepted or unclear error: %v", err)
	}
}
