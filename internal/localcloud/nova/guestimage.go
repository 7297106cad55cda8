package nova

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/glance"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/image"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/state"
)

// guestBoot is what a server's host boots, read from its record under
// c.Mu and used without it (an image build takes minutes).
type guestBoot struct {
	imageID    string
	instanceID string
	userData   string // base64, as the API took it
	hideKeys   bool
}

// guestBootLocked reads a server's boot settings; callers hold c.Mu.
func (c *Service) guestBootLocked(s *state.Server) guestBoot {
	return guestBoot{imageID: s.ImageID, instanceID: s.ID, userData: s.UserData, hideKeys: c.consoleHidesFingerprints(s.Name)}
}

// hostOptions completes a host's options with what the server's image
// boots: in systemd mode (the default) the image's root filesystem, built
// on this machine's first use, and a NoCloud seed with the server's
// instance ID, hostname, keypair key and user data; init-less: nothing.
func (c *Service) hostOptions(ctx context.Context, g guestBoot, opts host.Options) (host.Options, error) {
	if c.cfg.InitLess {
		return opts, nil
	}
	img, ok := glance.Find(g.imageID)
	if !ok {
		return opts, fmt.Errorf("image %s is not in the catalog", g.imageID)
	}
	built, err := image.Ensure(ctx, img.Recipe, c.cfg.Logf)
	if err != nil {
		return opts, fmt.Errorf("image %s: %w", img.Name, err)
	}
	userData, err := base64.StdEncoding.DecodeString(g.userData)
	if err != nil {
		return opts, fmt.Errorf("user data: %w", err)
	}
	opts.Image = built.Root
	opts.NoCloud = &host.NoCloudSeed{InstanceID: g.instanceID, UserData: string(userData), HideHostKeys: g.hideKeys}
	return opts, nil
}

// serialConsole is a systemd host's console output as lines (its real boot
// log, carriage returns of the pseudo-terminal dropped).
func serialConsole(h *host.Host) []string {
	b, err := h.SerialLog()
	if err != nil {
		return nil
	}
	text := strings.TrimRight(strings.ReplaceAll(string(b), "\r", ""), "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}
