package guest

import (
	"fmt"
	"strings"
)

// aptInstallScript installs pkgs on a Debian or Ubuntu guest the way an
// operator scripts it on a fresh cloud server:
//   - wait for cloud-init's first boot to end: it writes the apt sources
//     (a cloud's mirror through vendor-data) and holds apt's lock while it
//     works, and the library may reach the server over SSH before that;
//   - add repo (Percona's) with its signing key, when given;
//   - install non-interactively without Recommends (the packages' own
//     Depends are what the server needs; Recommends pull in extra plugins);
//   - keep the services from starting during installation (policy-rc.d)
//     and leave the units disabled, as on an image with the packages
//     preinstalled: the library configures Galera first, then bootstraps
//     or starts each node; a server starting unconfigured at install would
//     create a standalone node on the datadir the data volume is about to
//     be mounted over.
//
// units are the systemd units of those services (without ".service").
func aptInstallScript(pkgs, units []string, repo *PackageRepository) string {
	var b strings.Builder
	b.WriteString(`set -e
export DEBIAN_FRONTEND=noninteractive
if command -v cloud-init >/dev/null 2>&1; then cloud-init status --wait >/dev/null 2>&1 || true; fi
`)
	if repo != nil {
		b.WriteString(repo.script())
	}
	// An operator's own policy-rc.d is left alone (and in charge).
	b.WriteString(`if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\n# written by terraform-provider-pxc while it installs packages\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
`)
	fmt.Fprintf(&b, "(apt-get update -q || true) && apt-get install -y -q --no-install-recommends %s\n", strings.Join(pkgs, " "))
	if len(units) > 0 {
		var names []string
		for _, u := range units {
			names = append(names, u+".service", u+".socket")
		}
		fmt.Fprintf(&b, "if [ -d /run/systemd/system ]; then systemctl disable --now %s >/dev/null 2>&1 || true; fi\n", strings.Join(names, " "))
	}
	return b.String()
}
