package nova

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/core"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

func (c *Service) attachmentBody(s *state.Server, sv state.ServerVolume, mv core.Microversion) map[string]any {
	b := map[string]any{"device": sv.Device, "id": sv.VolumeID, "serverId": s.ID, "volumeId": sv.VolumeID}
	if mv.AtLeast(2, 70) {
		b["tag"] = nil
	}
	if mv.AtLeast(2, 79) {
		b["delete_on_termination"] = false
	}
	return b
}

func (c *Service) listAttachments(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok := c.serverOr404(w, r)
	if !ok {
		return
	}
	out := []any{}
	for _, sv := range s.Volumes {
		out = append(out, c.attachmentBody(s, sv, mv))
	}
	core.WriteJSON(w, 200, map[string]any{"volumeAttachments": out})
}

func (c *Service) getAttachment(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok := c.serverOr404(w, r)
	if !ok {
		return
	}
	for _, sv := range s.Volumes {
		if sv.VolumeID == r.PathValue("vol") {
			core.WriteJSON(w, 200, map[string]any{"volumeAttachment": c.attachmentBody(s, sv, mv)})
			return
		}
	}
	core.WriteError(w, core.Compute, core.Errf(404, "Instance %s is not attached.", r.PathValue("vol")))
}

// nextDevice picks /dev/vdb, /dev/vdc, ... (vda is the root disk).
func nextDevice(s *state.Server) string {
	for l := 'b'; l <= 'z'; l++ {
		dev := "/dev/vd" + string(l)
		if !slices.ContainsFunc(s.Volumes, func(v state.ServerVolume) bool { return v.Device == dev }) {
			return dev
		}
	}
	return ""
}

var attachStates = []string{"active", "stopped", "resized"}

func (c *Service) attachVolume(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	var req struct {
		VA *struct {
			VolumeID string `json:"volumeId"`
			Device   string `json:"device"`
			Tag      string `json:"tag"`
			DoT      *bool  `json:"delete_on_termination"`
		} `json:"volumeAttachment"`
	}
	if err := core.ReadJSON(r, &req); err != nil || req.VA == nil || req.VA.VolumeID == "" {
		core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute volumeAttachment. 'volumeId' is a required property"))
		return
	}
	if req.VA.DoT != nil && !mv.AtLeast(2, 79) {
		core.WriteError(w, core.Compute, core.Errf(400, "Invalid input for field/attribute volumeAttachment. Additional properties are not allowed ('delete_on_termination' was unexpected)"))
		return
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok := c.serverOr404(w, r)
	if !ok {
		return
	}
	if s.Deleting || !slices.Contains(attachStates, s.VMState) || s.TaskState != "" {
		core.WriteError(w, core.Compute, invalidState(s, "attach_volume"))
		return
	}
	v, ok := c.St.Volumes[req.VA.VolumeID]
	if !ok {
		core.WriteError(w, core.Compute, core.Errf(404, "Volume %s could not be found.", req.VA.VolumeID))
		return
	}
	if slices.ContainsFunc(s.Volumes, func(sv state.ServerVolume) bool { return sv.VolumeID == v.ID }) {
		core.WriteError(w, core.Compute, core.Errf(400, "Invalid volume: volume %s already attached", v.ID))
		return
	}
	if v.Status != "available" {
		core.WriteError(w, core.Compute, core.Errf(400, "Invalid volume: volume %s status must be 'available'. Currently in '%s'", v.ID, v.Status))
		return
	}
	// Nova's default [cinder] cross_az_attach = True: zones may differ.
	dev := nextDevice(s)
	if dev == "" {
		core.WriteError(w, core.Compute, core.Errf(400, "No free disk device names for prefix 'vd'"))
		return
	}
	sv := state.ServerVolume{VolumeID: v.ID, Device: dev}
	s.Volumes = append(s.Volumes, sv)
	v.Status = "reserved"
	v.UpdatedAt = time.Now()
	c.Save()
	sid, vid := s.ID, v.ID
	c.Go(func(ctx context.Context) { c.doAttach(ctx, sid, vid, dev) })
	core.WriteJSON(w, 200, map[string]any{"volumeAttachment": c.attachmentBody(s, sv, mv)})
}

// doAttach: reserved -> attaching -> in-use, the disk visible in the host.
func (c *Service) doAttach(ctx context.Context, sid, vid, dev string) {
	c.SleepStep(ctx)
	c.Mu.Lock()
	if v, ok := c.St.Volumes[vid]; ok {
		v.Status = "attaching"
		c.Save()
	}
	c.Mu.Unlock()
	err := c.plugDisk(ctx, sid, vid)
	c.SleepStep(ctx)
	c.Mu.Lock()
	defer c.Mu.Unlock()
	if err != nil {
		c.Log.Error("attach volume", "server", sid, "volume", vid, "err", err)
		c.releaseVolumeLocked(sid, vid)
	} else {
		c.attachedLocked(sid, vid, dev)
	}
	c.Save()
}

// plugDisk makes a volume's disk appear in its server's running host
// (an attach, or a build's boot volumes); callers hold no lock.
func (c *Service) plugDisk(ctx context.Context, sid, vid string) error {
	c.Mu.Lock()
	h, d := c.Hosts[sid], c.Disks[vid]
	c.Mu.Unlock()
	if h == nil || d == nil {
		return fmt.Errorf("server %s has no running host or volume %s no disk", sid, vid)
	}
	return h.AttachDisk(ctx, d, serialOf(vid))
}

// attachedLocked records a plugged volume as Cinder does once Nova
// completes the attachment: in-use, with an attachment to the server at
// dev. Nothing when the server is gone or being deleted (its teardown
// frees the volume). Callers hold c.Mu and save.
func (c *Service) attachedLocked(sid, vid, dev string) {
	v, vok := c.St.Volumes[vid]
	s, sok := c.St.Servers[sid]
	if !vok || !sok || s.Deleting {
		return
	}
	v.Status = "in-use"
	v.Attachments = append(v.Attachments, state.VolumeAttachment{AttachmentID: core.NewUUID(), ServerID: sid, Device: dev, AttachedAt: time.Now()})
	v.UpdatedAt = time.Now()
}

// releaseVolumeLocked gives a volume back from a server it was reserved
// for or attached to (a failed attach or build, a deleted server): its
// attachment to the server goes, the server no longer lists it, and
// without other attachments it is available. Callers hold c.Mu and save.
func (c *Service) releaseVolumeLocked(sid, vid string) {
	if v, ok := c.St.Volumes[vid]; ok {
		v.Attachments = slices.DeleteFunc(v.Attachments, func(a state.VolumeAttachment) bool { return a.ServerID == sid })
		if len(v.Attachments) == 0 && slices.Contains([]string{"in-use", "detaching", "attaching", "reserved"}, v.Status) {
			v.Status = "available"
		}
		v.UpdatedAt = time.Now()
	}
	if s, ok := c.St.Servers[sid]; ok {
		s.Volumes = slices.DeleteFunc(s.Volumes, func(sv state.ServerVolume) bool { return sv.VolumeID == vid })
	}
}

func (c *Service) detachVolume(w http.ResponseWriter, r *http.Request, mv core.Microversion) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	s, ok := c.serverOr404(w, r)
	if !ok {
		return
	}
	vid := r.PathValue("vol")
	if !slices.ContainsFunc(s.Volumes, func(sv state.ServerVolume) bool { return sv.VolumeID == vid }) {
		core.WriteError(w, core.Compute, core.Errf(404, "Instance %s is not attached.", vid))
		return
	}
	if s.Deleting || !slices.Contains(attachStates, s.VMState) || s.TaskState != "" {
		core.WriteError(w, core.Compute, invalidState(s, "detach_volume"))
		return
	}
	v, ok := c.St.Volumes[vid]
	if !ok || v.Status != "in-use" {
		st := "unknown"
		if ok {
			st = v.Status
		}
		core.WriteError(w, core.Compute, core.Errf(400, "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach. Currently in '%s'", st))
		return
	}
	v.Status = "detaching"
	v.UpdatedAt = time.Now()
	c.Save()
	sid := s.ID
	c.Go(func(ctx context.Context) { c.doDetach(ctx, sid, vid) })
	w.WriteHeader(http.StatusAccepted)
}

func (c *Service) doDetach(ctx context.Context, sid, vid string) {
	c.SleepStep(ctx)
	c.Mu.Lock()
	h := c.Hosts[sid]
	c.Mu.Unlock()
	var err error
	if h != nil {
		err = h.DetachDisk(ctx, serialOf(vid))
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	v, vok := c.St.Volumes[vid]
	if err != nil {
		c.Log.Error("detach volume", "server", sid, "volume", vid, "err", err)
		if vok {
			v.Status = "in-use" // os-roll_detaching
		}
		c.Save()
		return
	}
	if s, ok := c.St.Servers[sid]; ok {
		s.Volumes = slices.DeleteFunc(s.Volumes, func(sv state.ServerVolume) bool { return sv.VolumeID == vid })
	}
	if vok {
		v.Attachments = slices.DeleteFunc(v.Attachments, func(a state.VolumeAttachment) bool { return a.ServerID == sid })
		v.Status = "available"
		v.UpdatedAt = time.Now()
	}
	c.Save()
}
