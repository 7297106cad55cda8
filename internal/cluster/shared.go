package cluster

import (
	"context"
	"sync"
	"time"
)

// sharedFor bounds how long a listed inventory may stand in for a new list.
const sharedFor = time.Minute

// writeCounter is a cloud that counts the requests it sent that may have
// changed something (*openstack.Client does).
type writeCounter interface{ Writes() uint64 }

// sharedInventory is an inventory a Read listed, with the cloud's write
// count at the time.
type sharedInventory struct {
	inv    *inventory
	writes uint64
	at     time.Time
}

type sharedKey struct {
	cloud     Cloud
	clusterID string
}

// shared holds the last inventory listed per cloud and cluster, for every
// Manager of the process: Terraform asks the provider for the cluster's
// refresh and then for the pool's plan, each with a Manager of its own.
var shared sync.Map // sharedKey -> sharedInventory

// remember keeps inv for ReadShared when the cloud counts its writes.
func (m *Manager) remember(id string, inv *inventory) {
	wc, ok := m.cloud.(writeCounter)
	if !ok {
		return
	}
	shared.Store(sharedKey{m.cloud, id}, sharedInventory{inv: inv, writes: wc.Writes(), at: time.Now()})
}

// recent returns the inventory a Read listed within sharedFor, if this
// process has written nothing to the cloud since.
func (m *Manager) recent(id string) *inventory {
	wc, ok := m.cloud.(writeCounter)
	if !ok {
		return nil
	}
	v, ok := shared.Load(sharedKey{m.cloud, id})
	if !ok {
		return nil
	}
	s := v.(sharedInventory)
	if s.writes != wc.Writes() || time.Since(s.at) > sharedFor {
		return nil
	}
	return s.inv
}

// ReadShared is Read without spec (cloud objects only) that reuses what a
// Read of the same cluster listed moments ago in this process, when
// nothing was written to the cloud since: a pool's plan needs the nodes the
// cluster's refresh has just listed, not a second round of list calls.
func (m *Manager) ReadShared(ctx context.Context, id string) (*Cluster, error) {
	if inv := m.recent(id); inv != nil {
		if inv.empty() {
			return nil, ErrNotFound
		}
		return inv.cluster(id), nil
	}
	return m.Read(ctx, id, nil, nil)
}
