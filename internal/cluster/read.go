package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// liveStatusTimeout bounds asking the guests during a read: a plan must not
// hang on an unreachable node.
const liveStatusTimeout = 30 * time.Second

// Read observes a cluster from the cloud (list calls filtered by the
// cluster id) and, when spec carries SSH access, asks every node for its
// live Galera state. ErrNotFound means nothing of it is left. A spec
// without a root password (a write-only one) gets the password the nodes
// hold.
func (m *Manager) Read(ctx context.Context, id string, spec *Spec, hostKeys map[string]string) (*Cluster, error) {
	inv, err := m.discover(ctx, id, "")
	if err != nil {
		return nil, err
	}
	m.remember(id, inv)
	if inv.empty() {
		return nil, ErrNotFound
	}
	c := inv.cluster(id)
	c.HostKeys = hostKeys
	if spec == nil || len(c.Nodes) == 0 {
		c.Status = StatusUnknown
		return c, nil
	}
	if c.Name == "" {
		c.Name = spec.Name
	}
	// Only a spec with a load balancer looks for it (a refresh's budget);
	// an import asks with an empty one.
	if spec.LoadBalancer != nil {
		if err := m.readOwnLB(ctx, c); err != nil {
			return nil, err
		}
	}
	completed := completeSpec(*spec, c)
	caller := spec
	spec = &completed
	a := accessFor(*spec, spec.SSH.PrivateKey, hostKeys)
	if spec.SSH.HostKeyCheck == HostKeyConsole {
		a.fingerprints = m.consoleFingerprintsOf(ctx, c.Nodes, hostKeys)
	}
	if spec.RootPassword == "" && a.privateKey != "" {
		// A write-only password is in no state: the nodes hold it.
		if pw, err := m.storedRootPassword(ctx, c, a); err != nil {
			m.log.Warn(ctx, "reading the root password from the nodes: "+err.Error())
		} else {
			spec.RootPassword, caller.RootPassword = pw, pw
		}
	}
	m.readLive(ctx, c, *spec, a)
	if len(c.Nodes) < spec.NodeCount && (c.Status == StatusActive || c.Status == StatusUnknown) {
		c.Status = StatusDegraded
	}
	return c, nil
}

// completeSpec fills what a partial spec (an import, a data source) lacks
// from what the servers record.
func completeSpec(spec Spec, c *Cluster) Spec {
	if spec.Name == "" {
		spec.Name = c.Name
	}
	if spec.Datastore.Type == "" {
		spec.Datastore = c.Datastore
	}
	if spec.NodeCount == 0 {
		spec.NodeCount = max(c.Requested.NodeCount, len(c.Nodes))
	}
	if spec.SSTMethod == "" {
		spec.SSTMethod = c.Requested.SSTMethod
	}
	spec.TLS.Mode = effectiveTLSMode(spec, c)
	if spec.SSH.User == "" {
		spec.SSH.User = "root"
	}
	if spec.SSH.HostKeyCheck == "" {
		spec.SSH.HostKeyCheck = HostKeyConsole
	}
	return spec
}

// readLive fills in wsrep state; failures only mark the cluster UNKNOWN or
// DEGRADED, since a read must work while a node is down.
func (m *Manager) readLive(ctx context.Context, c *Cluster, spec Spec, a guestAccess) {
	ctx, cancel := context.WithTimeout(ctx, liveStatusTimeout)
	defer cancel()
	if a.privateKey == "" {
		c.Status = StatusUnknown
		return
	}
	gc, err := m.openGuests(spec, c, a, nil)
	if err != nil {
		m.log.Warn(ctx, "cannot ask the guests for their Galera state: "+err.Error())
		c.Status = StatusUnknown
		m.readHealth(ctx, c, spec, a, nil, guest.Status{})
		return
	}
	defer gc.Close()
	st, err := gc.Status(ctx)
	if err != nil {
		m.log.Warn(ctx, "reading Galera state: "+err.Error())
	}
	applyStatus(c, st)
	m.readHealth(ctx, c, spec, a, gc, st)
	readCertificatesExpire(ctx, c, spec, gc)
}

// Summary is one row of List.
type Summary struct {
	ID        string
	Name      string
	Datastore Datastore
	IPs       []string
	Status    string // from the servers: ACTIVE when all are ACTIVE
}

// List returns every cluster in the project, found by server metadata.
func (m *Manager) List(ctx context.Context) ([]Summary, error) {
	servers, err := m.cloud.ListServers(ctx, "", nil)
	if err != nil {
		return nil, err
	}
	byID := map[string]*inventory{}
	var order []string
	for _, s := range servers {
		id := s.Metadata[metaClusterID]
		if id == "" {
			continue
		}
		if byID[id] == nil {
			byID[id] = &inventory{}
			order = append(order, id)
		}
		byID[id].servers = append(byID[id].servers, s)
	}
	out := make([]Summary, 0, len(order))
	for _, id := range order {
		c := byID[id].cluster(id)
		status := "ACTIVE"
		for _, n := range c.Nodes {
			if n.ServerStatus != "ACTIVE" {
				status = n.ServerStatus
			}
		}
		out = append(out, Summary{ID: id, Name: c.Name, Datastore: c.Datastore, IPs: c.IPs(), Status: status})
	}
	return out, nil
}

// Find returns the id of the cluster with this id or name. A name shared by
// several clusters is an error that lists their ids.
func (m *Manager) Find(ctx context.Context, id, name string) (string, error) {
	all, err := m.List(ctx)
	if err != nil {
		return "", err
	}
	var ids []string
	for _, c := range all {
		if (id != "" && c.ID == id) || (id == "" && c.Name == name) {
			ids = append(ids, c.ID)
		}
	}
	switch len(ids) {
	case 0:
		if id != "" {
			return "", fmt.Errorf("no cluster has id %s: %w", id, ErrNotFound)
		}
		return "", fmt.Errorf("no cluster is named %q: %w", name, ErrNotFound)
	case 1:
		return ids[0], nil
	}
	return "", fmt.Errorf("%d clusters are named %q (%s): look it up by id", len(ids), name, strings.Join(ids, ", "))
}

// storedRootPassword reads the root password from the first node that
// answers (root's client file, which only root over SSH can read).
func (m *Manager) storedRootPassword(ctx context.Context, c *Cluster, a guestAccess) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, liveStatusTimeout)
	defer cancel()
	var errs []error
	for _, n := range c.Nodes {
		t, err := a.target(n, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pw, err := m.guests.StoredRootPassword(ctx, *t)
		if err == nil {
			return pw, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", n.Name, err))
	}
	return "", errors.Join(errs...)
}
