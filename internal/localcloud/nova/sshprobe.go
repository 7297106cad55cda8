package nova

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// errKeyAccepted is what the probe signer returns once sshd has said it
// would accept the key: the handshake stops there, without a private key.
var errKeyAccepted = errors.New("localcloud: sshd accepts the key")

// probeSigner holds only a public key. SSH public-key auth first asks the
// server whether a key is acceptable (no signature needed); only then does
// the client sign. Failing the signature tells us the answer was yes.
type probeSigner struct{ pub ssh.PublicKey }

func (p probeSigner) PublicKey() ssh.PublicKey { return p.pub }

func (p probeSigner) Sign(io.Reader, []byte) (*ssh.Signature, error) { return nil, errKeyAccepted }

func (p probeSigner) SignWithAlgorithm(io.Reader, []byte, string) (*ssh.Signature, error) {
	return nil, errKeyAccepted
}

// Algorithms offers SHA-2 signatures for RSA keys (OpenSSH refuses ssh-rsa).
func (p probeSigner) Algorithms() []string {
	if p.pub.Type() == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	}
	return []string{p.pub.Type()}
}

// ProbeSSHKey checks that sshd at addr presents hostKey and would let root
// in with authorized (an authorized_keys line), without the private key.
func ProbeSSHKey(ctx context.Context, addr string, hostKey ssh.PublicKey, authorized string) error {
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(authorized))
	if err != nil {
		return fmt.Errorf("parse keypair: %w", err)
	}
	signer, err := ssh.NewSignerWithAlgorithms(probeSigner{pub}, probeSigner{pub}.Algorithms())
	if err != nil {
		return fmt.Errorf("probe signer: %w", err)
	}
	cfg := &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(hostKey),
		Timeout:         5 * time.Second,
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connect to sshd at %s: %w", addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err == nil {
		// Cannot happen without a signature, but do not leak the connection.
		go ssh.DiscardRequests(reqs)
		go func() {
			for ch := range chans {
				_ = ch.Reject(ssh.Prohibited, "probe")
			}
		}()
		_ = c.Close()
		return nil
	}
	if errors.Is(err, errKeyAccepted) || strings.Contains(err.Error(), errKeyAccepted.Error()) {
		return nil
	}
	return fmt.Errorf("sshd at %s does not accept the keypair's key: %w", addr, err)
}
