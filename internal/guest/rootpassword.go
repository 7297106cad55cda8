package guest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// RotateRootPassword moves a running cluster to the spec's root password
// (and with it the spec's SST and clustercheck passwords). The accounts
// change once, on one running member through the local CLI and root's
// ~/.my.cnf, which still holds the old password (ALTER USER replicates);
// then every node gets the new ~/.my.cnf, clustercheck credentials and
// SST credentials, and the library's own connections use the new password.
// users are further accounts to move with it (root from allowed networks),
// given with the new password. Nothing restarts.
func (c *Cluster) RotateRootPassword(ctx context.Context, users ...User) error {
	stmts := adminStatements(c.spec)
	for _, u := range users {
		s, err := userStatements(u)
		if err != nil {
			return fmt.Errorf("rotate root password: %w", err)
		}
		stmts = append(stmts, s...)
		c.mask.add(u.Password)
	}
	cc := c.spec.Clustercheck
	if cc != nil {
		if err := cc.validate(); err != nil {
			return err
		}
		c.mask.add(cc.Password)
		stmts = append(stmts, "ALTER USER IF EXISTS '"+clustercheckUser+"'@'localhost' IDENTIFIED BY "+quoteString(cc.Password))
	}
	nodes := c.nodes()
	var ran *node
	for _, n := range nodes {
		ps, err := c.processes(ctx, n)
		if err != nil || !ps.Running {
			continue
		}
		if _, err := n.run(ctx, c.layout.Client+" --batch", []byte(sqlScript(stmts))); err != nil {
			return &NodeError{Phase: PhaseRootPassword, Node: n.Name, Err: c.mask.err(fmt.Errorf("alter accounts: %w", err))}
		}
		ran = n
		break
	}
	if ran == nil {
		return &NodeError{Phase: PhaseRootPassword, Err: errors.New("no member runs a server to change the accounts on")}
	}
	c.emit("root password", ran.Name, "accounts changed (the change replicates)")
	// The health responders fail from the ALTER until they have the new
	// password, and a load balancer counts their failures: all at once, first.
	if cc != nil {
		err := parallel(nodes, func(n *node) error { return writeClustercheckConfig(ctx, n, *cc) })
		if err != nil {
			return &NodeError{Phase: PhaseRootPassword, Err: c.mask.err(fmt.Errorf("clustercheck credentials: %w", err))}
		}
	}
	var sstAuth []string
	if SSTNeedsAccount(c.spec.Flavour, c.spec.Version, c.spec.SST) {
		sstAuth = []string{"SET GLOBAL wsrep_sst_auth = " + quoteString(sstUser+":"+c.spec.SSTPassword)}
	}
	members := c.Spec().Nodes
	for i, n := range nodes {
		start := time.Now()
		if err := c.followRootPassword(ctx, n, members, sstAuth); err != nil {
			return &NodeError{Phase: PhaseRootPassword, Node: n.Name, Err: c.mask.err(err)}
		}
		c.emitDone("root password", n.Name, start, "credentials updated; %d of %d done", i+1, len(nodes))
	}
	return nil
}

// followRootPassword gives one node the credentials of the new password:
// root's client file, the SST account in the option file and, on a
// running server, in wsrep_sst_auth.
func (c *Cluster) followRootPassword(ctx context.Context, n *node, members []Node, sstAuth []string) error {
	if err := c.writeClientConfig(ctx, n); err != nil {
		return err
	}
	n.resetDB()
	if len(sstAuth) == 0 {
		return nil
	}
	if err := c.writeConfig(ctx, n, members); err != nil {
		return err
	}
	ps, err := c.processes(ctx, n)
	if err != nil {
		return err
	}
	if !ps.Running {
		return nil
	}
	if _, err := n.run(ctx, c.layout.Client+" --batch", []byte(sqlScript(sstAuth))); err != nil {
		return fmt.Errorf("set wsrep_sst_auth: %w", err)
	}
	return nil
}

// StoredRootPassword reads the root password from a node's root client
// file (written by the library, readable by root only).
func StoredRootPassword(ctx context.Context, r Runner) (string, error) {
	out, err := r.Run(ctx, "cat "+clientConfig, nil)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", clientConfig, err)
	}
	return parseClientPassword(string(out))
}

// parseClientPassword reads the password clientOptionFile wrote.
func parseClientPassword(file string) (string, error) {
	for _, line := range strings.Split(file, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) != "password" {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return "", fmt.Errorf("%s: the password is not quoted as the library writes it", clientConfig)
		}
		pw := strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(v[1 : len(v)-1])
		if pw == "" {
			break
		}
		return pw, nil
	}
	return "", fmt.Errorf("%s holds no password", clientConfig)
}
