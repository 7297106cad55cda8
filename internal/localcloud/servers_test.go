package localcloud

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/glance"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/nova"
)

// fixture is what most server tests need: a keypair and a security group
// that lets the machine (the gateway) reach SSH.
type fixture struct {
	signer  ssh.Signer
	keyName string
	sgID    string
	sgName  string
}

func (tc *testCloud) fixture(ctx context.Context) fixture {
	tc.t.Helper()
	signer, pub := newKey(tc.t)
	kp, err := keypairs.Create(ctx, tc.compute, keypairs.CreateOpts{Name: "lc-key", PublicKey: pub}).Extract()
	if err != nil {
		tc.t.Fatalf("import keypair: %v", err)
	}
	sg, err := groups.Create(ctx, tc.network, groups.CreateOpts{Name: "lc-ssh", Description: "ssh from the machine"}).Extract()
	if err != nil {
		tc.t.Fatalf("create security group: %v", err)
	}
	_, err = rules.Create(ctx, tc.network, rules.CreateOpts{SecGroupID: sg.ID, Direction: rules.DirIngress,
		EtherType: rules.EtherType4, Protocol: rules.ProtocolTCP, PortRangeMin: 22, PortRangeMax: 22,
		RemoteIPPrefix: tc.Network().Gateway().String() + "/32"}).Extract()
	if err != nil {
		tc.t.Fatalf("create ssh rule: %v", err)
	}
	return fixture{signer: signer, keyName: kp.Name, sgID: sg.ID, sgName: sg.Name}
}

func (tc *testCloud) createServer(ctx context.Context, fx fixture, name string, mod func(*servers.CreateOpts)) string {
	tc.t.Helper()
	opts := servers.CreateOpts{Name: name, FlavorRef: "2", ImageRef: glance.TheImage().ID,
		Networks: []servers.Network{{UUID: tc.NetworkID()}}, SecurityGroups: []string{fx.sgName}}
	if mod != nil {
		mod(&opts)
	}
	s, err := servers.Create(ctx, tc.compute, keypairs.CreateOptsExt{CreateOptsBuilder: opts, KeyName: fx.keyName}, nil).Extract()
	if err != nil {
		tc.t.Fatalf("create server %s: %v", name, err)
	}
	return s.ID
}

func serverAddr(t *testing.T, s *servers.Server) string {
	t.Helper()
	for _, list := range s.Addresses {
		for _, a := range list.([]any) {
			return a.(map[string]any)["addr"].(string)
		}
	}
	t.Fatalf("server %s has no address", s.ID)
	return ""
}

// hostKeyFromConsole parses the fingerprint block of cloud-init's output.
func hostKeyFromConsole(out string) (fingerprint string, ok bool) {
	in := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.Contains(line, "-----BEGIN SSH HOST KEY FINGERPRINTS-----"):
			in = true
		case strings.Contains(line, "-----END SSH HOST KEY FINGERPRINTS-----"):
			in = false
		case in:
			for _, f := range strings.Fields(line) {
				if strings.HasPrefix(f, "SHA256:") {
					fingerprint = f
					ok = true
				}
			}
		}
	}
	return fingerprint, ok
}

func TestServerLifecycle(t *testing.T) {
	tc := startCloud(t, nil)
	ctx := context.Background()
	fx := tc.fixture(ctx)

	id := tc.createServer(ctx, fx, "db-1", func(o *servers.CreateOpts) { o.Metadata = map[string]string{"role": "galera"} })
	// The create answer has no status; the first GET says BUILD.
	s, err := servers.Get(ctx, tc.compute, id).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != "BUILD" {
		t.Errorf("status right after create = %s, want BUILD", s.Status)
	}
	s = tc.waitServer(id, "ACTIVE")
	addr := serverAddr(t, s)
	if s.Metadata["role"] != "galera" {
		t.Errorf("metadata = %v", s.Metadata)
	}

	// The console shows the host key's fingerprint (cloud-init prints it
	// late in the boot, maybe after ACTIVE); SSH with that key pinned.
	out := tc.waitConsole(id, "-----END SSH HOST KEY FINGERPRINTS-----")
	fp, ok := hostKeyFromConsole(out)
	if !ok {
		t.Fatalf("console output has no host key fingerprint:\n%s", out)
	}
	var seen ssh.PublicKey
	cfg := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(fx.signer)}, Timeout: 5 * time.Second,
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error { seen = key; return nil }}
	client, err := ssh.Dial("tcp", addr+":22", cfg)
	if err != nil {
		t.Fatalf("ssh to %s with the keypair: %v", addr, err)
	}
	client.Close()
	if got := ssh.FingerprintSHA256(seen); got != fp {
		t.Errorf("host key fingerprint %s, console says %s", got, fp)
	}
	hostname, err := sshRun(t, addr, fx.signer, seen, "hostname")
	if err != nil || strings.TrimSpace(hostname) != "db-1" {
		t.Errorf("hostname = %q, %v", hostname, err)
	}
	// The cloud's own probe (public-key query, no private key) agrees.
	pub := string(ssh.MarshalAuthorizedKey(fx.signer.PublicKey()))
	if err := nova.ProbeSSHKey(ctx, addr+":22", seen, pub); err != nil {
		t.Errorf("probe with the keypair's key: %v", err)
	}
	_, otherPub := newKey(t)
	if err := nova.ProbeSSHKey(ctx, addr+":22", seen, otherPub); err == nil {
		t.Errorf("probe accepted a key that is not authorised")
	}
	if err := nova.ProbeSSHKey(ctx, addr+":22", fx.signer.PublicKey(), pub); err == nil {
		t.Errorf("probe accepted a wrong host key")
	}
	// Another key is refused.
	other, _ := newKey(t)
	if _, err := sshRun(t, addr, other, seen, "true"); err == nil {
		t.Errorf("ssh with a key that is not the keypair's succeeded")
	}

	// Wrong-state actions are refused with 409.
	err = servers.Start(ctx, tc.compute, id).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, 409) {
		t.Errorf("os-start on ACTIVE: %v, want 409", err)
	}
	// SOFT reboot: the marker process is stopped cleanly and the host comes back.
	if _, err := sshRun(t, addr, fx.signer, seen, "nohup sleep 1000 >/dev/null 2>&1 &"); err != nil {
		t.Fatal(err)
	}
	if err := servers.Reboot(ctx, tc.compute, id, servers.RebootOpts{Type: servers.SoftReboot}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	tc.waitServer(id, "ACTIVE")
	if out, err := sshRun(t, addr, fx.signer, seen, "pgrep -c sleep || true"); err != nil || strings.TrimSpace(out) != "0" {
		t.Errorf("after reboot: sleep processes %q, %v", out, err)
	}
	if err := servers.Reboot(ctx, tc.compute, id, servers.RebootOpts{Type: servers.HardReboot}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	tc.waitServer(id, "ACTIVE")

	// Stop / start.
	if err := servers.Stop(ctx, tc.compute, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	tc.waitServer(id, "SHUTOFF")
	if _, err := sshRun(t, addr, fx.signer, seen, "true"); err == nil {
		t.Errorf("ssh to a SHUTOFF server succeeded")
	}
	if err := servers.Start(ctx, tc.compute, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	tc.waitServer(id, "ACTIVE")

	// Resize: VERIFY_RESIZE with the new flavor, then confirm.
	err = servers.ConfirmResize(ctx, tc.compute, id).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, 409) {
		t.Errorf("confirmResize on ACTIVE: %v, want 409", err)
	}
	if err := servers.Resize(ctx, tc.compute, id, servers.ResizeOpts{FlavorRef: "3"}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	tc.waitServer(id, "VERIFY_RESIZE")
	if err := servers.ConfirmResize(ctx, tc.compute, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	s = tc.waitServer(id, "ACTIVE")
	if s.Flavor["id"] != "3" {
		t.Errorf("flavor after resize = %v", s.Flavor)
	}
	if _, err := sshRun(t, addr, fx.signer, seen, "true"); err != nil {
		t.Errorf("ssh after resize: %v", err)
	}

	// Partition (link down) and heal through the admin API.
	tc.admin("POST", "/servers/"+id+"/partition", nil)
	if conn, err := net.DialTimeout("tcp", addr+":22", time.Second); err == nil {
		conn.Close()
		t.Errorf("port 22 of a partitioned server answers")
	}
	tc.admin("POST", "/servers/"+id+"/heal", nil)
	if _, err := sshRun(t, addr, fx.signer, seen, "true"); err != nil {
		t.Errorf("ssh after heal: %v", err)
	}

	// Delete: 204, then 404; the port nova made is gone too.
	if err := servers.Delete(ctx, tc.compute, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, "server", func() error { _, err := servers.Get(ctx, tc.compute, id).Extract(); return err })
	pages, err := ports.List(tc.network, ports.ListOpts{DeviceID: id}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ps, _ := ports.ExtractPorts(pages); len(ps) != 0 {
		t.Errorf("ports left after delete: %d", len(ps))
	}
	err = servers.Delete(ctx, tc.compute, id).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("second delete: %v, want 404", err)
	}
	if err := keypairs.Delete(ctx, tc.compute, fx.keyName, nil).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := groups.Delete(ctx, tc.network, fx.sgID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	tc.assertEmpty()
}

// TestStateDirUnderTmp: hosts mount their own /tmp, so a state dir under
// /tmp must still give working servers.
func TestStateDirUnderTmp(t *testing.T) {
	tc := startCloud(t, func(c *Config) { c.StateDir = t.TempDir() })
	ctx := context.Background()
	fx := tc.fixture(ctx)
	id := tc.createServer(ctx, fx, "in-tmp", nil)
	addr := serverAddr(t, tc.waitServer(id, "ACTIVE"))
	if out, err := sshRun(t, addr, fx.signer, nil, "hostname"); err != nil || strings.TrimSpace(out) != "in-tmp" {
		t.Errorf("ssh: %q %v", out, err)
	}
	if err := servers.Delete(ctx, tc.compute, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, "server", func() error { _, err := servers.Get(ctx, tc.compute, id).Extract(); return err })
}

// The hide-fingerprints fault boots matching servers without the host key
// blocks on the console (cloud-init's ssh.emit_keys_to_console: false);
// other servers keep them.
func TestConsoleWithoutFingerprints(t *testing.T) {
	tc := startCloud(t, nil)
	ctx := context.Background()
	fx := tc.fixture(ctx)
	tc.admin(http.MethodPost, "/console/hide-fingerprints", map[string]any{"name_prefix": "quiet-"})
	quiet := tc.createServer(ctx, fx, "quiet-1", nil)
	loud := tc.createServer(ctx, fx, "loud-1", nil)
	for id, wantKeys := range map[string]bool{quiet: false, loud: true} {
		tc.waitServer(id, "ACTIVE")
		// cloud-init's last line: the fingerprints come before it, if at all.
		out := tc.waitConsole(id, "Cloud-init v. 22.4.2 finished")
		_, ok := hostKeyFromConsole(out)
		if ok != wantKeys || strings.Contains(out, "SSH HOST KEY KEYS") != wantKeys {
			t.Errorf("server %s: fingerprints on the console = %v, want %v:\n%s", id, ok, wantKeys, out)
		}
	}
}
