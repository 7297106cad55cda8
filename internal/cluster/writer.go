package cluster

import "github.com/pxc-provider/terraform-provider-pxc/internal/guest"

// Node roles, as a single-writer pool sees the members.
const (
	RoleWriter      = "writer"      // the node the pool's "/writer" check elects
	RoleReader      = "reader"      // healthy, not the writer
	RoleUnavailable = "unavailable" // asked, but not a healthy member of the primary component
)

// applyWriter names the writer and each node's role from the live status,
// by the same rule the clustercheck responder applies (guest.Writer): the
// member recorded in pxc_guest.writer, if it is in a healthy node's primary
// component and healthy itself (else its "/writer" check fails and the
// pool has no writer until a node claims it). With no node asked, roles
// stay empty.
func applyWriter(c *Cluster, st guest.Status) {
	c.Writer = ""
	for i := range c.Nodes {
		c.Nodes[i].Role = ""
	}
	if c.Status == StatusUnknown {
		return
	}
	members := make([]guest.Node, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		members = append(members, guest.Node{Name: n.Name, Address: n.IP})
	}
	for _, ns := range st.Nodes {
		if !ns.Healthy() {
			continue
		}
		if w, ok := guest.WriterOf(members, ns); ok {
			if ws, found := st.Node(w.Name); found && ws.Healthy() {
				c.Writer = w.Name
			}
		}
		break
	}
	for i := range c.Nodes {
		ns, ok := st.Node(c.Nodes[i].Name)
		switch {
		case c.Nodes[i].Name == c.Writer:
			c.Nodes[i].Role = RoleWriter
		case ok && ns.Healthy():
			c.Nodes[i].Role = RoleReader
		default:
			c.Nodes[i].Role = RoleUnavailable
		}
	}
}

// WriterNode is the writer, false when there is none.
func (c *Cluster) WriterNode() (Node, bool) {
	for _, n := range c.Nodes {
		if c.Writer != "" && n.Name == c.Writer {
			return n, true
		}
	}
	return Node{}, false
}
