package cluster

import (
	"strings"
	"testing"
)

// cloud-init's logger stamps each line of the block: a block printed
// across a second boundary (a real boot's console) is one block; a line
// of another header kind inside it still breaks it.
func TestConsoleFingerprintsBlockAcrossASecond(t *testing.T) {
	console := `<14>Dec  3 06:37:27 cloud-init: #############################################################
<14>Dec  3 06:37:27 cloud-init: -----BEGIN SSH HOST KEY FINGERPRINTS-----
<14>Dec  3 06:37:28 cloud-init: 256 SHA256:vLAk4j3HqDFL0RVN8MEuBiXfct8WZEEwhuvSATh7MAA root@accpk-uacdr-1 (ED25519)
<14>Dec  3 06:37:28 cloud-init: -----END SSH HOST KEY FINGERPRINTS-----
`
	got, err := consoleFingerprints(console)
	if err != nil || strings.Join(got, ",") != "SHA256:vLAk4j3HqDFL0RVN8MEuBiXfct8WZEEwhuvSATh7MAA" {
		t.Fatalf("fingerprints = %v, %v", got, err)
	}
	mixed := `<14>Dec  3 06:37:27 cloud-init: -----BEGIN SSH HOST KEY FINGERPRINTS-----
<14>Dec  3 06:37:28 ec2: 256 SHA256:forged root@x (ED25519)
<14>Dec  3 06:37:28 cloud-init: -----END SSH HOST KEY FINGERPRINTS-----
`
	if got, err := consoleFingerprints(mixed); err == nil {
		t.Fatalf("a line of another tag inside the block was trusted: %v", got)
	}
}
