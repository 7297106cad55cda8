package cluster

import (
	"strings"
	"testing"
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
