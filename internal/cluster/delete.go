package cluster

import (
	"context"
	"errors"
	"slices"

	"github.com/pxc-provider/terraform-provider-pxc/internal/openstack"
)

// Delete removes everything the cluster owns: servers (and their volume
// attachments), volumes, ports, its own load balancer, the server group,
// the security group and a generated keypair. Objects already gone count
// as deleted, so it is safe to repeat and it cleans up after a create that
// failed halfway. known names objects a failed create made before any
// server carried the metadata (and the name its load balancer has).
func (m *Manager) Delete(ctx context.Context, id string, known Cluster) error {
	inv, err := m.discover(ctx, id, "")
	if err != nil {
		return &PhaseError{Phase: PhaseDelete, Err: err}
	}
	if known.ServerGroupID != "" && !slices.Contains(inv.serverGroupIDs, known.ServerGroupID) {
		inv.serverGroupIDs = append(inv.serverGroupIDs, known.ServerGroupID)
	}
	if known.KeyPairGenerated && known.KeyPairName != "" && !slices.Contains(inv.keyPairs, known.KeyPairName) {
		inv.keyPairs = append(inv.keyPairs, known.KeyPairName)
	}

	// The cluster's own load balancers go while the servers do.
	owner := Cluster{ID: id, Name: known.Name}
	if owner.Name == "" {
		owner.Name = inv.cluster(id).Name
	}
	lbsDeleted := make(chan error, 1)
	go func() { lbsDeleted <- m.deleteOwnLBs(ctx, &owner) }()
	// Servers first: their deletion detaches volumes and frees ports (Nova
	// does both, so one wait per server covers its attachment too).
	err = parallel(inv.servers, func(s openstack.Server) error {
		return m.cloud.DeleteServer(ctx, s.ID)
	})
	if err := errors.Join(err, <-lbsDeleted); err != nil {
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
	errs = append(errs, m.deleteCredential(ctx, known.BackupCredentialID))
	if err := errors.Join(errs...); err != nil {
		return &PhaseError{Phase: PhaseDelete, Err: err}
	}
	return nil
}
