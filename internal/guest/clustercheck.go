package guest

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Clustercheck configures the HTTP health responder on every node (what a
// load balancer's HTTP check asks): 200 when the node may take traffic,
// 503 otherwise. It runs as `socat TCP-LISTEN:<port>,fork EXEC:<script>`
// (or a socket-activated systemd unit), independent of the database
// server, so it answers (503) while the server is down and keeps running
// across server restarts. It runs as the unprivileged mysql user, never
// root, with at most clustercheckMaxConnections requests at a time.
type Clustercheck struct {
	// Password of the 'clustercheck'@'localhost' account the script uses
	// (USAGE on MariaDB, PROCESS on Percona: enough to read wsrep status).
	Password string
	// Port defaults to 9200.
	Port int
	// AvailableWhenDonor also answers 200 for a donor that does not reject
	// queries (wsrep_sst_donor_rejects_queries=OFF).
	AvailableWhenDonor bool
}

const (
	clustercheckScript = "/etc/mysql/clustercheck.sh"
	clustercheckConfig = "/etc/mysql/clustercheck.cnf"
	clustercheckUser   = "clustercheck"
	// clustercheckRunAs runs the responder: it needs only to read its
	// option file and reach the server's socket.
	clustercheckRunAs = "mysql"
	// clustercheckMaxConnections bounds concurrent requests (each is a
	// bash and a SQL client): a flood cannot exhaust the node.
	clustercheckMaxConnections = 16
)

func (cc Clustercheck) port() int {
	if cc.Port == 0 {
		return 9200
	}
	return cc.Port
}

func (cc Clustercheck) validate() error {
	if cc.Password == "" || strings.ContainsAny(cc.Password, "\x00\n\r") {
		return fmt.Errorf("clustercheck: a password without NUL or newlines is required")
	}
	if cc.Port < 0 || cc.Port > 65535 {
		return fmt.Errorf("clustercheck: port %d is out of range", cc.Port)
	}
	return nil
}

// renderClustercheck returns the responder script for one node. Paths:
//
//	GET /        200 when this node is Primary, Synced (or an allowed donor),
//	             wsrep_ready=ON, not rejecting queries, not in maintenance.
//	GET /writer  200 only when this node is healthy and is the Writer
//	             (writer.go): one writer.
func renderClustercheck(s ClusterSpec, members []Node, self Node, cc Clustercheck) string {
	statusTable := "information_schema.GLOBAL_STATUS"
	maint := "'DISABLED'"
	if s.Flavour == Percona {
		statusTable = "performance_schema.global_status"
		maint = "@@pxc_maint_mode"
	}
	st := func(name string) string {
		return fmt.Sprintf("(SELECT VARIABLE_VALUE FROM %s WHERE VARIABLE_NAME='%s')", statusTable, name)
	}
	query := "SELECT " + strings.Join([]string{
		st("wsrep_cluster_status"), st("wsrep_local_state_comment"), st("wsrep_ready"),
		"IFNULL(" + st("wsrep_incoming_addresses") + ",'')", "@@wsrep_reject_queries",
		"@@wsrep_sst_donor_rejects_queries", maint,
	}, ", ")
	// Last, so an empty address cannot shift the fields before it (bash's
	// read joins adjacent tabs).
	writerQuery := query + ", IFNULL((SELECT address FROM " + writerTable + " WHERE id=1),'')"
	var order []string
	for _, m := range members {
		order = append(order, m.Address)
	}
	donorOK := "0"
	if cc.AvailableWhenDonor {
		donorOK = "1"
	}
	l := layoutFor(s)
	return fmt.Sprintf(`#!/bin/bash
# Galera clustercheck for node %[1]s, written by the pxc guest library.
# Run by socat, one request per process. 200 = take traffic, 503 = do not.
SELF=%[2]s
MEMBERS=%[3]s
DONOR_OK=%[4]s
read -r -t 5 method path _ || exit 0
while IFS= read -r -t 2 line; do line=${line%%$'\r'}; [ -z "$line" ] && break; done
path=${path%%%%\?*}
# One statement list per client run, bounded in time (a donor blocked by a
# backup lock must not hang the check).
sql() { timeout 5 %[5]s --defaults-extra-file=%[6]s %[10]s --connect-timeout=3 -N -B -e "SET SESSION wsrep_sync_wait=0; $1" 2>/dev/null | tail -n 1; }
# The writer check reads the recorded writer in the same client run: one
# process per check, as a loaded host has little time for it. A node that
# cannot read the table (non-Primary) still reports its state.
if [ "$path" = /writer ]; then
  row=$(sql %[11]s)
  [ -n "$row" ] || row=$(sql %[7]s)
else
  row=$(sql %[7]s)
fi
IFS=$'\t' read -r status state ready incoming reject donor_rejects maint recorded <<<"$row"
ok=0
if [ "$status" = Primary ] && [ "$ready" = ON ] && [ "$reject" = NONE ] && [ "$maint" = DISABLED ]; then
  if [ "$state" = Synced ]; then ok=1
  elif [ "$DONOR_OK" = 1 ] && [ "${state#Donor}" != "$state" ] && [ "$donor_rejects" != 1 ] && [ "$donor_rejects" != ON ]; then ok=1
  fi
fi
role="node"
if [ "$path" = /writer ]; then
  role="writer"
  # Only a Synced node may be the writer: never a donor, even an allowed one.
  eligible=0; [ "$ok" = 1 ] && [ "$state" = Synced ] && eligible=1
  [ "$status" = Primary ] || recorded=""
  %[8]s
  case "$action" in
  claim) [ "$(sql "UPDATE %[9]s SET address='$SELF' WHERE id=1 AND address='$recorded'; SELECT ROW_COUNT()")" = 1 ] && writer=$SELF ;;
  release) sql "UPDATE %[9]s SET address='' WHERE id=1 AND address='$SELF'" >/dev/null ;;
  esac
  [ "$writer" = "$SELF" ] || ok=0
fi
if [ "$ok" = 1 ]; then code="200 OK"; body="Galera $role %[1]s is synced."
else code="503 Service Unavailable"; body="Galera $role %[1]s is not available (${status:-down}/${state:-down})."; fi
printf 'HTTP/1.1 %%s\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: %%d\r\n\r\n%%s\n' "$code" $(( ${#body} + 1 )) "$body"
`, self.Name, self.Address, shellQuote(strings.Join(order, " ")), donorOK, l.Client, clustercheckConfig, shellQuote(query), writerShell, writerTable,
		socketClientWithoutTLS(s.Flavour), shellQuote(writerQuery))
}

// socketClientWithoutTLS is the client option that keeps the responder's
// connections on the unix socket in plain text. MariaDB's client turns TLS
// on by default (10.11: --ssl "defaults to on") whenever the server offers
// it, as it does once the cluster has TLS: a handshake in each of the two
// or three client runs of a check made checks on a loaded host overrun the
// load balancer's 1 s check timeout (L7TOUT), so after a writer died no
// survivor passed /writer for seconds. The socket never leaves the host,
// and require_secure_transport accepts it without TLS.
func socketClientWithoutTLS(f Flavour) string {
	if f == Percona {
		return "--ssl-mode=DISABLED"
	}
	return "--skip-ssl"
}

// EnsureClustercheck creates the clustercheck account (on a healthy
// member; it replicates), installs the responder on every member and
// starts socat where it is not listening. Safe to re-run, e.g. after a
// node rebooted.
func (c *Cluster) EnsureClustercheck(ctx context.Context, cc Clustercheck) error {
	return c.ensureClustercheck(ctx, cc, false)
}

// ensureClustercheck is EnsureClustercheck; keepInstalled leaves out the
// install on nodes where this Cluster installed the very same responder
// (Create: Prepare did, and nothing in the sequence stops it since), which
// on systemd guests costs a reload of the manager per node.
func (c *Cluster) ensureClustercheck(ctx context.Context, cc Clustercheck, keepInstalled bool) error {
	if err := cc.validate(); err != nil {
		return err
	}
	members := c.Spec().Nodes
	if err := c.execOnHealthy(ctx, c.clustercheckAccountStatements(cc, members)); err != nil {
		return fmt.Errorf("clustercheck account: %w", err)
	}
	return parallel(c.nodes(), func(n *node) error {
		start := time.Now()
		if keepInstalled && n.installed() == responderKey(c.spec, members, n.Node, cc) {
			c.emitDone("clustercheck", n.Name, start, "responder listening on port %d since prepare", cc.port())
			return nil
		}
		if err := c.installClustercheck(ctx, n, members, cc); err != nil {
			return &NodeError{Phase: PhaseClustercheck, Node: n.Name, Err: err}
		}
		c.emitDone("clustercheck", n.Name, start, "responder listening on port %d", cc.port())
		return nil
	})
}

// clustercheckAccountStatements create the responder's account and the
// writer record with the first of members as the initial writer (on one
// member: they replicate).
func (c *Cluster) clustercheckAccountStatements(cc Clustercheck, members []Node) []string {
	c.mask.add(cc.Password)
	priv := "USAGE"
	if c.spec.Flavour == Percona {
		priv = "PROCESS"
	}
	stmts := []string{
		"CREATE USER IF NOT EXISTS '" + clustercheckUser + "'@'localhost' IDENTIFIED BY " + quoteString(cc.Password),
		"ALTER USER '" + clustercheckUser + "'@'localhost' IDENTIFIED BY " + quoteString(cc.Password),
		"GRANT " + priv + " ON *.* TO '" + clustercheckUser + "'@'localhost'",
	}
	return append(stmts, writerTableStatements(members)...)
}

// writerTableStatements create the writer record (writer.go) with the
// first member as the initial writer, and let the responders read and
// compare-and-swap it. An existing record is kept: the writer is sticky.
func writerTableStatements(members []Node) []string {
	first := ""
	if len(members) > 0 {
		first = members[0].Address
	}
	return []string{
		"CREATE DATABASE IF NOT EXISTS " + writerSchema,
		"CREATE TABLE IF NOT EXISTS " + writerTable + " (id TINYINT UNSIGNED NOT NULL PRIMARY KEY, address VARCHAR(64) NOT NULL DEFAULT '') ENGINE=InnoDB",
		"INSERT IGNORE INTO " + writerTable + " (id, address) VALUES (1, " + quoteString(first) + ")",
		"GRANT SELECT, UPDATE ON " + writerTable + " TO '" + clustercheckUser + "'@'localhost'",
	}
}

// responderKey names one installation of a node's responder: what the
// script and its settings are.
func responderKey(spec ClusterSpec, members []Node, self Node, cc Clustercheck) string {
	return fmt.Sprintf("%d\x00%s\x00%s", cc.port(), cc.Password, renderClustercheck(spec, members, self, cc))
}

// prepareResponder installs node n's responder during Prepare, so the
// node's first start need not (start checks responderKey).
func (c *Cluster) prepareResponder(ctx context.Context, n *node, cc Clustercheck) error {
	members := c.Spec().Nodes
	if err := c.installClustercheck(ctx, n, members, cc); err != nil {
		return err
	}
	n.setPreparedResponder(responderKey(c.spec, members, n.Node, cc))
	return nil
}

func (c *Cluster) installClustercheck(ctx context.Context, n *node, members []Node, cc Clustercheck) error {
	if err := c.installResponder(ctx, n, members, cc); err != nil {
		return err
	}
	n.setInstalled(responderKey(c.spec, members, n.Node, cc))
	return nil
}

func (c *Cluster) installResponder(ctx context.Context, n *node, members []Node, cc Clustercheck) error {
	n.setInstalled("")
	if err := writeClustercheckConfig(ctx, n, cc); err != nil {
		return err
	}
	if err := n.upload(ctx, clustercheckScript, []byte(renderClustercheck(c.spec, members, n.Node, cc)), 0o755); err != nil {
		return err
	}
	if err := c.detectInit(ctx, n); err != nil {
		return err
	}
	if n.init == InitSystemd {
		return c.installClustercheckUnits(ctx, n, cc)
	}
	// Restart socat only when it listens on another port (the script is
	// read per request, so a new script needs no restart).
	listen := fmt.Sprintf("TCP-LISTEN:%d,reuseaddr,fork,max-children=%d", cc.port(), clustercheckMaxConnections)
	// The pattern also matches responders started as root by earlier
	// versions (no max-children): they are replaced.
	// Only the responders it killed are waited for: a right one keeps
	// running and is not waited on.
	script := fmt.Sprintf(`pattern='^socat TCP-LISTEN:[0-9]*,reuseaddr,fork[a-z0-9=,-]* EXEC:%[1]s$'
killed=""
for pid in $(pgrep -f "$pattern"); do
  { grep -qa -- %[2]s /proc/$pid/cmdline && [ "$(stat -c %%U /proc/$pid)" = %[4]s ]; } || { kill "$pid"; killed="$killed $pid"; }
done
for pid in $killed; do
  for i in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
done
if ! pgrep -f "$pattern" >/dev/null; then
  setsid setpriv --reuid=%[4]s --regid=%[4]s --init-groups --inh-caps=-all socat %[2]s EXEC:%[1]s </dev/null >/dev/null 2>&1 &
fi
for i in $(seq 1 50); do
  ss -Hltn "sport = :%[3]d" | grep -q . && exit 0
  sleep 0.1
done
echo "socat is not listening on port %[3]d" >&2
exit 1`, clustercheckScript, listen, cc.port(), clustercheckRunAs)
	if _, err := n.run(ctx, script, nil); err != nil {
		return fmt.Errorf("start responder: %w", err)
	}
	return nil
}

// writeClustercheckConfig gives the responder its account's password.
func writeClustercheckConfig(ctx context.Context, n *node, cc Clustercheck) error {
	cnf := "[client]\nuser = " + clustercheckUser + "\npassword = " + optionQuote(cc.Password) + "\n"
	if err := n.upload(ctx, clustercheckConfig, []byte(cnf), 0o640); err != nil {
		return err
	}
	// Readable by the responder's user, writable by root only.
	if _, err := n.run(ctx, "chown root:"+clustercheckRunAs+" "+clustercheckConfig, nil); err != nil {
		return fmt.Errorf("clustercheck config: %w", err)
	}
	return nil
}

// execOnHealthy runs statements on the first healthy member.
func (c *Cluster) execOnHealthy(ctx context.Context, stmts []string) error {
	for _, n := range c.nodes() {
		st, err := c.nodeStatus(ctx, n)
		if err != nil || !st.Healthy() {
			continue
		}
		db, err := n.sqlDB(ctx)
		if err != nil {
			return err
		}
		conn, err := db.Conn(ctx)
		if err != nil {
			return c.mask.err(fmt.Errorf("on %s: %w", n.Name, err))
		}
		defer conn.Close()
		for _, s := range append([]string{"SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')"}, stmts...) {
			if _, err := conn.ExecContext(ctx, s); err != nil {
				return c.mask.err(fmt.Errorf("on %s: %w", n.Name, err))
			}
		}
		return nil
	}
	return fmt.Errorf("no healthy member to run on")
}

// On systemd guests the responder is a socket-activated unit (the
// xinetd pattern): it starts at boot and needs no process of ours.
const (
	clustercheckSocketUnit  = "/etc/systemd/system/pxc-clustercheck.socket"
	clustercheckServiceUnit = "/etc/systemd/system/pxc-clustercheck@.service"
)

func clustercheckUnits(port int) (socket, service string) {
	socket = fmt.Sprintf(`[Unit]
Description=Galera clustercheck responder (pxc guest library)

[Socket]
ListenStream=%d
Accept=yes
MaxConnections=%d

[Install]
WantedBy=sockets.target
`, port, clustercheckMaxConnections)
	service = `[Unit]
Description=Galera clustercheck request

[Service]
ExecStart=` + clustercheckScript + `
User=` + clustercheckRunAs + `
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=strict
ProtectHome=yes
StandardInput=socket
StandardOutput=socket
StandardError=journal
`
	return socket, service
}

func (c *Cluster) installClustercheckUnits(ctx context.Context, n *node, cc Clustercheck) error {
	socket, service := clustercheckUnits(cc.port())
	if err := n.upload(ctx, clustercheckSocketUnit, []byte(socket), 0o644); err != nil {
		return err
	}
	if err := n.upload(ctx, clustercheckServiceUnit, []byte(service), 0o644); err != nil {
		return err
	}
	// restart (not start) so a changed port takes effect; the socket unit
	// only listens, so restarting it interrupts nothing. One reload, for
	// the units just written (enableUnit does not reload again).
	if _, err := n.run(ctx, "systemctl daemon-reload && "+enableUnit("pxc-clustercheck.socket")+" && systemctl restart pxc-clustercheck.socket", nil); err != nil {
		return fmt.Errorf("enable responder socket: %w", err)
	}
	return nil
}
