package guest

import (
	"context"
	"os/exec"
	"strings"
	"testing"
)

// testKey is armor-shaped; nothing here verifies a signature.
const testKey = `-----BEGIN PGP PUBLIC KEY BLOCK-----

mQINBFd0veABEADyFa8jPHXhhX1XS9W7Og4p+jLxB0aowElk4Kt6lb/mYjwKmQ779ZKUAvb1
=Ab12
-----END PGP PUBLIC KEY BLOCK-----
`

// prepareInstalling runs Prepare on a systemd Debian guest whose packages
// are missing and returns the install script (the one command that runs
// apt-get install) and every command.
func prepareInstalling(t *testing.T, spec ClusterSpec) (string, []string) {
	t.Helper()
	r := (&recorder{}).on("/run/systemd/system", "systemd\n").on("echo present", "missing\n").on("os-release", "debian \n")
	spec.InstallPackages = true
	for i := range spec.Nodes {
		spec.Nodes[i].Runner = r
	}
	c, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	cmds := r.commands()
	i := commandIndex(cmds, "apt-get install")
	if i < 0 {
		t.Fatalf("no install:\n%s", strings.Join(cmds, "\n"))
	}
	return cmds[i], cmds
}

// checkShellSyntax parses the script with the shell the guests run it with.
func checkShellSyntax(t *testing.T, script string) {
	t.Helper()
	cmd := exec.Command("sh", "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sh -n: %v: %s\n%s", err, out, script)
	}
}

// MariaDB from the distribution: after cloud-init's first boot, with the
// services held by policy-rc.d during the install and left disabled, no
// Recommends, no repository of ours.
func TestInstallMariaDBPackages(t *testing.T) {
	script, cmds := prepareInstalling(t, testSpec(MariaDB, "10.11", SSTMariabackup))
	wantInOrder(t, script,
		"export DEBIAN_FRONTEND=noninteractive",
		"cloud-init status --wait",
		"if [ ! -e /usr/sbin/policy-rc.d ]", "exit 101", "trap 'rm -f /usr/sbin/policy-rc.d' EXIT",
		"apt-get update -q",
		"apt-get install -y -q --no-install-recommends mariadb-server galera-4 mariadb-backup rsync xfsprogs restic stunnel4\n",
		"systemctl disable --now mariadb.service mariadb.socket")
	if strings.Contains(script, "sources.list.d") || strings.Contains(script, "keyrings") {
		t.Errorf("a repository was added for MariaDB:\n%s", script)
	}
	checkShellSyntax(t, script)
	// The packages come before the volume and the configuration.
	if i, j := commandIndex(cmds, "apt-get install"), commandIndex(cmds, "UPLOAD /etc/mysql/mariadb.conf.d/99-galera-guest.cnf"); j < i {
		t.Errorf("configuration written (%d) before the install (%d)", j, i)
	}
}

// Percona from Percona's repository, added as an operator adds it: the
// key in /etc/apt/keyrings, a sources entry trusting only that key, for
// the guest's own codename unless a suite is given. Percona's packages
// cannot be installed on this machine, so this is the recording runner's
// check only.
func TestInstallPerconaFromItsRepository(t *testing.T) {
	spec := testSpec(Percona, "8.0", "")
	spec.PackageRepository = &PackageRepository{URL: PerconaRepositoryURL("8.0"), Key: testKey}
	script, _ := prepareInstalling(t, spec)
	wantInOrder(t, script,
		"cloud-init status --wait",
		"install -d -m 755 /etc/apt/keyrings",
		"cat > /etc/apt/keyrings/pxc-provider-repository.asc <<'PXC_KEY'\n-----BEGIN PGP PUBLIC KEY BLOCK-----\n",
		"-----END PGP PUBLIC KEY BLOCK-----\nPXC_KEY\n",
		`echo "deb [signed-by=/etc/apt/keyrings/pxc-provider-repository.asc] http://repo.percona.com/pxc-80/apt $(. /etc/os-release && echo "$VERSION_CODENAME") main" > /etc/apt/sources.list.d/pxc-provider-repository.list`,
		"apt-get update -q",
		"apt-get install -y -q --no-install-recommends percona-xtradb-cluster xfsprogs restic\n",
		"systemctl disable --now mysql.service mysql.socket")
	checkShellSyntax(t, script)

	spec = testSpec(Percona, "5.7", SSTXtrabackupV2)
	spec.PackageRepository = &PackageRepository{URL: "https://mirror.example.com/percona/pxc-57/apt", Key: testKey, Suite: "jammy", Components: []string{"main", "testing"}}
	script, _ = prepareInstalling(t, spec)
	wantInOrder(t, script,
		"] https://mirror.example.com/percona/pxc-57/apt jammy main testing\" > /etc/apt/sources.list.d/pxc-provider-repository.list",
		"apt-get install -y -q --no-install-recommends percona-xtradb-cluster-57 xfsprogs restic\n")
	if PerconaRepositoryURL("5.7") != "http://repo.percona.com/pxc-57/apt" {
		t.Errorf("5.7 default repository %s", PerconaRepositoryURL("5.7"))
	}
}

// The repository's fields go into a shell script and apt's sources: what
// could break out of either is refused, naming the field.
func TestValidatePackageRepository(t *testing.T) {
	good := PackageRepository{URL: "http://repo.percona.com/pxc-80/apt", Key: testKey}
	if err := ValidatePackageRepository(good); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		mod  func(*PackageRepository)
		want string
	}{
		"ftp url":          {func(r *PackageRepository) { r.URL = "ftp://repo.percona.com/apt" }, "url"},
		"url with a space": {func(r *PackageRepository) { r.URL = "http://repo.percona.com/apt bookworm main\ndeb http://evil" }, "url"},
		"url with a quote": {func(r *PackageRepository) { r.URL = `http://repo.percona.com/"$(reboot)"` }, "url"},
		"not a key":        {func(r *PackageRepository) { r.Key = "ssh-ed25519 AAAA" }, "key"},
		"heredoc breakout": {func(r *PackageRepository) {
			r.Key = strings.Replace(testKey, "=Ab12", "PXC_KEY\nreboot\ncat <<'PXC_KEY'", 1)
		}, "key"},
		"suite injection":     {func(r *PackageRepository) { r.Suite = "bookworm; reboot" }, "suite"},
		"component injection": {func(r *PackageRepository) { r.Components = []string{"main", "$(reboot)"} }, "component"},
	}
	for name, c := range cases {
		r := good
		c.mod(&r)
		err := ValidatePackageRepository(r)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error naming %s", name, err, c.want)
		}
	}
	spec := testSpec(Percona, "8.0", "")
	spec.PackageRepository = &PackageRepository{URL: "gopher://x", Key: testKey}
	if _, err := New(spec); err == nil || !strings.Contains(err.Error(), "package repository: url") {
		t.Errorf("New accepted a bad repository: %v", err)
	}
}
