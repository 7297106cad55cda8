package openstack

import (
	"errors"
	"net/http"
	"testing"
)

func serverBody(status, task, flavor, image string) map[string]any {
	return map[string]any{"server": map[string]any{"id": "srv-1", "status": status, "OS-EXT-STS:task_state": task,
		"flavor": map[string]any{"original_name": flavor}, "image": map[string]any{"id": image}}}
}

func flavorRoutes(f *fakeCloud) {
	f.Mux.HandleFunc("GET /compute/v2.1/flavors/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "detail" {
			writeJSON(w, 200, map[string]any{"flavors": []any{map[string]any{"id": "3", "name": "m1.medium"}}})
			return
		}
		if r.PathValue("id") == "3" {
			writeJSON(w, 200, map[string]any{"flavor": map[string]any{"id": "3", "name": "m1.medium"}})
			return
		}
		writeJSON(w, 404, map[string]any{"itemNotFound": map[string]any{"code": 404}})
	})
}

// A resize the cloud ends back on the old flavor (no VERIFY_RESIZE) is a
// ResizeFailedError: nothing to revert.
func TestResizeServerRefused(t *testing.T) {
	f := newFakeCloud(t)
	flavorRoutes(f)
	f.Mux.HandleFunc("POST /compute/v2.1/servers/srv-1/action", func(w http.ResponseWriter, r *http.Request) {
		if b := decode(t, r); b["resize"] == nil {
			t.Errorf("body %v", b)
		}
		w.WriteHeader(202)
	})
	f.Mux.HandleFunc("GET /compute/v2.1/servers/srv-1", sequence(
		status(200, serverBody("ACTIVE", "", "m1.small", "img")),
		status(200, serverBody("RESIZE", "resize_prep", "m1.small", "img")),
		status(200, serverBody("ACTIVE", "", "m1.small", "img")),
	))
	s, err := f.client(t).ResizeServer(fastCtx(t), "srv-1", "3")
	var rf *ResizeFailedError
	if !errors.As(err, &rf) || rf.OldFlavor != "m1.small" || rf.NewFlavor != "m1.medium" || s.Status != "ACTIVE" {
		t.Fatalf("got %+v, %v; want a ResizeFailedError from m1.small to m1.medium", s, err)
	}
	mustContain(t, err.Error(), "srv-1", "did not resize", "old flavor m1.small")
}

// A resize waits through RESIZE for VERIFY_RESIZE; confirm waits for ACTIVE.
func TestResizeServerThenConfirm(t *testing.T) {
	f := newFakeCloud(t)
	flavorRoutes(f)
	var actions []string
	f.Mux.HandleFunc("POST /compute/v2.1/servers/srv-1/action", func(w http.ResponseWriter, r *http.Request) {
		for k := range decode(t, r) {
			actions = append(actions, k)
		}
		w.WriteHeader(202)
	})
	f.Mux.HandleFunc("GET /compute/v2.1/servers/srv-1", sequence(
		status(200, serverBody("ACTIVE", "", "m1.small", "img")),
		status(200, serverBody("RESIZE", "resize_migrating", "m1.small", "img")),
		status(200, serverBody("VERIFY_RESIZE", "", "m1.medium", "img")),
		status(200, serverBody("VERIFY_RESIZE", "", "m1.medium", "img")),
		status(200, serverBody("ACTIVE", "", "m1.medium", "img")),
	))
	c := f.client(t)
	s, err := c.ResizeServer(fastCtx(t), "srv-1", "3")
	if err != nil || s.Status != "VERIFY_RESIZE" {
		t.Fatalf("resize: %+v, %v", s, err)
	}
	if s, err = c.ConfirmResize(fastCtx(t), "srv-1"); err != nil || s.Status != "ACTIVE" || s.FlavorName != "m1.medium" {
		t.Fatalf("confirm: %+v, %v", s, err)
	}
	if len(actions) != 2 || actions[0] != "resize" || actions[1] != "confirmResize" {
		t.Errorf("actions %v", actions)
	}
}

// A rebuild is done once the server is ACTIVE on the new image with no
// task running: an ACTIVE still on the old image has not started.
func TestRebuildServerWaitsForNewImage(t *testing.T) {
	f := newFakeCloud(t)
	f.Mux.HandleFunc("POST /compute/v2.1/servers/srv-1/action", func(w http.ResponseWriter, r *http.Request) {
		b := decode(t, r)
		rb, _ := b["rebuild"].(map[string]any)
		if rb["imageRef"] != "img-2" {
			t.Errorf("body %v", b)
		}
		writeJSON(w, 202, serverBody("REBUILD", "rebuilding", "m1.small", "img-2"))
	})
	f.Mux.HandleFunc("GET /compute/v2.1/servers/srv-1", sequence(
		status(200, serverBody("ACTIVE", "", "m1.small", "img-1")),
		status(200, serverBody("REBUILD", "rebuild_spawning", "m1.small", "img-2")),
		status(200, serverBody("ACTIVE", "", "m1.small", "img-2")),
	))
	s, err := f.client(t).RebuildServer(fastCtx(t), "srv-1", "img-2")
	if err != nil || s.ImageID != "img-2" || s.Status != "ACTIVE" {
		t.Fatalf("got %+v, %v", s, err)
	}
}
