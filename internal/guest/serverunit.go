package guest

import (
	"context"
	"fmt"
	"strings"
)

// On systemd guests the database server runs as its distribution's unit
// (mariadb, or mysql for Percona), enabled once the node is configured: a
// rebooted server starts it at boot and rejoins the cluster by IST with no
// help from the provider, as an operator's nodes do. The unit's own
// Restart= policy (Debian's mariadb: on-abort) decides what follows a
// crash. With a data volume the unit also waits for the datadir's mount,
// so a server never starts on the empty directory under it.

// serverUnitDropIn is the drop-in that orders the server after the data
// volume's mount.
func serverUnitDropIn(unit string) string {
	return "/etc/systemd/system/" + unit + ".service.d/pxc-datadir.conf"
}

// enableServerUnit enables the server's unit (systemd guests only).
func (c *Cluster) enableServerUnit(ctx context.Context, n *node) error {
	if n.init != InitSystemd {
		return nil
	}
	unit := c.layout.SystemdUnit
	reload := ""
	if !n.DataVolume.isZero() {
		reload = "systemctl daemon-reload && "
		dropIn := "# written by terraform-provider-pxc: the datadir is the data volume's mount\n[Unit]\nRequiresMountsFor=" + dataDir + "\n"
		if _, err := n.run(ctx, "mkdir -p /etc/systemd/system/"+unit+".service.d", nil); err != nil {
			return fmt.Errorf("enable %s: %w", unit, err)
		}
		if err := n.upload(ctx, serverUnitDropIn(unit), []byte(dropIn), 0o644); err != nil {
			return fmt.Errorf("enable %s: %w", unit, err)
		}
	}
	if _, err := n.run(ctx, reload+enableUnit(unit), nil); err != nil {
		return fmt.Errorf("enable %s: %w", unit, err)
	}
	return nil
}

// enableUnit is the command that enables a unit for the next boot. It
// leaves out two things systemctl enable does by default that cost a
// second on a loaded guest and serve nothing here: the reload of the
// manager (--no-reload; whoever changed a unit file reloads once, before
// starting it) and, on Debian, the update of the unit's SysV init script's
// rc links (SYSTEMCTL_SKIP_SYSV: a systemd boot ignores an init script
// that has a native unit).
func enableUnit(units ...string) string {
	return "SYSTEMCTL_SKIP_SYSV=1 systemctl enable --quiet --no-reload " + strings.Join(units, " ")
}
