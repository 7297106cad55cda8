package cluster

import (
	"strings"
	"testing"
)

func TestConsoleFingerprintsRepeatedBlocksAgree(t *testing.T) {
	console := `[    0.000000] Linux version 6.1
ci-info: no authorized SSH keys fingerprints found for user debian.
-----BEGIN SSH HOST KEY FINGERPRINTS-----
3072 SHA256:rsaRSArsa root@db-1 (RSA)
256 SHA256:AbC+def/123 root@db-1 (ED25519)
-----END SSH HOST KEY FINGERPRINTS-----
reboot
<14>Nov 22 20:00:01 cloud-init: #############################################################
<14>Nov 22 20:00:01 cloud-init: -----BEGIN SSH HOST KEY FINGERPRINTS-----
<14>Nov 22 20:00:01 cloud-init: 256 SHA256:AbC+def/123 root@db-1 (ED25519)
<14>Nov 22 20:00:01 cloud-init: 3072 SHA256:rsaRSArsa root@db-1 (RSA)
<14>Nov 22 20:00:01 cloud-init: -----END SSH HOST KEY FINGERPRINTS-----
<14>Nov  2 20:00:01 ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----
<14>Nov  2 20:00:01 ec2: 256 SHA256:AbC+def/123 root@db-1 (ED25519)
<14>Nov  2 20:00:01 ec2: 3072 SHA256:rsaRSArsa root@db-1 (RSA)
<14>Nov  2 20:00:01 ec2: -----END SSH HOST KEY FINGERPRINTS-----
`
	got, err := consoleFingerprints(console)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "SHA256:AbC+def/123,SHA256:rsaRSArsa" {
		t.Fatalf("fingerprints = %v", got)
	}
}

// A second block with other keys (a reboot into new keys, or anything else
// printing a block) leaves no block to trust: the last one used to win.
func TestConsoleFingerprintsRefusesDisagreeingBlocks(t *testing.T) {
	console := `-----BEGIN SSH HOST KEY FINGERPRINTS-----
256 SHA256:realreal root@db-1 (ED25519)
-----END SSH HOST KEY FINGERPRINTS-----
<14>Nov 22 20:00:01 cloud-init: -----BEGIN SSH HOST KEY FINGERPRINTS-----
<14>Nov 22 20:00:01 cloud-init: 256 SHA256:forged root@db-1 (ED25519)
<14>Nov 22 20:00:01 cloud-init: -----END SSH HOST KEY FINGERPRINTS-----
`
	if got, err := consoleFingerprints(console); err != errFingerprintsDisagree {
		t.Fatalf("consoleFingerprints = %v, %v; want errFingerprintsDisagree", got, err)
	}
}

// Markers count only as whole lines: a process that echoes text into the
// middle of a console line (a hostname, a login banner, a log message with
// user input) cannot open, fill or close a block.
func TestConsoleFingerprintsExactMarkerLinesOnly(t *testing.T) {
	real := "-----BEGIN SSH HOST KEY FINGERPRINTS-----\n256 SHA256:realreal root@db-1 (ED25519)\n-----END SSH HOST KEY FINGERPRINTS-----\n"
	for name, injected := range map[string]string{
		"embedded markers": "myapp: user said -----BEGIN SSH HOST KEY FINGERPRINTS-----\n256 SHA256:forged root@db-1 (ED25519)\nmyapp: -----END SSH HOST KEY FINGERPRINTS-----\n",
		"foreign prefix":   "[   12.0] evil: -----BEGIN SSH HOST KEY FINGERPRINTS-----\n[   12.0] evil: 256 SHA256:forged root@db-1 (ED25519)\n[   12.0] evil: -----END SSH HOST KEY FINGERPRINTS-----\n",
		"trailing text":    "-----BEGIN SSH HOST KEY FINGERPRINTS----- x\n256 SHA256:forged root@db-1 (ED25519)\n-----END SSH HOST KEY FINGERPRINTS----- x\n",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := consoleFingerprints(real + injected)
			if err != nil || strings.Join(got, ",") != "SHA256:realreal" {
				t.Fatalf("consoleFingerprints = %v, %v; want [SHA256:realreal]", got, err)
			}
			if got, err := consoleFingerprints(injected); err != errNoFingerprints {
				t.Fatalf("injected lines alone gave %v, %v; want errNoFingerprints", got, err)
			}
		})
	}
	// A stray line inside a block (another process interleaving output)
	// spoils that block rather than adding a key to it.
	mixed := "-----BEGIN SSH HOST KEY FINGERPRINTS-----\n256 SHA256:realreal root@db-1 (ED25519)\nmyapp: 256 SHA256:forged x\n-----END SSH HOST KEY FINGERPRINTS-----\n"
	if got, err := consoleFingerprints(mixed); err != errNoFingerprints {
		t.Fatalf("block with a stray line gave %v, %v; want errNoFingerprints", got, err)
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

// A guest booting with systemd prints status lines on the same console,
// e.g. for an SSH login while cloud-init prints the block; they are skipped,
// while a fingerprint line without the block's syslog header still makes
// the block untrusted.
func TestConsoleFingerprintsSkipsSystemdStatusLines(t *testing.T) {
	console := `<14>Dec  3 07:00:24 cloud-init: #############################################################
<14>Dec  3 07:00:24 cloud-init: -----BEGIN SSH HOST KEY FINGERPRINTS-----
[  OK  ] Started session-1.scope - Session 1 of User root.
<14>Dec  3 07:00:24 cloud-init: 256 SHA256:WAyB37oV/vpbdXpZKR8RQjaqOyATGLSSBcOfysDQxZ4 root@db-1 (ED25519)
         Starting systemd-update-utmp-runlev… Record Runlevel Change in UTMP...
[43795.510000] cloud-init[121]: something
<14>Dec  3 07:00:24 cloud-init: -----END SSH HOST KEY FINGERPRINTS-----
`
	got, err := consoleFingerprints(console)
	if err != nil || strings.Join(got, ",") != "SHA256:WAyB37oV/vpbdXpZKR8RQjaqOyATGLSSBcOfysDQxZ4" {
		t.Fatalf("consoleFingerprints = %v, %v", got, err)
	}
	forged := strings.Replace(console, "[  OK  ] Started session-1.scope - Session 1 of User root.", "256 SHA256:forged root@db-1 (ED25519)", 1)
	if got, err := consoleFingerprints(forged); err != errNoFingerprints {
		t.Fatalf("a block with an unprefixed fingerprint line: %v, %v; want errNoFingerprints", got, err)
	}
}

// Servers boot with the early fingerprints when the console is the trust
// path, and with no user data otherwise: a known_hosts file names keys the
// image brings, which the early key would replace.
func TestServersBootWithEarlyFingerprints(t *testing.T) {
	r := newRig()
	_, c := builtCluster(t, r)
	for _, n := range c.Nodes {
		if got := r.cloud.userData[n.Name]; got != earlyFingerprintsUserData {
			t.Errorf("%s booted with user data %q", n.Name, got)
		}
	}
	for mode, want := range map[string]bool{HostKeyConsole: true, HostKeyKnownHosts: false, HostKeyInsecure: false} {
		spec := testSpec()
		spec.SSH.HostKeyCheck = mode
		if got := bootUserData(spec) != nil; got != want {
			t.Errorf("host_key_check %s: user data %v, want %v", mode, got, want)
		}
	}
	for _, must := range []string{"#cloud-config\n", "ssh_deletekeys: false", "cloud-init-per, instance,", "> /dev/console", fingerprintsBegin, fingerprintsEnd} {
		if !strings.Contains(earlyFingerprintsUserData, must) {
			t.Errorf("the user data lacks %q", must)
		}
	}
}
