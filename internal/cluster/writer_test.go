package cluster

import (
	"errors"
	"testing"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

func threeNodes() *Cluster {
	return &Cluster{Nodes: []Node{
		{Index: 1, Name: "db-1", IP: "10.0.0.11"},
		{Index: 2, Name: "db-2", IP: "10.0.0.12"},
		{Index: 3, Name: "db-3", IP: "10.0.0.13"},
	}}
}

func synced(name, ip string, incoming ...string) guest.NodeStatus {
	return guest.NodeStatus{Node: name, Address: ip, ClusterSize: len(incoming), LocalState: "Synced",
		ClusterStatus: "Primary", Ready: true, Connected: true, IncomingAddresses: incoming}
}

// recording gives every status the writer address pxc_guest.writer holds.
func recording(writer string, nodes ...guest.NodeStatus) guest.Status {
	for i := range nodes {
		nodes[i].RecordedWriter = writer
	}
	return guest.Status{Nodes: nodes}
}

func roles(c *Cluster) []string {
	var out []string
	for _, n := range c.Nodes {
		out = append(out, n.Role)
	}
	return out
}

// The writer is the recorded one, not the first in node order: once db-2
// took over, db-1 being healthy again does not move it back.
func TestWriterIsTheRecordedMember(t *testing.T) {
	all := []string{"10.0.0.12:3306", "10.0.0.11:3306", "10.0.0.13:3306"}
	c := threeNodes()
	applyStatus(c, recording("10.0.0.12",
		synced("db-1", "10.0.0.11", all...), synced("db-2", "10.0.0.12", all...), synced("db-3", "10.0.0.13", all...)))
	if c.Writer != "db-2" {
		t.Fatalf("writer = %q, want db-2 (the recorded writer; no failback to db-1)", c.Writer)
	}
	if got := roles(c); got[0] != RoleReader || got[1] != RoleWriter || got[2] != RoleReader {
		t.Fatalf("roles = %v", got)
	}
	if w, ok := c.WriterNode(); !ok || w.IP != "10.0.0.12" {
		t.Fatalf("WriterNode = %+v, %v", w, ok)
	}
}

// A recorded writer that left the primary component is nobody's writer
// until a healthy node claims it.
func TestNoWriterWhenTheRecordedOneLeftTheComponent(t *testing.T) {
	rest := []string{"10.0.0.12:3306", "10.0.0.13:3306"}
	c := threeNodes()
	st := recording("10.0.0.11", synced("db-2", "10.0.0.12", rest...), synced("db-3", "10.0.0.13", rest...))
	st.Nodes = append([]guest.NodeStatus{{Node: "db-1", Address: "10.0.0.11", Err: errors.New("connection refused")}}, st.Nodes...)
	applyStatus(c, st)
	if c.Writer != "" {
		t.Fatalf("writer = %q, want none until a node claims it", c.Writer)
	}
	if got := roles(c); got[0] != RoleUnavailable || got[1] != RoleReader || got[2] != RoleReader {
		t.Fatalf("roles = %v", got)
	}
	applyStatus(c, recording("10.0.0.12", st.Nodes[1], st.Nodes[2]))
	if c.Writer != "db-2" {
		t.Fatalf("writer after db-2's claim = %q, want db-2", c.Writer)
	}
}

func TestNoWriterWhileTheElectedNodeIsNotSynced(t *testing.T) {
	// db-1 is recorded and in the primary component but a donor: until it
	// releases the writer, its "/writer" check fails and the pool has none.
	all := []string{"10.0.0.11:3306", "10.0.0.12:3306", "10.0.0.13:3306"}
	donor := synced("db-1", "10.0.0.11", all...)
	donor.LocalState = "Donor/Desynced"
	c := threeNodes()
	applyStatus(c, recording("10.0.0.11", donor, synced("db-2", "10.0.0.12", all...), synced("db-3", "10.0.0.13", all...)))
	if c.Writer != "" {
		t.Fatalf("writer = %q, want none", c.Writer)
	}
	if _, ok := c.WriterNode(); ok {
		t.Fatal("WriterNode found a writer")
	}
	if got := roles(c); got[0] != RoleUnavailable || got[1] != RoleReader || got[2] != RoleReader {
		t.Fatalf("roles = %v", got)
	}
}

func TestNoRolesWhenNoNodeAnswered(t *testing.T) {
	c := threeNodes()
	c.Writer, c.Nodes[0].Role = "db-1", RoleWriter // from an earlier read
	down := errors.New("timeout")
	applyStatus(c, guest.Status{Nodes: []guest.NodeStatus{
		{Node: "db-1", Err: down}, {Node: "db-2", Err: down}, {Node: "db-3", Err: down},
	}})
	if c.Status != StatusUnknown || c.Writer != "" {
		t.Fatalf("status %s writer %q, want UNKNOWN and none", c.Status, c.Writer)
	}
	for _, r := range roles(c) {
		if r != "" {
			t.Fatalf("roles = %v, want all empty", roles(c))
		}
	}
}
