package cluster

import (
	"bufio"
	"errors"
	"regexp"
	"slices"
	"strings"
)

// cloud-init prints a server's host key fingerprints on its console between
// these lines; reading them over the Nova API is the only trust path to a new
// server that does not depend on the network we are about to trust.
const (
	fingerprintsBegin = "-----BEGIN SSH HOST KEY FINGERPRINTS-----"
	fingerprintsEnd   = "-----END SSH HOST KEY FINGERPRINTS-----"
)

// errNoFingerprints means the console does not (yet) show the block.
var errNoFingerprints = errors.New("no SSH host key fingerprints on the console yet")

// consolePrefix is what may precede a marker or fingerprint line: nothing,
// or the syslog header cloud-init's fingerprint script writes through
// `logger -s` ("<14>Nov 22 20:00:01 ec2: "; newer images tag it cloud-init).
var consolePrefix = regexp.MustCompile(`^(?:<[0-9]{1,3}>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} (?:ec2|cloud-init): )?`)

// consoleTime is the time in a syslog header: one block's lines may carry
// different seconds, so lines are matched by their header without it.
var consoleTime = regexp.MustCompile(`[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} `)

// fingerprintLine is one key of a block: "256 SHA256:... root@host (ED25519)".
var fingerprintLine = regexp.MustCompile(`^[0-9]{3,5} (SHA256:[^ ]{1,100}) .*\([A-Z0-9-]+\)$`)

// consoleNoise is a whole line another writer of the console may put
// between a block's lines while the guest boots: systemd's status lines
// ("[  OK  ] Finished ...", "         Starting ...") of units that run
// beside cloud-init's final stage, and kernel messages ("[   12.345] ...").
// They are skipped; they can add no key to a block.
var consoleNoise = regexp.MustCompile(`^(?:\[[ A-Z*]{6,8}\] |\[ *[0-9]+\.[0-9]+\] | {9}[A-Z])`)

// errFingerprintsDisagree means the console shows blocks with different
// keys: something other than cloud-init printed one, so none is trusted.
var errFingerprintsDisagree = errors.New("the console shows SSH host key fingerprint blocks that disagree; refusing to trust any of them")

// consoleFingerprints returns the SHA256 fingerprints ("SHA256:...") of the
// console output's fingerprint blocks. A marker counts only as a whole line
// (after the syslog header cloud-init may add), so text a user or process
// writes into the middle of a console line cannot open or close a block. A
// server that rebooted prints the block again; every complete block must
// name the same keys, or the console is not trusted at all.
func consoleFingerprints(console string) ([]string, error) {
	var (
		current []string
		blocks  [][]string
		inBlock bool
		prefix  string
	)
	sc := bufio.NewScanner(strings.NewReader(console))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t\r")
		header := consolePrefix.FindString(line)
		body := line[len(header):]
		pfx := consoleTime.ReplaceAllString(header, "")
		switch {
		case body == fingerprintsBegin:
			inBlock, current, prefix = true, nil, pfx
		case body == fingerprintsEnd:
			if inBlock && pfx == prefix && len(current) > 0 {
				blocks = append(blocks, current)
			}
			inBlock = false
		case inBlock && pfx == "" && consoleNoise.MatchString(line):
			// another writer's line in the middle of the block
		case inBlock:
			m := fingerprintLine.FindStringSubmatch(body)
			if pfx != prefix || m == nil {
				// Not cloud-init's line: the block is not trustworthy.
				inBlock = false
				continue
			}
			current = append(current, m[1])
		}
	}
	if len(blocks) == 0 {
		return nil, errNoFingerprints
	}
	want := sortedCopy(blocks[0])
	for _, b := range blocks[1:] {
		if !slices.Equal(want, sortedCopy(b)) {
			return nil, errFingerprintsDisagree
		}
	}
	return blocks[len(blocks)-1], nil
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// earlyFingerprintsUserData is the cloud-config a server boots with when
// its host key is verified from the console. cloud-init prints the
// fingerprints in its final stage, after sshd is up and after any package
// and user scripts (seconds here, often tens of seconds on real clouds);
// every create, grow and repair waited for it. Its first stage's bootcmd
// runs before sshd starts: there, once per instance (cloud-init-per, so a
// rebuilt root or a snapshot's clone gets a key of its own), the server
// makes its ed25519 host key, and on every boot it prints the block, which
// is on the console before sshd answers. The key never leaves the server,
// as with cloud-init's own keys. cloud-init is told to delete no key and
// make only an ed25519 one, which it skips as it exists, so the block it
// prints later names the same key (a console whose blocks disagree is not
// trusted).
const earlyFingerprintsUserData = `#cloud-config
# terraform-provider-pxc: the SSH host key and its fingerprints on the
# console before sshd starts, so the key is verified as soon as it answers.
ssh_deletekeys: false
ssh_genkeytypes: [ed25519]
bootcmd:
  - [cloud-init-per, instance, pxc-ssh-host-key, sh, -c, "rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub && ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key"]
  - [sh, -c, "fps=$(for k in /etc/ssh/ssh_host_*_key.pub; do ssh-keygen -l -f \"$k\"; done) && printf '%s\\n%s\\n%s\\n' '` + fingerprintsBegin + `' \"$fps\" '` + fingerprintsEnd + `' > /dev/console"]
`

// bootUserData is what a server boots with: the early fingerprints when
// its host key is read from the console; nothing otherwise (a known_hosts
// file names keys the image brings, which must stay).
func bootUserData(spec Spec) []byte {
	if spec.SSH.HostKeyCheck != HostKeyConsole {
		return nil
	}
	return []byte(earlyFingerprintsUserData)
}
