package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// inventory is every cloud object that belongs to one cluster, found with
// list calls filtered by the cluster id (never one GET per object).
type inventory struct {
	servers        []openstack.Server
	volumes        []openstack.Volume
	ports          []openstack.Port
	securityGroups []openstack.SecurityGroup
	serverGroupIDs []string
	keyPairs       []string // generated ones only: a user's keypair is not ours
}

func (inv *inventory) empty() bool {
	return len(inv.servers) == 0 && len(inv.volumes) == 0 && len(inv.ports) == 0 &&
		len(inv.securityGroups) == 0 && len(inv.serverGroupIDs) == 0 && len(inv.keyPairs) == 0
}

// discover lists the cluster's objects. name may be empty (import).
func (m *Manager) discover(ctx context.Context, id, name string) (*inventory, error) {
	inv := &inventory{}
	match := map[string]string{metaClusterID: id}
	var err error
	if inv.servers, err = m.cloud.ListServers(ctx, name, match); err != nil {
		return nil, err
	}
	sort.Slice(inv.servers, func(i, j int) bool {
		return nodeIndexOf(inv.servers[i].Metadata) < nodeIndexOf(inv.servers[j].Metadata)
	})
	if inv.volumes, err = m.cloud.ListVolumes(ctx, name, match); err != nil {
		return nil, err
	}
	if inv.ports, err = m.cloud.ListPorts(ctx, openstack.PortFilter{Description: ownerDescription(id)}); err != nil {
		return nil, err
	}
	if inv.securityGroups, err = m.cloud.ListSecurityGroups(ctx, openstack.SecurityGroupFilter{Description: ownerDescription(id)}); err != nil {
		return nil, err
	}
	groups := map[string]bool{}
	keys := map[string]bool{}
	for _, s := range inv.servers {
		if g := s.Metadata[metaServerGroup]; g != "" {
			groups[g] = true
		}
		if s.Metadata[metaKeyPairGen] == "true" && s.Metadata[metaKeyPair] != "" {
			keys[s.Metadata[metaKeyPair]] = true
		}
	}
	for g := range groups {
		inv.serverGroupIDs = append(inv.serverGroupIDs, g)
	}
	for k := range keys {
		inv.keyPairs = append(inv.keyPairs, k)
	}
	return inv, nil
}

// Delete removes everything the cluster owns: servers (and their volume
// attachments), volumes, ports, the server group, the security group and a
// generated keypair. Objects already gone count as deleted, so it is safe to
// repeat and it cleans up after a create that failed halfway. known names
// objects a failed create made before any server carried the metadata.
func (m *Manager) Delete(ctx context.Context, id string, known Cluster) error {
	inv, err := m.discover(ctx, id, "")
	if err != nil {
		return &PhaseError{Phase: PhaseDelete, Err: err}
	}
	if known.ServerGroupID != "" && !contains(inv.serverGroupIDs, known.ServerGroupID) {
		inv.serverGroupIDs = append(inv.serverGroupIDs, known.ServerGroupID)
	}
	if known.KeyPairGenerated && known.KeyPairName != "" && !contains(inv.keyPairs, known.KeyPairName) {
		inv.keyPairs = append(inv.keyPairs, known.KeyPairName)
	}

	// Servers first: their deletion detaches volumes and frees ports.
	if err := parallel(inv.servers, func(s openstack.Server) error {
		for _, v := range inv.volumes {
			for _, a := range v.Attachments {
				if a.ServerID == s.ID {
					if err := m.cloud.DetachVolume(ctx, s.ID, v.ID); err != nil {
						return err
					}
				}
			}
		}
		return m.cloud.DeleteServer(ctx, s.ID)
	}); err != nil {
		return &PhaseError{Phase: PhaseDelete, Err: err}
	}
	if err := parallel(inv.volumes, func(v openstack.Volume) error { return m.cloud.DeleteVolume(ctx, v.ID) }); err != nil {
		return &PhaseError{Phase: PhaseDelete, Err: err}
	}
	if err := parallel(inv.ports, func(p openstack.Port) error { return m.cloud.DeletePort(ctx, p.ID) }); err != nil {
		return &PhaseError{Phase: PhaseDelete, Err: err}
	}
	var errs []error
	for _, g := range inv.serverGroupIDs {
		errs = append(errs, m.cloud.DeleteServerGroup(ctx, g))
	}
	for _, sg := range inv.securityGroups {
		errs = append(errs, m.cloud.DeleteSecurityGroup(ctx, sg.ID))
	}
	for _, k := range inv.keyPairs {
		errs = append(errs, m.cloud.DeleteKeyPair(ctx, k))
	}
	if err := errors.Join(errs...); err != nil {
		return &PhaseError{Phase: PhaseDelete, Err: err}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// parallel runs f on every item at once and joins the errors.
func parallel[T any](items []T, f func(T) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, it := range items {
		wg.Go(func() {
			if err := f(it); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d failed: %w", len(errs), len(items), errors.Join(errs...))
	}
	return nil
}
