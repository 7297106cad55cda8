package nova

import (
	"slices"
	"testing"
)

// The hide-fingerprints fault leaves every fingerprint block out of the
// console: the bare one a user data script prints and cloud-init's
// syslog-prefixed one; the rest of the boot stays.
func TestWithoutFingerprintBlocks(t *testing.T) {
	console := []string{
		"[  OK  ] Started systemd-journald.service - Journal Service.",
		"-----BEGIN SSH HOST KEY FINGERPRINTS-----",
		"256 SHA256:early root@db-1 (ED25519)",
		"-----END SSH HOST KEY FINGERPRINTS-----",
		"[  OK  ] Started ssh.service - OpenBSD Secure Shell server.",
		"<14>Dec  4 16:02:40 cloud-init: -----BEGIN SSH HOST KEY FINGERPRINTS-----",
		"<14>Dec  4 16:02:40 cloud-init: 256 SHA256:late root@db-1 (ED25519)",
		"<14>Dec  4 16:02:40 cloud-init: -----END SSH HOST KEY FINGERPRINTS-----",
		"db-1 login: ",
	}
	want := []string{console[0], console[4], console[8]}
	if got := withoutFingerprintBlocks(console); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
