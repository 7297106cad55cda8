package provider

import (
	"fmt"
	"net"
	"strings"

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

func (n *accGuestShell) close() {
	if n.client != nil {
		n.client.Close()
		n.client = nil
	}
}

// run runs cmd on the node and returns its trimmed output.
func (n *accGuestShell) run(cmd string) (string, error) {
	if n.client == nil {
		c, err := ssh.Dial("tcp", net.JoinHostPort(n.ip, "22"), n.config)
		if err != nil {
			return "", fmt.Errorf("ssh to %s: %w", n.name, err)
		}
		n.client = c
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
