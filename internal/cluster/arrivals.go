package cluster

import (
	"context"
	"errors"
	"sync"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// errNeverUp is what the guests hear of a server whose provisioning ended
// without it coming up (the provisioning's own error says why).
var errNeverUp = errors.New("the server's provisioning ended before it was up")

// arrivals hands a create's nodes to the guest library as their cloud
// objects come: each node's data volume serial once the volume exists
// (the guests open once every one does, long before the first server is
// up), then each node's SSH target once its server is ACTIVE with its host
// key verified (guest.Node.Await). The first node up and prepared so
// bootstraps while slower servers still boot, and the others join in the
// order they are prepared: on a real cloud boot times spread over tens of
// seconds.
type arrivals struct {
	mu          sync.Mutex
	nodes       []arrival
	volumesLeft int
	volumes     chan struct{} // closed once every volume exists, or end
	ended       error         // why the provisioning ended early (end)
}

// arrival is one node on its way.
type arrival struct {
	name, ip   string
	withVolume bool
	volumeID   string
	up         chan struct{} // closed once target or err is set
	target     *guest.SSHTarget
	err        error
}

func newArrivals(nodes []Node) *arrivals {
	a := &arrivals{nodes: make([]arrival, len(nodes)), volumes: make(chan struct{})}
	for i, n := range nodes {
		withVolume := n.Kind != KindArbitrator
		a.nodes[i] = arrival{name: n.Name, ip: n.IP, withVolume: withVolume, up: make(chan struct{})}
		if withVolume {
			a.volumesLeft++
		}
	}
	if a.volumesLeft == 0 {
		close(a.volumes)
	}
	return a
}

// volumeMade records that node n's data volume exists.
func (a *arrivals) volumeMade(n *Node) {
	a.mu.Lock()
	defer a.mu.Unlock()
	x := &a.nodes[n.Index-1]
	if x.volumeID != "" || a.volumesLeft == 0 {
		return
	}
	x.volumeID = n.VolumeID
	if a.volumesLeft--; a.volumesLeft == 0 {
		close(a.volumes)
	}
}

// arrive hands node n's server to the guests, reached through t.
func (a *arrivals) arrive(n *Node, t *guest.SSHTarget) {
	a.mu.Lock()
	defer a.mu.Unlock()
	x := &a.nodes[n.Index-1]
	select {
	case <-x.up:
	default:
		x.target = t
		close(x.up)
	}
}

// end is the end of the servers' provisioning: every node not up by now
// never will be, and the guests waiting for it hear err (or errNeverUp).
func (a *arrivals) end(err error) {
	if err == nil {
		err = errNeverUp
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range a.nodes {
		x := &a.nodes[i]
		select {
		case <-x.up:
		default:
			x.err = err
			close(x.up)
		}
	}
	if a.volumesLeft > 0 {
		a.volumesLeft, a.ended = 0, err
		close(a.volumes)
	}
}

// guestNodes waits until every data volume exists and returns the nodes
// for the guest library, each waiting for its server.
func (a *arrivals) guestNodes(ctx context.Context) ([]guest.Node, error) {
	select {
	case <-a.volumes:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended != nil {
		return nil, a.ended
	}
	out := make([]guest.Node, len(a.nodes))
	for i := range a.nodes {
		x := &a.nodes[i]
		out[i] = guest.Node{Name: x.name, Address: x.ip, Await: x.await}
		if x.volumeID != "" {
			out[i].DataVolume = guest.DataVolume{IDPrefix: prefix(x.volumeID, 20)}
		}
	}
	return out, nil
}

// await is guest.Node.Await for this node.
func (x *arrival) await(ctx context.Context) (*guest.SSHTarget, error) {
	select {
	case <-x.up:
		return x.target, x.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}
