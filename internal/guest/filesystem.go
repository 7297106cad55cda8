package guest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// GrowFilesystem grows the datadir's filesystem on one node to its data
// volume's size, online: the server keeps running. The tool follows the
// mounted filesystem: xfs_growfs for XFS (what
// ensureVolume makes; needs CAP_SYS_ADMIN), resize2fs on the device for an
// ext4 volume made before (needs CAP_SYS_RESOURCE too). It first waits until the block device shows at least minBytes,
// since a cloud tells the guest of an extended volume asynchronously. It
// returns the filesystem's size in bytes afterwards.
func (c *Cluster) GrowFilesystem(ctx context.Context, nodeName string, minBytes int64) (int64, error) {
	n, err := c.node(nodeName)
	if err != nil {
		return 0, err
	}
	if n.DataVolume.isZero() {
		return 0, &NodeError{Phase: PhaseFilesystem, Node: n.Name, Err: errors.New("the node has no data volume")}
	}
	start := time.Now()
	// The volume's own device, not findmnt's SOURCE: a guest whose datadir
	// is bound into place lists the bind's source first.
	script := fmt.Sprintf(`set -e
%[3]s
if ! findmnt -rn -M %[1]s >/dev/null; then echo "no filesystem is mounted at %[1]s" >&2; exit 3; fi
for i in $(seq 1 120); do
  [ "$(blockdev --getsize64 "$dev")" -ge %[2]d ] && break
  if [ "$i" = 120 ]; then echo "$dev is $(blockdev --getsize64 "$dev") bytes after 60 s, want at least %[2]d" >&2; exit 4; fi
  sleep 0.5
done
# The volume's own mount: in a guest whose datadir is a bind, findmnt -M
# alone lists the bind's filesystem too.
fstype=$(findmnt -no FSTYPE -S "$dev" -M %[1]s || true)
if [ -z "$fstype" ]; then echo "$dev is not mounted at %[1]s" >&2; exit 3; fi
case "$fstype" in
xfs)
  # xfs_growfs opens the device of the first mount-table entry for its
  # path, which for a datadir bound into place is the bind's: it grows
  # through a second mount of the volume at a private directory instead.
  grow=$(mktemp -d /tmp/pxc-growfs.XXXXXX)
  trap 'umount "$grow" 2>/dev/null || true; rmdir "$grow"' EXIT
  mount -t xfs -o noatime "$dev" "$grow"
  if ! out=$(xfs_growfs "$grow" 2>&1); then echo "xfs_growfs: $out" >&2; exit 1; fi ;;
ext4)
  if ! out=$(resize2fs "$dev" 2>&1); then
    case "$out" in
    *"Permission denied"*) echo "resize2fs: online resize needs CAP_SYS_RESOURCE, which root in this guest lacks (a container without it?): $out" >&2; exit 5 ;;
    esac
    echo "$out" >&2; exit 1
  fi ;;
*) echo "the datadir's filesystem is $fstype; only xfs and ext4 grow online here" >&2; exit 6 ;;
esac
df -B1 --output=size %[1]s | tail -n 1`, dataDir, minBytes, findDataDevice(n.DataVolume))
	out, err := n.run(ctx, script, nil)
	if err != nil {
		return 0, &NodeError{Phase: PhaseFilesystem, Node: n.Name, Err: fmt.Errorf("grow filesystem: %w", err)}
	}
	size := parseInt64(strings.TrimSpace(out))
	if size <= 0 {
		return 0, &NodeError{Phase: PhaseFilesystem, Node: n.Name, Err: fmt.Errorf("grow filesystem: unexpected size %q", strings.TrimSpace(out))}
	}
	c.emitDone("filesystem", n.Name, start, "filesystem grown online to %d MiB", size>>20)
	return size, nil
}
