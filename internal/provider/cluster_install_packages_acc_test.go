package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// install_packages on the plain image (issue 18): the servers boot
// debian-12 (systemd, OpenSSH, cloud-init, no database), the provider
// installs MariaDB and Galera with apt, and the cluster forms and passes
// the gate. The packages came from the local cloud's package mirror on the
// bridge, which cloud-init's vendor-data made the servers' apt source (they
// have no other route): its request log shows every node fetching them.
func TestAccClusterInstallPackages(t *testing.T) {
	t.Parallel()
	// The plain image boots only in systemd mode: the shared cloud when
	// it boots systemd, else a systemd cloud of the test's own.
	sc := systemdCloud(t)
	plain := sc.lc
	plain.image = "debian-12"
	name := "accpk-" + acctest.RandStringFromCharSet(5, "abcdefghijklmnopqrstuvwxyz")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             sc.lc.checkNothingLeftOf(t, name),
		Steps: []resource.TestStep{{
			Config: sc.providerBlock + plain.accClusterConfig(name, "  install_packages = true"),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("pxc_cluster.test", "status", "ACTIVE"),
				checkSQLOnEveryNode("pxc_cluster.test"),
				sc.checkPackagesFromTheMirror(t, name),
			),
		}},
	})
}

// checkPackagesFromTheMirror checks each node: MariaDB runs as its enabled
// unit under systemd, apt names the cloud's mirror as the installed
// packages' source, and the mirror's log shows the node fetching them.
func (sc sdCloud) checkPackagesFromTheMirror(t *testing.T, name string) resource.TestCheckFunc {
	lc := sc.lc
	return func(s *terraform.State) error {
		g, err := sc.systemdGuests(t, s, name)
		if err != nil {
			return err
		}
		var mirror struct {
			URL      string `json:"url"`
			Requests []struct {
				Remote string `json:"remote"`
				Path   string `json:"path"`
				Status int    `json:"status"`
			} `json:"requests"`
		}
		if err := json.Unmarshal(lc.admin(t, http.MethodGet, "/package-source", nil), &mirror); err != nil {
			return fmt.Errorf("read the package mirror's log: %w", err)
		}
		for _, n := range g.nodes {
			if err := n.checkSystemd(); err != nil {
				return err
			}
			policy, err := n.run("apt-cache policy mariadb-server galera-4")
			if err != nil {
				return err
			}
			if strings.Count(policy, mirror.URL+" bookworm/main") < 2 || strings.Contains(policy, "Installed: (none)") {
				return fmt.Errorf("%s: mariadb-server and galera-4 are not installed from the mirror %s:\n%s", n.name, mirror.URL, policy)
			}
			fetched := map[string]bool{}
			release := false
			for _, r := range mirror.Requests {
				if r.Remote != n.ip || r.Status != http.StatusOK {
					continue
				}
				if strings.HasSuffix(r.Path, "/dists/bookworm/InRelease") {
					release = true
				}
				if strings.HasSuffix(r.Path, ".deb") {
					fetched[strings.SplitN(path.Base(r.Path), "_", 2)[0]] = true
				}
			}
			for _, pkg := range []string{"mariadb-server", "mariadb-server-core", "galera-4", "mariadb-backup", "rsync", "restic"} {
				if !fetched[pkg] {
					return fmt.Errorf("%s (%s): the mirror's log shows no fetch of %s (InRelease fetched: %v; .debs: %v)", n.name, n.ip, pkg, release, fetched)
				}
			}
			if !release {
				return fmt.Errorf("%s: apt never fetched the mirror's InRelease", n.name)
			}
		}
		return nil
	}
}
