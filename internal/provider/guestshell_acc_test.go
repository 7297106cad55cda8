package provider

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// accGuestShell runs commands on one node of a test's cluster over SSH
// (the cluster's key, the host keys the test verified), dialing again
// after the node rebooted.
type accGuestShell struct {
	name, ip string
	config   *ssh.ClientConfig
	client   *ssh.Client
}

// trust sets the shell's login: root with privateKey (the cluster's
// generated_private_key), accepting only the host keys of the SHA256
// fingerprints given (those the server's console names).
func (n *accGuestShell) trust(privateKey string, fingerprints []string) error {
	signer, err := ssh.ParsePrivateKey([]byte(privateKey))
	if err != nil {
		return fmt.Errorf("generated_private_key: %w", err)
	}
	name := n.name
	n.config = &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, Timeout: 10 * time.Second,
		HostKeyCallback: func(_ string, _ net.Addr, k ssh.PublicKey) error {
			if slices.Contains(fingerprints, ssh.FingerprintSHA256(k)) {
				return nil
			}
			return fmt.Errorf("host key %s of %s is not on its console (%v)", ssh.FingerprintSHA256(k), name, fingerprints)
		}}
	return nil
}

var hostKeyFingerprint = regexp.MustCompile(`SHA256:[A-Za-z0-9+/=]+`)

// consoleHostKeys are the SHA256 fingerprints in cloud-init's host key
// block on the console of the server name.
func consoleHostKeys(name, console string) ([]string, error) {
	b, e := strings.Index(console, "-----BEGIN SSH HOST KEY FINGERPRINTS-----"), strings.Index(console, "-----END SSH HOST KEY FINGERPRINTS-----")
	if b < 0 || e < b {
		return nil, fmt.Errorf("console of %s has no host key fingerprints", name)
	}
	fps := hostKeyFingerprint.FindAllString(console[b:e], -1)
	if len(fps) == 0 {
		return nil, fmt.Errorf("console of %s: cloud-init's fingerprint block names no key", name)
	}
	return fps, nil
}

func (n *accGuestShell) close() {
	if n.client != nil {
		n.client.Close()
		n.client = nil
	}
}

// connect dials the node unless the shell is connected.
func (n *accGuestShell) connect() error {
	if n.client != nil {
		return nil
	}
	c, err := ssh.Dial("tcp", net.JoinHostPort(n.ip, "22"), n.config)
	if err != nil {
		return fmt.Errorf("ssh to %s: %w", n.name, err)
	}
	n.client = c
	return nil
}

// run runs cmd on the node and returns its trimmed output.
func (n *accGuestShell) run(cmd string) (string, error) {
	if err := n.connect(); err != nil {
		return "", err
	}
	sess, err := n.client.NewSession()
	if err != nil {
		n.close()
		return "", fmt.Errorf("ssh session on %s: %w", n.name, err)
	}
	defer sess.Close()
	out, err := sess.CombinedOutput(cmd)
	if err != nil {
		return string(out), fmt.Errorf("%s on %s: %w: %s", cmd, n.name, err, out)
	}
	return strings.TrimSpace(string(out)), nil
}
