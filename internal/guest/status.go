package guest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// NodeStatus is one node's view of the cluster, read over SQL through the
// node's SSH connection with wsrep_sync_wait=0 (a non-Primary node answers).
type NodeStatus struct {
	Node    string // the spec's node name
	Address string
	// Err is set when the status could not be read (SSH or server down).
	Err error

	NodeName          string // wsrep_node_name
	ClusterSize       int
	StateUUID         string // wsrep_cluster_state_uuid
	ConfID            int64  // wsrep_cluster_conf_id
	LocalState        string // wsrep_local_state_comment: Synced, Donor/Desynced, Joining, ...
	ClusterStatus     string // wsrep_cluster_status: Primary, non-Primary, Disconnected
	Ready             bool   // wsrep_ready
	Connected         bool   // wsrep_connected
	LastCommitted     int64  // wsrep_last_committed
	IncomingAddresses []string
	// RecordedWriter is the writer address in pxc_guest.writer (writer.go);
	// empty when none is recorded or the table does not exist.
	RecordedWriter string
}

// Healthy is true for a Synced, Primary, ready and connected node.
func (s NodeStatus) Healthy() bool {
	return s.Err == nil && s.ClusterStatus == "Primary" && s.LocalState == "Synced" && s.Ready && s.Connected
}

func (s NodeStatus) String() string {
	if s.Err != nil {
		return fmt.Sprintf("%s: unreachable: %v", s.Node, s.Err)
	}
	return fmt.Sprintf("%s: size=%d %s %s ready=%v connected=%v conf_id=%d uuid=%s",
		s.Node, s.ClusterSize, s.ClusterStatus, s.LocalState, s.Ready, s.Connected, s.ConfID, s.StateUUID)
}

// Status is the cluster as the gate sees it.
type Status struct {
	Nodes    []NodeStatus
	Expected int // voting members in the spec: data nodes and arbitrators
	// Missing names the members that are not healthy members of the
	// primary component (unreachable, stopped, non-Primary, not Synced).
	Missing []string
	// Problems explains every failed gate condition; empty when it passed.
	Problems []string
}

// OK is true when the gate conditions hold.
func (s Status) OK() bool { return len(s.Problems) == 0 }

// Node returns one node's status.
func (s Status) Node(name string) (NodeStatus, bool) {
	for _, n := range s.Nodes {
		if n.Node == name {
			return n, true
		}
	}
	return NodeStatus{}, false
}

// GateError is returned by Gate when a condition does not hold.
type GateError struct{ Status Status }

func (e *GateError) Error() string {
	msg := fmt.Sprintf("membership gate failed (%d problems)", len(e.Status.Problems))
	if len(e.Status.Missing) > 0 {
		msg += "; missing: " + strings.Join(e.Status.Missing, ", ")
	}
	return msg + ": " + strings.Join(e.Status.Problems, "; ")
}

func (c *Cluster) nodeStatus(ctx context.Context, n *node) (NodeStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.statusTimeout)
	defer cancel()
	if c.opts.status != nil {
		return c.opts.status(ctx, n)
	}
	st := NodeStatus{Node: n.Name, Address: n.Address}
	fail := func(err error) (NodeStatus, error) {
		st.Err = c.mask.err(err)
		return st, st.Err
	}
	db, err := n.sqlDB(ctx)
	if err != nil {
		return fail(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		n.resetDB()
		return fail(fmt.Errorf("node %s: connect to server: %w", n.Name, err))
	}
	defer conn.Close()
	// A non-Primary node must still answer, so no causal read wait.
	if _, err := conn.ExecContext(ctx, "SET SESSION wsrep_sync_wait=0"); err != nil {
		return fail(fmt.Errorf("node %s: %w", n.Name, err))
	}
	rows, err := conn.QueryContext(ctx, "SHOW GLOBAL STATUS LIKE 'wsrep_%'")
	if err != nil {
		return fail(fmt.Errorf("node %s: read wsrep status: %w", n.Name, err))
	}
	vals := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return fail(fmt.Errorf("node %s: read wsrep status: %w", n.Name, err))
		}
		vals[strings.ToLower(k)] = v
	}
	rows.Close()
	if err := conn.QueryRowContext(ctx, "SELECT @@wsrep_node_name").Scan(&st.NodeName); err != nil {
		return fail(fmt.Errorf("node %s: read wsrep_node_name: %w", n.Name, err))
	}
	st.ClusterSize = int(parseInt64(vals["wsrep_cluster_size"]))
	st.StateUUID = vals["wsrep_cluster_state_uuid"]
	st.ConfID = parseInt64(vals["wsrep_cluster_conf_id"])
	st.LocalState = vals["wsrep_local_state_comment"]
	st.ClusterStatus = vals["wsrep_cluster_status"]
	st.Ready = vals["wsrep_ready"] == "ON"
	st.Connected = vals["wsrep_connected"] == "ON"
	st.LastCommitted = parseInt64(vals["wsrep_last_committed"])
	for _, a := range strings.Split(vals["wsrep_incoming_addresses"], ",") {
		if a = strings.TrimSpace(a); a != "" {
			st.IncomingAddresses = append(st.IncomingAddresses, a)
		}
	}
	// Best effort: clusters without single-writer checks have no table.
	_ = conn.QueryRowContext(ctx, "SELECT address FROM "+writerTable+" WHERE id = 1").Scan(&st.RecordedWriter)
	return st, nil
}

// Status reads every member's status in parallel. Unreachable nodes have
// Err set; the error return is only for a cancelled context.
func (c *Cluster) Status(ctx context.Context) (Status, error) {
	nodes := c.nodes()
	out := make([]NodeStatus, len(nodes))
	_ = parallel(nodes, func(n *node) error {
		st, err := c.nodeStatus(ctx, n)
		if err != nil && st.Err == nil {
			st.Err = err
		}
		st.Node, st.Address = n.Name, n.Address
		for i := range nodes {
			if nodes[i] == n {
				out[i] = st
			}
		}
		return nil
	})
	if err := ctx.Err(); err != nil {
		return Status{}, err
	}
	return evaluateWith(out, len(c.arbitratorNodes())), nil
}

// evaluate applies the gate conditions: cluster size == N on every node,
// one state UUID and conf_id, every node Synced, Primary, ready, connected.
func evaluate(nodes []NodeStatus) Status { return evaluateWith(nodes, 0) }

// evaluateWith is evaluate for a group that also has arbitrators: they
// hold no data and answer no SQL, but count in wsrep_cluster_size.
func evaluateWith(nodes []NodeStatus, arbitrators int) Status {
	s := Status{Nodes: nodes, Expected: len(nodes) + arbitrators}
	problem := func(format string, a ...any) { s.Problems = append(s.Problems, fmt.Sprintf(format, a...)) }
	uuids, confs := map[string][]string{}, map[int64][]string{}
	for _, n := range nodes {
		if n.Err != nil {
			s.Missing = append(s.Missing, n.Node)
			problem("%s is unreachable: %v", n.Node, n.Err)
			continue
		}
		if !n.Healthy() {
			s.Missing = append(s.Missing, n.Node)
			problem("%s is %s/%s (ready=%v, connected=%v), want Primary/Synced", n.Node, n.ClusterStatus, n.LocalState, onOff(n.Ready), onOff(n.Connected))
			continue
		}
		if n.ClusterSize != s.Expected {
			problem("%s sees cluster size %d, want %d", n.Node, n.ClusterSize, s.Expected)
		}
		uuids[n.StateUUID] = append(uuids[n.StateUUID], n.Node)
		confs[n.ConfID] = append(confs[n.ConfID], n.Node)
	}
	if len(uuids) > 1 {
		problem("nodes disagree on the cluster state UUID: %s", describeGroups(uuids))
	}
	if len(confs) > 1 {
		parts := map[string][]string{}
		for k, v := range confs {
			parts[fmt.Sprint(k)] = v
		}
		problem("nodes disagree on conf_id: %s", describeGroups(parts))
	}
	return s
}

func onOff(b bool) string {
	if b {
		return "ON"
	}
	return "OFF"
}

func describeGroups(groups map[string][]string) string {
	var parts []string
	for k, v := range groups {
		parts = append(parts, fmt.Sprintf("%s on %s", k, strings.Join(v, ",")))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// Gate checks the membership conditions once. It returns the status and a
// *GateError when a condition does not hold.
func (c *Cluster) Gate(ctx context.Context) (Status, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return st, err
	}
	if !st.OK() {
		return st, &GateError{Status: st}
	}
	return st, nil
}

// WaitGate polls Gate until it passes or timeout elapses; the error is the
// last *GateError.
func (c *Cluster) WaitGate(ctx context.Context, timeout time.Duration) (Status, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	for {
		st, err := c.Gate(ctx)
		if err == nil {
			c.emitDone("gate", "", start, "passed: %d nodes Primary and Synced", len(st.Nodes))
			return st, nil
		}
		var ge *GateError
		if !errors.As(err, &ge) {
			return st, err
		}
		select {
		case <-ctx.Done():
			return st, err
		case <-time.After(c.opts.poll):
		}
	}
}
