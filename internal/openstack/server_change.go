package openstack

import (
	"context"
	"errors"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// resizeRefused is the pseudo-status of a server that Nova put back in
// its old state on its old flavor without a VERIFY_RESIZE: the scheduler
// or the compute host refused the resize (Nova shows no fault then; the
// server's instance actions say why).
const resizeRefused = "RESIZE_REFUSED"

// ResizeFailedError says Nova ended a resize with the server back on its
// old flavor, untouched: nothing is left to revert.
type ResizeFailedError struct {
	ServerID  string
	OldFlavor string
	NewFlavor string
	Fault     string
}

func (e *ResizeFailedError) Error() string {
	msg := fmt.Sprintf("Nova did not resize server %s to flavor %s: it is ACTIVE on its old flavor %s again "+
		"(the scheduler or the compute host refused it; `openstack server event list %s` says why)", e.ServerID, e.NewFlavor, e.OldFlavor, e.ServerID)
	if e.Fault != "" {
		msg += ": " + e.Fault
	}
	return msg
}

// ResizeServer asks Nova to move the server to another flavor and waits
// until the resize awaits confirmation (VERIFY_RESIZE) or, on a cloud
// that confirms by itself, the server is ACTIVE on the new flavor. A
// resize Nova refuses ends with *ResizeFailedError; ERROR with a
// *StatusError. The server as last seen is returned with the error, so
// the caller can tell whether there is a resize to revert.
func (c *Client) ResizeServer(ctx context.Context, id, flavorID string) (Server, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return Server{}, err
	}
	before, err := c.GetServer(ctx, id)
	if err != nil {
		return Server{}, fmt.Errorf("resize server %s: %w", id, err)
	}
	want, err := c.resolveFlavor(ctx, flavorID)
	if err != nil {
		return before, fmt.Errorf("resize server %s: %w", id, err)
	}
	if err := servers.Resize(ctx, sc, id, servers.ResizeOpts{FlavorRef: want.ID}).ExtractErr(); err != nil {
		return before, fmt.Errorf("resize server %s to flavor %s: %w", id, want.Name, err)
	}
	last := before
	_, err = c.waitStatus(ctx, Wait{What: "server " + id, Target: []string{"VERIFY_RESIZE", "RESIZED"}, Failed: []string{"ERROR", resizeRefused}},
		c.pollServer(id, &last, func(s Server) string {
			if (s.Status == "ACTIVE" || s.Status == "SHUTOFF") && s.TaskState == "" {
				// The task is over without VERIFY_RESIZE: confirmed by the
				// cloud on the new flavor, or refused on the old one.
				if s.FlavorName == want.Name && want.Name != before.FlavorName {
					return "RESIZED"
				}
				return resizeRefused
			}
			return s.Status
		}))
	if se := (*StatusError)(nil); errors.As(err, &se) && se.Status == resizeRefused {
		return last, &ResizeFailedError{ServerID: id, OldFlavor: before.FlavorName, NewFlavor: want.Name, Fault: last.Fault}
	}
	if err != nil {
		return last, fmt.Errorf("wait for the resize of server %s to flavor %s: %w", id, want.Name, err)
	}
	return last, nil
}

// ConfirmResize confirms a resize in VERIFY_RESIZE and waits until the
// server is ACTIVE (or SHUTOFF, if it was off) on its new flavor.
func (c *Client) ConfirmResize(ctx context.Context, id string) (Server, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return Server{}, err
	}
	if err := servers.ConfirmResize(ctx, sc, id).ExtractErr(); err != nil {
		return Server{}, fmt.Errorf("confirm the resize of server %s: %w", id, err)
	}
	return c.waitServerSettled(ctx, id, "confirm the resize of", "VERIFY_RESIZE")
}

// RevertResize takes a resize in VERIFY_RESIZE back to the old flavor and
// waits until the server is ACTIVE (or SHUTOFF) on it.
func (c *Client) RevertResize(ctx context.Context, id string) (Server, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return Server{}, err
	}
	if err := servers.RevertResize(ctx, sc, id).ExtractErr(); err != nil {
		return Server{}, fmt.Errorf("revert the resize of server %s: %w", id, err)
	}
	return c.waitServerSettled(ctx, id, "revert the resize of", "VERIFY_RESIZE", "REVERT_RESIZE", "RESIZE")
}

// RebuildServer rebuilds the server from another image (Nova's rebuild):
// the root disk is new, ports and attached volumes stay. It waits until
// the server is ACTIVE again with the new image and no task running.
func (c *Client) RebuildServer(ctx context.Context, id, imageID string) (Server, error) {
	sc, err := c.Compute(ctx)
	if err != nil {
		return Server{}, err
	}
	if err := servers.Rebuild(ctx, sc, id, servers.RebuildOpts{ImageRef: imageID}).Err; err != nil {
		return Server{}, fmt.Errorf("rebuild server %s from image %s: %w", id, imageID, err)
	}
	var last Server
	_, err = c.waitStatus(ctx, Wait{What: "server " + id, Target: []string{"ACTIVE"}},
		c.pollServer(id, &last, func(s Server) string {
			if s.Status == "ACTIVE" && (s.TaskState != "" || s.ImageID != imageID) {
				return "REBUILD" // accepted, not started yet
			}
			return s.Status
		}))
	if err != nil {
		return last, fmt.Errorf("wait for the rebuild of server %s: %w", id, err)
	}
	return last, nil
}

// UpdateServerMetadata sets these metadata keys of the server, keeping
// the others.
func (c *Client) UpdateServerMetadata(ctx context.Context, id string, meta map[string]string) error {
	sc, err := c.Compute(ctx)
	if err != nil {
		return err
	}
	if _, err := servers.UpdateMetadata(ctx, sc, id, servers.MetadataOpts(meta)).Extract(); err != nil {
		return fmt.Errorf("update metadata of server %s: %w", id, err)
	}
	return nil
}

// waitServerSettled waits until no task runs on the server and it is
// ACTIVE or SHUTOFF; the statuses of the action that is ending are
// pending.
func (c *Client) waitServerSettled(ctx context.Context, id, action string, pending ...string) (Server, error) {
	var last Server
	_, err := c.waitStatus(ctx, Wait{What: "server " + id, Target: []string{"ACTIVE", "SHUTOFF"}, Pending: pending},
		c.pollServer(id, &last, func(s Server) string {
			if s.TaskState != "" && (s.Status == "ACTIVE" || s.Status == "SHUTOFF") {
				return pending[0]
			}
			return s.Status
		}))
	if err != nil {
		return last, fmt.Errorf("%s server %s: %w", action, id, err)
	}
	return last, nil
}

// pollServer looks at the server once, keeps it in last and reports the
// status statusOf derives from it (an action's own view of "done").
func (c *Client) pollServer(id string, last *Server, statusOf func(Server) string) PollFunc {
	return func(ctx context.Context) (Observation, error) {
		s, err := c.GetServer(ctx, id)
		if err != nil {
			return Observation{}, err
		}
		*last = s
		return Observation{Status: statusOf(s), Fault: s.Fault}, nil
	}
}
