package guest

import (
	"context"
	"fmt"
	"path"
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

// writeServerUnit installs the server unit's drop-ins (systemd guests
// only); true when one is new and the manager must reload before the
// server's next start. Prepare runs it beside the datadir's
// initialisation, which the drop-ins do not need.
func (c *Cluster) writeServerUnit(ctx context.Context, n *node) (reload bool, err error) {
	if n.init != InitSystemd {
		return false, nil
	}
	unit := c.layout.SystemdUnit
	reload, err = c.installFreshStart(ctx, n)
	if err != nil {
		return false, fmt.Errorf("%s unit: %w", unit, err)
	}
	if !n.DataVolume.isZero() {
		dropIn := "# written by terraform-provider-pxc: the datadir is the data volume's mount\n[Unit]\nRequiresMountsFor=" + dataDir + "\n"
		if _, err := n.run(ctx, "mkdir -p /etc/systemd/system/"+unit+".service.d", nil); err != nil {
			return false, fmt.Errorf("%s unit: %w", unit, err)
		}
		if err := n.upload(ctx, serverUnitDropIn(unit), []byte(dropIn), 0o644); err != nil {
			return false, fmt.Errorf("%s unit: %w", unit, err)
		}
		reload = true
	}
	return reload, nil
}

// enableServerUnit enables the server's unit (systemd guests only), once
// the node is configured and writeServerUnit reloaded the manager.
func (c *Cluster) enableServerUnit(ctx context.Context, n *node) error {
	if n.init != InitSystemd {
		return nil
	}
	if _, err := n.run(ctx, enableUnit(c.layout.SystemdUnit), nil); err != nil {
		return fmt.Errorf("enable %s: %w", c.layout.SystemdUnit, err)
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

// freshStartDropIn is the runtime drop-in (under /run: a reboot forgets
// it, and the distribution's unit applies as shipped) that lets MariaDB's
// unit skip its --wsrep-recover pass where there is nothing to recover.
const freshStartDropIn = "/run/systemd/system/mariadb.service.d/pxc-fresh-start.conf"

// freshStartScript installs freshStartDropIn when the unit is one of the
// two forms Debian's MariaDB has shipped, both of which run galera_recovery
// (a whole server start and stop: half a second on an empty datadir)
// before every start:
//   - up to 10.11.18, an ExecStartPre runs it and hands the position to
//     ExecStart in /run/mysqld/wsrep-start-position (freshStartPreUnit);
//   - from 10.11.19 (bookworm-security), ExecStart runs it in the shell
//     that then execs the server (freshStartExecUnit).
//
// Either drop-in does what the unit does, except on a datadir Galera never
// ran on (no grastate.dat) and that is no restored backup
// (restoredMarker): there the position is empty, as the pass would find.
// This is the rule the init-less start follows (startCommand); it holds
// for every start, so the drop-in stays until the next boot. A unit of
// neither form keeps its pass: the drop-in replaces the command it
// recognised, and only that one. It prints "installed" when it did.
func freshStartScript() string {
	return `set -e
unit=/usr/lib/systemd/system/mariadb.service
[ -e "$unit" ] || unit=/lib/systemd/system/mariadb.service
grep -qs /usr/bin/galera_recovery "$unit" || exit 0
mkdir -p ` + path.Dir(freshStartDropIn) + `
if grep -qs ` + runDir + `/wsrep-start-position "$unit"; then
  cat >` + freshStartDropIn + `.tmp <<'EOF'
` + freshStartPreUnit() + `EOF
elif grep -qsF '` + debianInlineExec + `' "$unit"; then
  cat >` + freshStartDropIn + `.tmp <<'EOF'
` + freshStartExecUnit() + `EOF
else
  exit 0
fi
mv ` + freshStartDropIn + `.tmp ` + freshStartDropIn + `
echo installed`
}

// debianInlineExec is how the ExecStart of Debian's unit from 10.11.19
// ends: the shell that ran galera_recovery execs the server with the
// position it found ($VAR).
const debianInlineExec = `exec /usr/sbin/mariadbd $MYSQLD_OPTS $_WSREP_NEW_CLUSTER $VAR"`

// freshStartHeader heads either drop-in.
const freshStartHeader = `# written by terraform-provider-pxc: no --wsrep-recover pass on a datadir
# Galera never ran on (no grastate.dat, no restored backup)
[Service]
`

// freshStartPreUnit is freshStartDropIn for the unit whose ExecStartPre
// writes the position file. systemd reads "$$" as a literal "$".
func freshStartPreUnit() string {
	return freshStartHeader + `ExecStartPre=
ExecStartPre=/bin/sh -c "if ` + recoverablePosition + `; then VAR=$$(/usr/bin/galera_recovery) || exit 1; else VAR=; fi; echo _WSREP_START_POSITION=$$VAR > ` + runDir + `/wsrep-start-position"
`
}

// freshStartExecUnit is freshStartDropIn for the unit whose ExecStart
// runs the pass itself: the same command, the pass made conditional.
func freshStartExecUnit() string {
	return freshStartHeader + `ExecStart=
ExecStart=/bin/sh -c "set -f; if ` + recoverablePosition + `; then VAR=$$(/usr/bin/galera_recovery) || exit 1; else VAR=; fi; exec /usr/sbin/mariadbd $$MYSQLD_OPTS $$_WSREP_NEW_CLUSTER $$VAR"
`
}

// installFreshStart installs freshStartDropIn on a MariaDB systemd guest;
// true when it did (the manager must reload before the next start).
func (c *Cluster) installFreshStart(ctx context.Context, n *node) (bool, error) {
	if c.spec.Flavour != MariaDB {
		return false, nil
	}
	out, err := n.run(ctx, freshStartScript(), nil)
	if err != nil {
		return false, fmt.Errorf("unit drop-in for a fresh datadir's start: %w", err)
	}
	return strings.Contains(out, "installed"), nil
}
