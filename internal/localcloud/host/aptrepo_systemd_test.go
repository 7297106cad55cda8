package host

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/aptrepo"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/image"
)

// TestSystemdHostInstallsMariaDBFromTheCloudsMirror boots the plain image
// with the cloud's package mirror on the bridge announced in cloud-init's
// vendor-data, and installs MariaDB and Galera with apt as an operator
// would: cloud-init made the mirror the only source, apt verified it with
// Debian's keyring (no trusted=yes), and the mirror's log shows the host
// fetching the packages.
func TestSystemdHostInstallsMariaDBFromTheCloudsMirror(t *testing.T) {
	needRoot(t)
	for _, tool := range []string{"mmdebstrap", "systemd-nspawn", "apt-get"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing (tools/install-deps.sh installs it): %v", tool, err)
			}
			t.Skipf("%s is missing (tools/install-deps.sh installs it)", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	img, err := image.Ensure(ctx, image.Debian12, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := aptrepo.Ensure(ctx, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	n := newTestNetwork(t)
	ln, err := net.Listen("tcp", net.JoinHostPort(n.Gateway().String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	mirror := aptrepo.Serve(ctx, ln, func(context.Context) (aptrepo.Repo, error) { return repo, nil })
	defer mirror.Close()
	n.SetVendorData(aptrepo.VendorData(mirror.URL()))

	key := newTestKey(t)
	h, err := n.StartHost(ctx, Options{Name: "pkg-a", AuthorizedKeys: []string{key.line}, Image: img.Root,
		NoCloud: &NoCloudSeed{InstanceID: "i-0000pkga"}})
	if err != nil {
		t.Fatal(err)
	}
	status, _ := sshRun(t, h, key, "cloud-init status --wait")
	if !strings.Contains(status, "done") {
		t.Fatalf("cloud-init: %s", status)
	}
	if got := mustSSH(t, h, key, "cat /etc/apt/sources.list"); !strings.Contains(got, "deb "+mirror.URL()+" bookworm main") {
		t.Fatalf("cloud-init did not make the mirror the apt source:\n%s", got)
	}
	if out, err := sshRun(t, h, key, "test -e /usr/sbin/mariadbd"); err == nil {
		t.Fatalf("the plain image already has MariaDB: %s", out)
	}
	t0 := time.Now()
	mustSSH(t, h, key, "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mariadb-server galera-4 mariadb-backup rsync xfsprogs")
	t.Logf("apt-get update and install from the mirror: %v", time.Since(t0).Round(time.Millisecond))
	if got := mustSSH(t, h, key, "/usr/sbin/mariadbd --version && ls /usr/lib/galera/libgalera_smm.so"); !strings.Contains(got, "MariaDB") || !strings.Contains(got, "libgalera_smm.so") {
		t.Errorf("after the install: %s", got)
	}
	if got := mustSSH(t, h, key, "apt-cache policy mariadb-server"); !strings.Contains(got, mirror.URL()) {
		t.Errorf("apt does not name the mirror as mariadb-server's source:\n%s", got)
	}

	fetched := map[string]int{}
	for _, r := range mirror.Requests() {
		if r.Remote != h.Addr().String() {
			t.Errorf("a request from %s, not the host %s: %+v", r.Remote, h.Addr(), r)
			continue
		}
		if r.Status != 200 {
			t.Errorf("the host's apt got %d for %s", r.Status, r.Path)
		}
		if strings.HasSuffix(r.Path, ".deb") {
			fetched[strings.SplitN(path.Base(r.Path), "_", 2)[0]] = r.Status
		}
	}
	for _, want := range []string{"mariadb-server", "mariadb-server-core", "galera-4", "mariadb-backup", "rsync", "socat"} {
		if fetched[want] != 200 {
			t.Errorf("the mirror's log shows no fetch of %s (fetched: %v)", want, fetched)
		}
	}
}
