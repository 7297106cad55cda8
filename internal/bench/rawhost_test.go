package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/glance"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/host"
	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/image"
)

// quickstartImage is the image examples/quickstart boots.
const quickstartImage = "debian-12-mariadb-galera"

// rawHostKind is the kind of host the raw measurements boot: the kind the
// cloud's servers are (LOCALCLOUD_SERVER_INIT in the env the local cloud
// writes), so that the bench compares like with like. On a systemd cloud a
// raw host boots the quickstart's image from the cloud's catalog with
// systemd as PID 1 and a NoCloud seed, as Nova's servers do; on an
// init-less cloud it is an init-less host (sshd as PID 1 over the
// machine's filesystem).
type rawHostKind struct {
	root string // the image's root filesystem; "" for init-less hosts
}

// cloudHostKind reads the cloud's kind and, for systemd, makes sure the
// image is built (outside any timing: the cloud built it already).
func cloudHostKind(ctx context.Context, t *testing.T) rawHostKind {
	t.Helper()
	if os.Getenv("LOCALCLOUD_SERVER_INIT") == "none" {
		return rawHostKind{}
	}
	for _, img := range glance.Catalog() {
		if img.Name == quickstartImage {
			built, err := image.Ensure(ctx, img.Recipe, t.Logf)
			must(t, err)
			return rawHostKind{root: built.Root}
		}
	}
	t.Fatalf("image %s is not in the local cloud's catalog", quickstartImage)
	return rawHostKind{}
}

// String names the kind for the report.
func (k rawHostKind) String() string {
	if k.root == "" {
		return "init-less"
	}
	return "systemd (" + quickstartImage + ", cloud-init)"
}

// options are a raw host's options: on systemd the image and a NoCloud
// seed with an instance ID of its own, no user data (the provider sends
// none), so StartHost returns once cloud-init has made the host key and
// sshd answers, as Nova's servers turn ACTIVE.
func (k rawHostKind) options(t *testing.T, name, pub string) host.Options {
	t.Helper()
	opts := host.Options{Name: name, AuthorizedKeys: []string{pub}}
	if k.root == "" {
		return opts
	}
	id := make([]byte, 8)
	_, err := rand.Read(id)
	must(t, err)
	opts.Image = k.root
	opts.NoCloud = &host.NoCloudSeed{InstanceID: "raw-" + hex.EncodeToString(id)}
	return opts
}
